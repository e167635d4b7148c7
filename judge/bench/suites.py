"""Benchmark suites by name: the committed sample, suites built from shared data, or files.

=========================  =====================================================================
``sample``                 ``benchmarks/suites/sample.jsonl`` in the checkout (hand-written)
``rm-bench``               built from ``DATA/rm-bench`` (3 principles x 798 prompts)
``prometheus:mt_bench``    ``DATA/prometheus-eval``: rubric as principle, GPT-4 scores as gold
``prometheus:vicuna``      (same)
``prometheus:hhh``         human-labelled chosen/rejected pairs under per-aspect rubrics
``pairwise:FILE``          chosen/rejected JSONL (RewardBench style)
``PATH``                   a suite JSONL, a saved HF dataset folder, or a parquet/csv/json
                           file (``PATH#SPLIT`` picks a split)
=========================  =====================================================================

``DATA`` is ``--data-dir``, else ``$JUDGE_DATA_DIR``, else ``../shared/data`` beside the checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from judge.bench import adapters, rmbench
from judge.bench.gold import GoldItem
from judge.bench.loaders import is_hf_dataset_dir, load_hf_dataset, load_jsonl
from judge.errors import BenchmarkError
from judge.hashing import json_hash

DATA_ENV = "JUDGE_DATA_DIR"
_CHECKOUT = Path(__file__).resolve().parents[2]
SAMPLE_PATH = _CHECKOUT / "benchmarks" / "suites" / "sample.jsonl"
JSONL_BUILDER = "jsonl/1"


@dataclass(frozen=True)
class Suite:
    """A built suite.

    Attributes:
        name: the spec it was built from (``rm-bench``, ``sample``, a path...).
        items: the ranking lists.
        builder: builder name and version (part of :attr:`version`).
        source: where the data came from.
    """

    name: str
    items: list[GoldItem]
    builder: str
    source: str
    version: str = field(init=False)
    """Content hash of the builder and every item: two runs with equal versions saw equal data."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", json_hash(
            {"builder": self.builder, "items": [it.content_hash() for it in self.items]}))


def data_dir(explicit: str | Path | None = None, *, need: str = "rm-bench") -> Path:
    """The shared data folder holding ``need``.

    Raises:
        BenchmarkError: not found; the message names ``--data-dir`` and ``$JUDGE_DATA_DIR``.
    """
    tried: list[str] = []
    if explicit is not None:
        candidates = [(Path(explicit), "--data-dir")]
    elif os.environ.get(DATA_ENV):
        candidates = [(Path(os.environ[DATA_ENV]), f"${DATA_ENV}")]
    else:
        candidates = [(_CHECKOUT.parent / "shared" / "data", "default beside the checkout")]
    for path, origin in candidates:
        if (path / need).is_dir():
            return path
        tried.append(f"{path / need} ({origin})")
    raise BenchmarkError(
        f"'{need}' data not found: looked in {'; '.join(tried)}. Pass --data-dir DIR or set "
        f"{DATA_ENV}=DIR, where DIR holds the '{need}/' folder")


def load_suite(spec: str, *, data: str | Path | None = None,
               principle: str | None = None) -> Suite:
    """Build a suite from its name or path (see the module docstring).

    Args:
        spec: suite name or path.
        data: the shared data folder (default: ``$JUDGE_DATA_DIR`` or beside the checkout).
        principle: default principle for ``pairwise:FILE`` rows that carry none.

    Raises:
        BenchmarkError: unknown suite or missing data.
        InputError: a bad row (file, line and field named).
    """
    if spec == "sample":
        if not SAMPLE_PATH.is_file():
            raise BenchmarkError(f"the sample suite ships with the repository checkout "
                                 f"({SAMPLE_PATH} not found); pass the path to sample.jsonl")
        return Suite("sample", load_jsonl(SAMPLE_PATH), JSONL_BUILDER, str(SAMPLE_PATH))
    if spec == "rm-bench":
        folder = data_dir(data, need="rm-bench") / "rm-bench"
        return Suite(spec, rmbench.build(folder), rmbench.BUILDER, str(folder))
    if spec.startswith("prometheus:"):
        folder = data_dir(data, need="prometheus-eval") / "prometheus-eval"
        name = spec.partition(":")[2]
        return Suite(spec, adapters.build_prometheus(folder, name), adapters.PROMETHEUS_BUILDER,
                     str(folder / adapters.PROMETHEUS_FILES.get(name, name)))
    if spec.startswith("pairwise:"):
        pairs = spec.partition(":")[2]
        return Suite(spec, adapters.build_pairwise(pairs, principle), adapters.PAIRWISE_BUILDER,
                     pairs)
    path_part, _, split = spec.partition("#")
    path = Path(path_part)
    if path.suffix == ".jsonl" and not split:
        return Suite(spec, load_jsonl(path), JSONL_BUILDER, str(path))
    if is_hf_dataset_dir(path) or path.is_file():
        return Suite(spec, load_hf_dataset(path, split or None), "hf-datasets/1", str(path))
    raise BenchmarkError(
        f"unknown suite '{spec}': use sample, rm-bench, prometheus:mt_bench|vicuna|hhh, "
        "pairwise:FILE.jsonl, or a path to a suite .jsonl / saved dataset (see `judge bench "
        "suites`)")


def describe_suites(data: str | Path | None = None) -> list[tuple[str, str, str]]:
    """``(name, description, where or why unavailable)`` for each named suite."""
    def where(need: str) -> str:
        try:
            return str(data_dir(data, need=need) / need)
        except BenchmarkError as exc:
            return f"unavailable: {exc}"

    rows = [
        ("sample", "hand-written RABench-style lists (5 categories x 4 domains)",
         str(SAMPLE_PATH) if SAMPLE_PATH.is_file() else "unavailable: not a checkout"),
        ("rm-bench", (f"RM-Bench responses ranked under {len(rmbench.principles())} principles "
                     "(correctness, then style)"), where("rm-bench")),
    ]
    for name in adapters.PROMETHEUS_FILES:
        rows.append((f"prometheus:{name}", "prometheus-eval rubric set (rubric = principle)",
                     where("prometheus-eval")))
    rows.append(("pairwise:FILE", "chosen/rejected JSONL (RewardBench style)", "any file"))
    rows.append(("PATH[#SPLIT]", "suite JSONL or Hugging Face dataset (saved or file)",
                 "any path"))
    return rows

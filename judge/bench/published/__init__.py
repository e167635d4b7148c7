"""The field's judge benchmarks, read from their own published files and scored their way.

=================  ==============================================================================
``judgebench``     JudgeBench pairs; net vote of both orders; accuracy per source family
``llmbar``         LLMBar subsets; accuracy and positional agreement per subset
``rewardbench2``   RewardBench 2; best-of-N per subset, Ties by its own rule, mean of subsets
``rmbench``        RM-Bench style matrix; hard / normal / easy per domain
``prefgraph``      preference graphs (IF-RewardBench style); accuracy and tau-b over gold edges
=================  ==============================================================================

Each benchmark's folder comes from ``--data PATH`` or ``$JUDGE_DATA`` (the benchmark's folder as
published, or any folder or file under it); nothing is downloaded. Every list is judged in a
seeded order and its reverse (:mod:`~judge.bench.published.orders`), which also gives the
position- and length-bias figures (:mod:`~judge.bench.published.bias`). The file formats and
scoring rules are in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from judge.bench.published import judgebench, llmbar, prefgraph, rewardbench2, rmstyle
from judge.bench.published.base import PublishedSuite
from judge.errors import BenchmarkError

DATA_ENV = "JUDGE_DATA"


@dataclass(frozen=True)
class Adapter:
    """One benchmark: how to build it and how its authors score it."""

    name: str
    title: str
    load: Callable[[Path], PublishedSuite]
    score: Callable[[Sequence[Mapping[str, Any]]], dict[str, Any]]
    item_score: Callable[[Mapping[str, Any]], float]
    markdown: Callable[[Mapping[str, Any]], list[str]]


def _adapter(module: ModuleType, title: str) -> Adapter:
    return Adapter(module.NAME, title, module.load, module.score, module.item_score,
                   module.markdown)


ADAPTERS: dict[str, Adapter] = {a.name: a for a in (
    _adapter(judgebench, "JudgeBench (Tan et al., ICLR 2025)"),
    _adapter(llmbar, "LLMBar (Zeng et al., ICLR 2024)"),
    _adapter(rewardbench2, "RewardBench 2 (Malik et al., 2025)"),
    _adapter(rmstyle, "RM-Bench style matrix (Liu et al., ICLR 2025)"),
    _adapter(prefgraph, "Preference graphs (IF-RewardBench style)"),
)}


def load_published(name: str, data: str | Path | None = None) -> PublishedSuite:
    """Build a published benchmark from ``data`` (default ``$JUDGE_DATA``).

    Raises:
        BenchmarkError: unknown name, or no path given, or the path does not exist.
        InputError: a file in the wrong format (adapter, file, line and field named).
    """
    if name not in ADAPTERS:
        raise BenchmarkError(f"unknown benchmark '{name}'; known: {', '.join(ADAPTERS)}")
    origin = "--data"
    if data is None:
        data, origin = os.environ.get(DATA_ENV) or None, f"${DATA_ENV}"
    if data is None:
        raise BenchmarkError(f"{name} reads the benchmark's own published files: pass --data "
                             f"PATH (its folder as published, or a file in it) or set "
                             f"{DATA_ENV}=PATH")
    path = Path(data)
    if not path.exists():
        raise BenchmarkError(f"{name}: {path} (from {origin}) does not exist")
    return ADAPTERS[name].load(path)


def adapter_for(manifest: Mapping[str, Any]) -> Adapter | None:
    """The adapter of a run directory's manifest (None for other suites)."""
    return ADAPTERS.get(str(manifest.get("benchmark") or ""))


__all__ = ["ADAPTERS", "DATA_ENV", "Adapter", "PublishedSuite", "adapter_for", "load_published"]

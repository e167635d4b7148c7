"""Run a judge over a suite, writing one record per list as it finishes; resumable.

A run directory holds:

- ``run.json``: the manifest (suite name and version, judge backend, model, template and its
  hash, seed, permutations, sampling, package version, dates, counts);
- ``records.jsonl``: one row per judged list, appended durably: a labelled record
  (:mod:`judge.record`: the item with its texts and principle, and the verdict) plus ``key``,
  ``config``, ``item_id``, ``item_hash``, ``category``, ``domain``, ``principle_name``, ``gold``
  and ``direct``. Each row's ``key`` is a hash of the item's content and the judge
  configuration, so a killed run started again with the same command skips what is done and
  judges the rest, with nothing lost or duplicated.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from judge._version import __version__
from judge.bench.gold import GoldItem
from judge.bench.published.base import PublishedSuite
from judge.bench.published.orders import ORDERS, judge_both_orders
from judge.bench.suites import Suite
from judge.core import Judge
from judge.engine.base import Engine
from judge.errors import BenchmarkError
from judge.hashing import json_hash
from judge.items import coerce_item
from judge.journal import Journal
from judge.record import make_record
from judge.types import Judgment

SCHEMA_VERSION = 2
MANIFEST = "run.json"
RECORDS = "records.jsonl"


@dataclass
class RunResult:
    """What one call of :func:`run_suite` did."""

    out_dir: Path
    planned: int
    """Lists in this run (the suite, or the ``limit`` spread over it)."""
    already_done: int
    """Lists found complete in the directory and skipped."""
    judged: int = 0
    """Lists judged by this call."""
    counts: Counter[str] = field(default_factory=Counter)
    """Statuses of every record in the run (old and new)."""


def now() -> str:
    """The current UTC time as ISO 8601, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def select(items: Sequence[GoldItem], limit: int | None) -> list[GoldItem]:
    """All items, or ``limit`` of them spread evenly over the suite (deterministic)."""
    n = len(items)
    if limit is None or limit >= n:
        return list(items)
    if limit < 1:
        raise BenchmarkError(f"--limit must be at least 1, got {limit}")
    return [items[(i * n) // limit] for i in range(limit)]


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """The manifest of a run directory.

    Raises:
        BenchmarkError: no ``run.json`` there, or it is not valid JSON.
    """
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise BenchmarkError(f"{out_dir}: not a bench run directory (no {MANIFEST}); create one "
                             "with `judge bench run SUITE --out DIR`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BenchmarkError(f"{path}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or "judge_config_hash" not in data:
        raise BenchmarkError(f"{path}: not a bench run manifest")
    return data


#: Fields every bench record has besides the journal's key, config and status.
RECORD_FIELDS = ("item_id", "category", "domain", "principle_name", "gold", "scores", "ranking")


def _check_record(record: dict[str, Any]) -> str | None:
    gold, scores = record["gold"], record["scores"]
    if not isinstance(gold, dict) or not all(isinstance(v, (int, float)) for v in gold.values()):
        return "'gold' is not an id -> number object"
    if scores is not None and not isinstance(scores, dict):
        return "'scores' is not an id -> number object"
    return None


def records_journal(out_dir: str | Path) -> Journal:
    """The run's ``records.jsonl`` as a :class:`~judge.journal.Journal`."""
    return Journal(Path(out_dir) / RECORDS, required=RECORD_FIELDS, check=_check_record)


def load_records(out_dir: str | Path, manifest: dict[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
    """The run's complete records for its judge configuration, one per key (a damaged line is
    skipped with a warning, and judged again by the next run)."""
    manifest = manifest or read_manifest(out_dir)
    journal = records_journal(out_dir)
    try:
        return journal.records(config=str(manifest["judge_config_hash"]))
    finally:
        journal.close()


def _record(key: str, config_hash: str, gold: GoldItem, judge: Judge, j: Judgment,
            direct: bool, orders: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item = coerce_item(gold.to_rank_item())
    extra = {} if orders is None else {  # both-orders runs of published benchmarks
        "orders": orders, "meta": gold.metadata,
        "lengths": {rid: len(text) for rid, text in gold.responses.items()}}
    return extra | {
        "key": key, "config": config_hash, "item_id": gold.id, "item_hash": gold.content_hash(),
        "category": gold.category, "domain": gold.domain,
        "principle_name": gold.principle_name(), "gold": gold.gold(), "direct": direct,
        **make_record(item, j, judge.principle_for(item)),
    }


def run_suite(suite: Suite, judge: Judge, out_dir: str | Path, *, chunk_size: int = 16,
              limit: int | None = None, progress: Callable[[int], None] | None = None,
              on_start: Callable[[int, int], None] | None = None,
              both_orders: bool = False, engine: Engine | None = None) -> RunResult:
    """Judge every list of ``suite`` not yet in ``out_dir``.

    Args:
        suite: the built suite.
        judge: the judge (its configuration is recorded and keys the records).
        out_dir: the run directory (created; an existing one is resumed).
        chunk_size: lists sent to :meth:`Judge.rank` at once.
        limit: judge only this many lists, spread evenly over the suite.
        progress: called with the number of lists just finished (for a progress bar).
        on_start: called once before judging with (lists planned, lists already done).
        both_orders: judge each list in a seeded order and its reverse (always on for the
            published benchmarks); the report then shows position and length bias.
        engine: a non-local engine (:mod:`judge.engine`) judges the chunks on its workers
            (each rebuilds the judge from its spec); the driver writes the same records.

    Raises:
        BenchmarkError: ``out_dir`` holds a run of another suite version or judge configuration.
    """
    if chunk_size < 1:
        raise BenchmarkError(f"chunk size must be at least 1, got {chunk_size}")
    published = suite if isinstance(suite, PublishedSuite) else None
    both = published is not None or both_orders
    if both and judge.permutations > 1:
        what = published.benchmark if published is not None else "--both-orders"
        raise BenchmarkError(f"--permutations does not apply to {what}: each list is judged in "
                             "a seeded order and its reverse; drop --permutations")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # the judge's identity (its fingerprint is the hash of this), plus the both-orders protocol
    config = judge.config().identity() | ({"orders": ORDERS} if both else {})
    config_hash = json_hash(config)
    manifest_path = out / MANIFEST
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        manifest = read_manifest(out)
        _check_same_run(out, manifest, suite, config, config_hash)
    items = select(suite.items, limit)
    keys = {it.id: json_hash({"item": it.content_hash(), "judge": config_hash}) for it in items}
    done = {str(r["key"]) for r in load_records(out, {"judge_config_hash": config_hash})}
    pending = [it for it in items if keys[it.id] not in done]
    result = RunResult(out, planned=len(items), already_done=len(items) - len(pending))
    manifest.update({
        "schema_version": SCHEMA_VERSION, "suite": suite.name, "suite_version": suite.version,
        "suite_builder": suite.builder, "suite_source": suite.source,
        "suite_lists": len(suite.items), "planned": len(items), "limit": limit,
        "judge": config, "judge_config_hash": config_hash, "package_version": __version__,
        "status": "running", "updated": now(),
    })
    if published is not None:
        manifest.update({"benchmark": published.benchmark,
                         "missing_subsets": list(published.missing)})
    manifest.setdefault("created", manifest["updated"])
    _write_manifest(manifest_path, manifest)
    if on_start:
        on_start(result.planned, result.already_done)
    direct = config["template"] is None
    journal = records_journal(out)
    try:
        if engine is not None and engine.name != "local":
            fingerprint = judge.fingerprint()

            def finished_rows(rows: list[dict[str, Any]]) -> None:
                for r in rows:
                    item = pending[r["index"]]
                    if r["config"] != fingerprint:
                        raise BenchmarkError("a worker's judge differs from this run's: give "
                                             "every node the same model files and package "
                                             "version")
                    journal.append([_record(keys[item.id], config_hash, item, judge,
                                            Judgment.model_validate(r["judgment"]), direct,
                                            r["orders"])])
                result.judged += len(rows)
                if progress:
                    progress(len(rows))

            engine.map(judge_both_rows if both else judge_rank_rows,
                       ({"index": n, "gold": it.model_dump(mode="json")}
                        for n, it in enumerate(pending)),
                       batch_size=chunk_size, on_batch=finished_rows)
            pending = []
        for start in range(0, len(pending), chunk_size):
            chunk = pending[start:start + chunk_size]

            def finished(i: int, j: Judgment, chunk: list[GoldItem] = chunk) -> None:
                item = chunk[i]
                journal.append([_record(keys[item.id], config_hash, item, judge, j, direct)])
                result.judged += 1
                if progress:
                    progress(1)

            def finished_both(i: int, orders: list[dict[str, Any]], j: Judgment,
                              chunk: list[GoldItem] = chunk) -> None:
                item = chunk[i]
                journal.append([_record(keys[item.id], config_hash, item, judge, j, direct,
                                        orders)])
                result.judged += 1
                if progress:
                    progress(1)

            if both:
                judge_both_orders(judge, chunk, finished_both)
            else:
                judge.rank([it.to_rank_item() for it in chunk], on_judgment=finished)
    finally:
        journal.close()
    wanted = set(keys.values())
    records = [r for r in load_records(out, manifest) if r["key"] in wanted]
    result.counts = Counter(str(r["status"]) for r in records)
    manifest.update({"status": "complete" if len(records) == len(items) else "incomplete",
                     "counts": dict(result.counts), "judged": len(records), "updated": now()})
    _write_manifest(manifest_path, manifest)
    return result


def judge_rank_rows(judge: Judge, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A worker's batch function: ``{index, gold}`` rows -> ``{index, config, judgment}``."""
    items = [GoldItem.model_validate(r["gold"]) for r in rows]
    verdicts = judge.rank([it.to_rank_item() for it in items])
    config = judge.fingerprint()
    return [{"index": r["index"], "config": config, "judgment": j.model_dump(mode="json"),
             "orders": None} for r, j in zip(rows, verdicts, strict=True)]


def judge_both_rows(judge: Judge, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As :func:`judge_rank_rows`, each list judged in both orders (``orders`` set)."""
    items = [GoldItem.model_validate(r["gold"]) for r in rows]
    out: list[dict[str, Any]] = [{} for _ in rows]
    config = judge.fingerprint()

    def done(i: int, orders: list[dict[str, Any]], j: Judgment) -> None:
        out[i] = {"index": rows[i]["index"], "config": config,
                  "judgment": j.model_dump(mode="json"), "orders": orders}

    judge_both_orders(judge, items, done)
    return out


def _check_same_run(out: Path, manifest: dict[str, Any], suite: Suite,
                    config: dict[str, Any], config_hash: str) -> None:
    problems = []
    if manifest.get("suite_version") != suite.version:
        problems.append(f"suite '{manifest.get('suite')}' version "
                        f"{manifest.get('suite_version')} (now '{suite.name}' {suite.version})")
    if manifest.get("judge_config_hash") != config_hash:
        old = manifest.get("judge", {})
        changed = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        problems.append(f"another judge configuration (differs in: {', '.join(changed)})")
    if problems:
        raise BenchmarkError(f"{out} holds a run of {'; '.join(problems)}; resume it with the "
                             "same suite and options, or use a new --out directory")

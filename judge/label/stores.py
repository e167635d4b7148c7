"""Where a label run keeps finished records, and carrying them between engines.

The local engine keeps them in a journal file (``OUTPUT.journal.jsonl``), the Ray engine in a
shard folder (``OUTPUT.shards``); both are keyed by the row's content hash.
"""

from __future__ import annotations

from pathlib import Path

from judge.engine.shards import ShardStore, default_shards_path
from judge.journal import Journal, default_journal_path
from judge.label.record import JOURNAL_FIELDS, check_journal_record


def adopt_other_engine(store: Journal | ShardStore, output: str | Path, config: str,
                       reusable: set[str] | frozenset[str],
                       finished: dict[str, tuple[str, str]]) -> int:
    """Copy the finished records that the *other* engine's default store holds (a run begun
    with ``--engine local`` and resumed with ``--engine ray``, or the reverse) into ``store``,
    so they are reused rather than judged again. Returns how many were copied."""
    other: Journal | ShardStore
    if isinstance(store, ShardStore):
        path = default_journal_path(output)
        if not path.is_file():
            return 0
        other = Journal(path, required=JOURNAL_FIELDS, check=check_journal_record)
    else:
        path = default_shards_path(output)
        if not path.is_dir():
            return 0
        other = ShardStore(path, required=JOURNAL_FIELDS, check=check_journal_record)
    try:
        wanted = [k for k, (cfg, status) in other.scan().items()
                  if cfg == config and status in reusable and k not in finished]
        records = [r for r in (other.read(k) for k in wanted) if r is not None]
    finally:
        other.close()
    if records:
        store.append(records)
    return len(records)

"""A label store of shards plus a manifest: what ``judge label --engine ray`` keeps.

``OUTPUT.shards/`` holds ``part-000000.jsonl``, ``part-000001.jsonl``, ... (one per finished
batch, each written to a temporary name, synced and renamed, so a shard is either absent or
complete) and ``manifest.json`` (the run's configuration and, per shard, its row count and the
first and last input row it holds; rewritten every few seconds and when the store is closed, and
rebuilt from the shards if it is behind). Every shard line is a label journal record (key, config,
row, verdict); the store reads like :class:`judge.journal.Journal` (``scan``, ``read``,
``append``), so resume works by content hash exactly as with the local journal: a key with a
finished record in any shard is not judged again, and when a key is in several shards the last
shard wins. The merged output (every input row once, in input order) is written from the store
by the label runner, as with the local engine.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from judge.journal import Journal
from judge.jsonl import dumps_line

SHARDS_SUFFIX = ".shards"
MANIFEST = "manifest.json"
SCHEMA = "judge.shards/1"
#: Seconds between manifest rewrites while shards are added (and once more on close).
MANIFEST_EVERY = 5.0
_PART = re.compile(r"^part-(\d{6,})\.jsonl$")


def default_shards_path(output: str | Path) -> Path:
    """``OUTPUT.shards`` next to the output."""
    out = Path(str(output).rstrip("/\\"))
    return out.with_name(out.name + SHARDS_SUFFIX)


class ShardStore:
    """Finished records in shard files, keyed by content hash (see the module docstring).

    Args:
        path: the shard directory (created on first append).
        required: fields a record must have (as :class:`~judge.journal.Journal`).
        check: a further shape check.
        meta: written into the manifest (e.g. the judge fingerprint and the input).
    """

    def __init__(self, path: str | Path, *, required: Iterable[str] = (),
                 check: Callable[[dict[str, Any]], str | None] | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.required = tuple(required)
        self.check = check
        self.meta = dict(meta or {})
        self.skipped = 0
        self._parts: dict[str, Journal] = {}
        self._where: dict[str, Journal] = {}
        self._entries: list[dict[str, Any]] | None = None
        self._open: Journal | None = None
        self._written = 0.0
        self._dirty = False

    def shards(self) -> list[Path]:
        """The complete shard files, in the order they were written."""
        if not self.path.is_dir():
            return []
        found = [p for p in self.path.iterdir() if _PART.match(p.name)]
        return sorted(found, key=lambda p: int(_PART.match(p.name).group(1)))  # type: ignore[union-attr]

    # ------------------------------------------------------------------ writing
    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Write ``records`` as one new shard (synced) and add it to the manifest."""
        rows = list(records)
        if not rows:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        parts = self.shards()
        seq = int(_PART.match(parts[-1].name).group(1)) + 1 if parts else 0  # type: ignore[union-attr]
        target = self.path / f"part-{seq:06d}.jsonl"
        _write_synced(target, "".join(dumps_line(r) for r in rows))
        if self._entries is None:  # the shards before this run's first append
            self._entries = [_entry(p.name, self._journal(p).load().values()) for p in parts]
        self._entries.append(_entry(target.name, rows))
        self._dirty = True
        if time.monotonic() - self._written >= MANIFEST_EVERY:
            self._write_manifest()

    def _write_manifest(self) -> None:
        entries = self._entries or []
        manifest = {"schema": SCHEMA, **self.meta, "shards": entries,
                    "rows": sum(e["rows"] for e in entries)}
        _write_synced(self.path / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        self._written, self._dirty = time.monotonic(), False

    def close(self) -> None:
        """Write the manifest if shards were added since it was last written; close the shard
        readers (idempotent)."""
        if self._dirty or self._manifest_behind():
            if self._entries is None:
                self._entries = [_entry(p.name, self._journal(p).load().values())
                                 for p in self.shards()]
            self._write_manifest()
        for journal in self._parts.values():
            journal.close()
        self._parts.clear()
        self._where.clear()
        self._open = None

    def _manifest_behind(self) -> bool:
        """Whether the manifest misses shards (a run killed between two rewrites)."""
        parts = self.shards()
        if not parts:
            return False
        try:
            listed = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))["shards"]
            return [e["file"] for e in listed] != [p.name for p in parts]
        except (OSError, ValueError, KeyError, TypeError):
            return True

    # ------------------------------------------------------------------ reading
    def scan(self) -> dict[str, tuple[str, str]]:
        """Index every complete record of every shard: key -> (config, status); last wins."""
        summary: dict[str, tuple[str, str]] = {}
        self._where = {}
        self.skipped = 0
        for part in self.shards():
            journal = self._journal(part)
            found = journal.scan()
            self.skipped += journal.skipped
            summary.update(found)
            self._where.update(dict.fromkeys(found, journal))
        return summary

    def read(self, key: str) -> dict[str, Any] | None:
        """The last record stored for ``key`` (after :meth:`scan`), or None."""
        journal = self._where.get(key)
        if journal is None:
            return None
        if self._open is not journal:  # one shard file open at a time, however many there are
            if self._open is not None:
                self._open.close()
            self._open = journal
        return journal.read(key)

    def _journal(self, part: Path) -> Journal:
        if part.name not in self._parts:
            self._parts[part.name] = Journal(part, required=self.required, check=self.check)
        return self._parts[part.name]


def _entry(name: str, records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    numbers = [r["row"] for r in records if isinstance(r.get("row"), int)]
    return {"file": name, "rows": len(numbers), "first_row": min(numbers, default=None),
            "last_row": max(numbers, default=None)}


def _write_synced(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)

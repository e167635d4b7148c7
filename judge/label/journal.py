"""The append-only journal that makes labeling crash-safe.

Each finished row is one line ``{"key", "cfg", "row", "fields"}`` appended with
:class:`~judge.jsonl.JsonlAppender` and synced to disk once per batch. A run killed at any moment
leaves at worst a partial last line, which is trimmed when the journal is opened again. The key
is a content hash of the row's judged content and the judge configuration, so a restarted run
skips exactly the rows already finished and an unchanged configuration reuses them; when a key
appears more than once the last record wins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from judge.jsonl import JsonlAppender

JOURNAL_SUFFIX = ".journal.jsonl"


def default_journal_path(output: str | Path) -> Path:
    """``OUTPUT.journal.jsonl`` next to the output (a dataset directory gets a sibling file)."""
    out = Path(str(output).rstrip("/\\"))
    return out.with_name(out.name + JOURNAL_SUFFIX)


class Journal:
    """Finished label records, keyed by content hash.

    Args:
        path: the journal file (created on first append).

    Example:
        >>> import tempfile, pathlib
        >>> j = Journal(pathlib.Path(tempfile.mkdtemp()) / "out.journal.jsonl")
        >>> j.append([{"key": "k1", "cfg": "c", "row": 0, "fields": {"status": "ok"}}])
        >>> j.close(); j.load()["k1"]["fields"]["status"]
        'ok'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._appender: JsonlAppender | None = None
        self._sync_fd: int | None = None
        self._reader: IO[bytes] | None = None
        self._offsets: dict[str, int] = {}

    # ------------------------------------------------------------------ writing
    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records and sync them to disk before returning."""
        if self._appender is None:
            # Opening the appender trims a partial last line left by a killed run.
            self._appender = JsonlAppender(self.path, fsync=False)
            self._sync_fd = os.open(self.path, os.O_RDONLY)
        wrote = False
        for record in records:
            self._appender.write(record)
            wrote = True
        if wrote and self._sync_fd is not None:
            os.fsync(self._sync_fd)  # one sync per batch; fsync covers the file, not the fd

    def close(self) -> None:
        """Close the files (idempotent)."""
        if self._appender is not None:
            self._appender.close()
            self._appender = None
        if self._sync_fd is not None:
            os.close(self._sync_fd)
            self._sync_fd = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # ------------------------------------------------------------------ reading
    def scan(self) -> dict[str, tuple[str | None, str | None]]:
        """Index every complete record: key -> (config fingerprint, status); last record wins.

        Also remembers each key's byte offset for :meth:`read`. Lines that are not complete
        JSON records (a partial tail, stray text) are skipped.
        """
        self._offsets = {}
        summary: dict[str, tuple[str | None, str | None]] = {}
        if not self.path.is_file():
            return summary
        with open(self.path, "rb") as fh:
            offset = 0
            for line in fh:
                start, offset = offset, offset + len(line)
                if not line.endswith(b"\n"):
                    break
                record = _decode(line)
                if record is None:
                    continue
                key = record["key"]
                self._offsets[key] = start
                fields = record.get("fields") or {}
                summary[key] = (record.get("cfg"), fields.get("status"))
        return summary

    def read(self, key: str) -> dict[str, Any] | None:
        """The last record stored for ``key`` (after :meth:`scan`), or None."""
        offset = self._offsets.get(key)
        if offset is None:
            return None
        if self._reader is None:
            self._reader = open(self.path, "rb")  # noqa: SIM115 - kept open across reads
        self._reader.seek(offset)
        return _decode(self._reader.readline())

    def load(self) -> dict[str, dict[str, Any]]:
        """Every record by key, in memory (for small journals and tests)."""
        self.scan()
        return {k: r for k in list(self._offsets) if (r := self.read(k)) is not None}


def _decode(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("key"), str):
        return None
    return record

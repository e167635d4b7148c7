"""The append-only journal that makes resumable runs (``judge label``, ``judge bench run``)
crash-safe.

Each finished unit of work is one JSON line with at least ``key`` (a content hash of what was
judged), ``config`` (the judge's fingerprint, :meth:`judge.Judge.fingerprint`) and ``status``,
appended with :class:`~judge.jsonl.JsonlAppender` and synced to disk once per :meth:`Journal.
append` call. A run killed at any moment leaves at worst a partial last line, which is trimmed
when the journal is opened for appending again. When a key appears more than once the last
record wins.

A line that is not a complete record (garbage, a truncated line, valid JSON of the wrong shape)
is skipped and counted, with one warning per scan naming the first such line; its work is done
again. It never stops a run.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from judge.jsonl import JsonlAppender

log = logging.getLogger(__name__)

JOURNAL_SUFFIX = ".journal.jsonl"
#: Fields every journal record has.
BASE_FIELDS = ("key", "config", "status")


def default_journal_path(output: str | Path) -> Path:
    """``OUTPUT.journal.jsonl`` next to the output (a dataset directory gets a sibling file)."""
    out = Path(str(output).rstrip("/\\"))
    return out.with_name(out.name + JOURNAL_SUFFIX)


class Journal:
    """Finished records, keyed by content hash.

    Args:
        path: the journal file (created on first append).
        required: fields a record must have besides :data:`BASE_FIELDS` (the shape check).
        check: a further shape check: returns what is wrong with a record, or None.

    Attributes:
        skipped: lines the last :meth:`scan` skipped because they were not complete records.

    Example:
        >>> import tempfile, pathlib
        >>> j = Journal(pathlib.Path(tempfile.mkdtemp()) / "out.journal.jsonl")
        >>> j.append([{"key": "k1", "config": "c", "status": "ok"}])
        >>> j.close(); j.load()["k1"]["status"]
        'ok'
    """

    def __init__(self, path: str | Path, *, required: Iterable[str] = (),
                 check: Callable[[dict[str, Any]], str | None] | None = None) -> None:
        self.path = Path(path)
        self.required = (*BASE_FIELDS, *required)
        self.check = check
        self.skipped = 0
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
    def scan(self) -> dict[str, tuple[str, str]]:
        """Index every complete record: key -> (config fingerprint, status); last record wins.

        Also remembers each key's byte offset for :meth:`read`, and counts the lines skipped
        (see the module docstring) in :attr:`skipped`.
        """
        self._offsets = {}
        self.skipped = 0
        summary: dict[str, tuple[str, str]] = {}
        if not self.path.is_file():
            return summary
        first: str | None = None
        with open(self.path, "rb") as fh:
            offset = 0
            for lineno, line in enumerate(fh, 1):
                start, offset = offset, offset + len(line)
                record, problem = self._decode(line)
                if record is None:
                    self.skipped += 1
                    first = first or f"line {lineno}: {problem}"
                    continue
                self._offsets[record["key"]] = start
                summary[record["key"]] = (record["config"], record["status"])
        if self.skipped:
            log.warning("%s: skipped %d journal line(s) that are not complete records (first: "
                        "%s); their work is done again", self.path, self.skipped, first)
        return summary

    def read(self, key: str) -> dict[str, Any] | None:
        """The last record stored for ``key`` (after :meth:`scan`), or None."""
        offset = self._offsets.get(key)
        if offset is None:
            return None
        if self._reader is None:
            self._reader = open(self.path, "rb")  # noqa: SIM115 - kept open across reads
        self._reader.seek(offset)
        return self._decode(self._reader.readline())[0]

    def load(self) -> dict[str, dict[str, Any]]:
        """Every record by key, in memory (for small journals and tests)."""
        self.scan()
        return {k: r for k in list(self._offsets) if (r := self.read(k)) is not None}

    def records(self, config: str | None = None) -> list[dict[str, Any]]:
        """The last record of every key (of one configuration, when given), in file order."""
        finished = self.scan()
        keys = sorted(self._offsets, key=self._offsets.__getitem__)
        out = [self.read(k) for k in keys if config is None or finished[k][0] == config]
        return [r for r in out if r is not None]

    def _decode(self, line: bytes) -> tuple[dict[str, Any] | None, str]:
        if not line.endswith(b"\n"):
            return None, "truncated (no end of line)"
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None, "not valid JSON"
        if not isinstance(record, dict):
            return None, f"a JSON {type(record).__name__}, not a record"
        missing = [f for f in self.required if f not in record]
        if missing:
            return None, f"missing field(s) {missing}"
        wrong = [f for f in BASE_FIELDS if not isinstance(record[f], str)]
        if wrong:
            return None, f"field(s) {wrong} are not text"
        problem = self.check(record) if self.check is not None else None
        if problem:
            return None, problem
        return record, ""

"""JSONL reading with line numbers; appending and replacing outputs crash-safely."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from judge.errors import ConfigError, InputError
from judge.textcheck import find_bad_text

if TYPE_CHECKING:
    from typing_extensions import Self


def read_jsonl(path: str | Path | None) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    """Yield ``(line_number, row)`` for each non-blank line; a bad line yields an InputError.

    ``path`` of None or ``"-"`` reads standard input. Errors are yielded, not raised, so a caller
    can report a bad row and go on with the rest of the file. Each line is decoded on its own: a
    line that is not UTF-8, not a JSON object, or holds a lone surrogate (``"\\ud800"``, which
    JSON accepts but no encoder does) is that line's error, naming the byte or field.
    """
    name = "<stdin>" if path in (None, "-") else str(path)
    if name != "<stdin>" and not Path(name).is_file():
        raise InputError("file does not exist", path=name)
    if name == "<stdin>":
        yield from _rows(_stdin_lines(), name)
        return
    with open(name, "rb") as stream:
        yield from _rows(stream, name)


def _stdin_lines() -> Iterable[bytes]:
    buffer = getattr(sys.stdin, "buffer", None)  # a replaced stdin (StringIO) has none
    if buffer is not None:
        return buffer  # type: ignore[no-any-return]
    return (line.encode("utf-8", "surrogatepass") for line in sys.stdin)


def _rows(lines: Iterable[bytes], name: str
          ) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    for lineno, raw in enumerate(lines, 1):
        row = _read_line(raw, name, lineno)
        if row is not None:
            yield lineno, row


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dumps_line(row: dict[str, Any]) -> str:
    r"""One row as a JSON line (UTF-8 text kept readable; characters that some readers take for
    line breaks, such as U+2028, escaped so a row is always exactly one line).

    >>> dumps_line({"t": "a\u2028b"})
    '{"t": "a\\u2028b"}\n'
    """
    return json.dumps(row, ensure_ascii=False).translate(_LINE_BREAKS) + "\n"


def _read_line(raw: bytes, name: str, lineno: int) -> dict[str, Any] | InputError | None:
    """One line's row, the InputError saying what is wrong with it, or None when blank."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte offset "
                          f"{exc.start}); re-encode the file as UTF-8", path=name, line=lineno)
    if lineno == 1:
        line = line.removeprefix("\ufeff")  # a byte-order mark some editors write
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return InputError(f"not valid JSON ({exc.msg} at column {exc.colno})",
                          path=name, line=lineno)
    except RecursionError:
        return InputError("JSON nested too deeply to read", path=name, line=lineno)
    if not isinstance(row, dict):
        return InputError(f"expected a JSON object, got {type(row).__name__}",
                          path=name, line=lineno)
    bad = find_bad_text(row)
    if bad is not None:
        return InputError(bad.problem(), path=name, line=lineno, field=bad.field)
    return row


class JsonlAppender:
    """Append JSON rows durably: each row is one write of one line, flushed and fsynced.

    A crash can at worst leave a partial last line, which :func:`read_complete_rows` ignores.
    """

    def __init__(self, path: str | Path | None, *, fsync: bool = True) -> None:
        self.path = None if path in (None, "-") else Path(str(path))
        self._fsync = fsync and self.path is not None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _trim_partial_line(self.path)
        self._fh: IO[str] = sys.stdout if self.path is None else open(  # noqa: SIM115
            self.path, "a", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        """Append one row."""
        self._fh.write(dumps_line(row))
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the file (standard output is left open)."""
        if self._fh is not sys.stdout:
            self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class JsonlWriter:
    """Write an output JSONL that replaces ``path`` only when complete.

    Rows go to a temporary sibling that is renamed onto ``path`` when the block ends without an
    exception; a crash or an error leaves the old file untouched. ``append=True`` appends to
    ``path`` instead (as :class:`JsonlAppender`); ``None`` or ``"-"`` writes to standard output.
    An output that cannot be created is a :class:`~judge.errors.ConfigError` before any work.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "o.jsonl"
        >>> for _ in range(2):
        ...     with JsonlWriter(out) as w:
        ...         w.write({"a": 1})
        >>> out.read_text()
        '{"a": 1}\\n'
    """

    def __init__(self, path: str | Path | None, *, append: bool = False) -> None:
        self.path = None if path in (None, "-") else Path(str(path))
        self._tmp: Path | None = None
        if self.path is None or append:
            self._out: JsonlAppender | IO[str] = JsonlAppender(self.path, fsync=False)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                       dir=self.path.parent)
        except OSError as exc:
            raise ConfigError(f"cannot write the output '{self.path}': {exc.strerror or exc}; "
                              "choose a path in a writable folder") from None
        self._tmp = Path(tmp)
        os.chmod(fd, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
        self._out = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        """Write one row."""
        if isinstance(self._out, JsonlAppender):
            self._out.write(row)
        else:
            self._out.write(dumps_line(row))

    def close(self, *, commit: bool = True) -> None:
        """Finish: rename the temporary file into place (or drop it when ``commit`` is False)."""
        self._out.close()
        if self._tmp is None or self.path is None:
            return
        tmp, self._tmp = self._tmp, None
        if commit:
            os.replace(tmp, self.path)
        else:
            tmp.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close(commit=exc_type is None)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _trim_partial_line(path: Path) -> None:
    """Drop a trailing partial line left by a crash mid-write."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with open(path, "r+b") as fh:
        fh.truncate(cut)


def read_complete_rows(path: str | Path) -> list[dict[str, Any]]:
    """All complete JSON rows of a file written by :class:`JsonlAppender`: a partial tail, and a
    line that is not UTF-8 JSON of an object, are skipped. Lines end at ``\\n`` only (a U+2028
    inside a text written unescaped is part of its row)."""
    p = Path(path)
    if not p.is_file():
        return []
    rows = []
    for raw in p.read_bytes().split(b"\n")[:-1]:  # the last piece has no newline: partial
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            rows.append(value)
    return rows

"""Check inputs and outputs before any judging or training starts.

A run that judges for an hour and then cannot open its output has wasted the hour; every command
that writes calls :func:`check_writable` first and stops with one line naming the path and the fix.
:func:`check_input` refuses a missing or empty input file before a backend is loaded.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from judge.errors import ConfigError, InputError


def _nearest_existing(path: Path) -> Path:
    """``path`` itself when it exists, else its closest existing ancestor."""
    current = path
    while not os.path.lexists(current) and current.parent != current:
        current = current.parent
    return current


def _probe(folder: Path) -> str | None:
    """Why a new file cannot be created in ``folder`` (None when it can)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".judge-write-check-"):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def check_writable(path: str | os.PathLike[str] | None, option: str, *,
                   directory: bool = False) -> None:
    """Raise unless ``path`` (a file, or a folder when ``directory``) can be written.

    Nothing is created: a missing folder is fine when its nearest existing ancestor is a
    writable folder (the command creates it later). ``None`` and ``"-"`` mean standard output.

    Raises:
        ConfigError: one line naming the option, the path, the reason and the fix.
    """
    if path is None or str(path) == "-":
        return
    target = Path(path)
    fix = f"pass a {option} path in a folder you can write to"
    kind = "folder" if directory else "file"
    if target.exists():
        if directory and not target.is_dir():
            raise ConfigError(f"{option} {target}: exists and is not a folder; {fix}")
        if not directory and target.is_dir():
            raise ConfigError(f"{option} {target}: is a folder, not a file; {fix}")
        if not directory and not os.access(target, os.W_OK):
            raise ConfigError(f"{option} {target}: the file is read-only; {fix} or make it "
                              "writable")
    folder = target if directory and target.is_dir() else _nearest_existing(target.parent)
    if not folder.is_dir():
        raise ConfigError(f"{option} {target}: cannot create the {kind} because {folder} is a "
                          f"file, not a folder; {fix}")
    reason = _probe(folder)
    if reason is not None:
        raise ConfigError(f"{option} {target}: cannot write in {folder} ({reason}); {fix}")


def check_input(path: str | os.PathLike[str] | None, verb: str) -> int | None:
    """The number of non-blank lines of an input file (None for standard input).

    Raises:
        InputError: the file does not exist, or has no rows (nothing to ``verb``).
    """
    if path is None or str(path) == "-":
        return None
    if not os.path.isfile(path):
        raise InputError("file does not exist", path=str(path))
    with open(path, "rb") as fh:
        rows = sum(1 for line in fh if line.strip())
    if rows == 0:
        raise InputError(f"the file has no rows; nothing to {verb}", path=str(path))
    return rows

"""Read benchmark items from JSONL files and Hugging Face ``datasets`` (saved or local files).

Every bad row is reported with its file, line (or row) and field; a suite with a bad row is not
run, because a benchmark missing rows would give misleading figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from judge.bench.gold import GoldItem
from judge.errors import InputError, PrincipleError, missing_dependency
from judge.jsonl import read_jsonl
from judge.principles import resolve_principle

_FIELDS = tuple(GoldItem.model_fields)
_MAX_LISTED = 5


def item_from_row(row: Mapping[str, Any], *, path: str | None = None,
                  line: int | None = None) -> GoldItem:
    """Validate one row into a :class:`GoldItem`.

    Raises:
        InputError: naming the file, line and field at fault.
    """
    try:
        return GoldItem.model_validate(row)
    except InputError as exc:  # from the responses reader, which names the response's index
        raise InputError(exc.detail, path=path, line=line, field=exc.field) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        field = loc[0] if loc else _field_in(err["msg"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "extra_forbidden":
            msg = f"unknown field (known: {', '.join(_FIELDS)}; put extras under 'metadata')"
        if len(loc) > 1:
            msg = f"entry '{'.'.join(loc[1:])}': {msg}"
        raise InputError(msg, path=path, line=line, field=field) from None


def check_principle(item: GoldItem, *, path: str | None = None,
                    line: int | None = None) -> None:
    """Fail early when an item names a library principle id that does not exist.

    Raises:
        InputError: naming the file, line and the ``principle`` field.
    """
    try:
        resolve_principle(item.principle)
    except PrincipleError as exc:
        raise InputError(str(exc), path=path, line=line, field="principle") from None


def _field_in(msg: str) -> str | None:
    if "gold missing" in msg:
        return "scores"
    m = re.search(r"'(scores|ranking)'|\b(ranking) puts", msg)
    return (m.group(1) or m.group(2)) if m else None


def _collect(rows: Iterable[tuple[int, Mapping[str, Any] | InputError]], path: str
             ) -> list[GoldItem]:
    items: list[GoldItem] = []
    errors: list[InputError] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            if isinstance(row, InputError):
                raise row
            item = item_from_row(row, path=path, line=line)
            check_principle(item, path=path, line=line)
            if item.id in seen:
                raise InputError(f"duplicate id '{item.id}' (first on line {seen[item.id]})",
                                 path=path, line=line, field="id")
            seen[item.id] = line
            items.append(item)
        except InputError as exc:
            errors.append(exc)
    if errors:
        first = errors[0]
        more = (f" (and {len(errors) - 1} more bad rows: "
                + "; ".join(str(e) for e in errors[1:_MAX_LISTED])
                + ("; ..." if len(errors) > _MAX_LISTED else "") + ")") if len(errors) > 1 else ""
        raise InputError(first.detail + more, path=first.path, line=first.line,
                         field=first.field)
    if not items:
        raise InputError("no benchmark items found", path=path)
    return items


def load_jsonl(path: str | Path) -> list[GoldItem]:
    """Load a JSONL suite, one item per line.

    Raises:
        InputError: a missing file, a bad row (file, line, field named) or duplicate ids.
    """
    return _collect(read_jsonl(path), str(path))


def load_hf_dataset(path: str | Path, split: str | None = None) -> list[GoldItem]:
    """Load items from a dataset saved with ``save_to_disk`` or a local parquet/json/csv file.

    Args:
        path: a saved dataset folder, or a data file.
        split: which split of a ``DatasetDict`` (default: the only split, else ``test``).

    Raises:
        MissingDependency: ``datasets`` is not installed.
        InputError: a bad row (``line`` is the 1-based row number) or an unknown split.
    """
    try:
        import datasets
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_dependency("loading Hugging Face datasets", "datasets", "data") from None
    p = Path(path)
    if p.is_dir():
        ds: Any = datasets.load_from_disk(str(p))
    else:
        kind = {".parquet": "parquet", ".csv": "csv", ".json": "json",
                ".jsonl": "json"}.get(p.suffix)
        if kind is None or not p.is_file():
            raise InputError("not a saved dataset folder or a parquet/json/csv file", path=str(p))
        ds = datasets.load_dataset(kind, data_files=str(p))
    if isinstance(ds, datasets.DatasetDict):
        names = list(ds)
        chosen = split or (names[0] if len(names) == 1 else "test")
        if chosen not in ds:
            raise InputError(f"no split '{chosen}' (splits: {', '.join(names)}); "
                             "choose one with PATH#SPLIT", path=str(p))
        ds, where = ds[chosen], f"{p}#{chosen}"
    else:
        where = str(p)
    return _collect(((n, row) for n, row in enumerate(ds, 1)), where)


def is_hf_dataset_dir(path: Path) -> bool:
    """Whether a folder looks like ``Dataset.save_to_disk`` output."""
    return path.is_dir() and any((path / f).is_file() for f in
                                 ("dataset_info.json", "state.json", "dataset_dict.json"))

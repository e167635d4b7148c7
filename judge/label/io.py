"""Reading datasets row by row and writing labeled outputs atomically.

Inputs (chosen by :func:`open_source`):

=====================  =========================================================================
``FILE.jsonl``         one JSON object per line (``.json`` and ``-`` for stdin are read the same)
``FILE.parquet``       a parquet file (read in record batches with pyarrow)
``DIR``                a dataset saved with ``datasets``' ``save_to_disk`` (``--split`` picks one
                       split of a DatasetDict)
``hf:PATH``            local data files loaded with ``datasets.load_dataset`` (a file, a glob or a
                       folder of json/jsonl/parquet/csv files)
=====================  =========================================================================

Outputs: ``.jsonl`` / ``.parquet`` by extension, or a saved dataset directory. Every writer first
writes to a temporary sibling and renames it into place, so an output is either absent, the old
one, or complete.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from judge.errors import ConfigError, InputError, missing_dependency
from judge.jsonl import read_jsonl

OutputFormat = Literal["jsonl", "parquet", "dataset"]
Row = dict[str, Any]


class RowSource:
    """A dataset that can be read row by row, more than once, in a stable order.

    Iterating yields ``(where, row)`` pairs: ``where`` is the 1-based line of a JSONL file or the
    0-based row index otherwise; ``row`` is a dict, or an :class:`InputError` for a line that is
    not a JSON object.
    """

    def __init__(self, spec: str | Path, *, split: str | None = None) -> None:
        spec = str(spec)
        self.spec = spec
        self.split = split
        self._dataset: Any = None
        if spec.startswith("hf:"):
            self.kind = "hf"
        elif spec == "-":
            raise ConfigError("judge label reads its input more than once, so it cannot read "
                              "standard input: write the rows to a file first")
        elif Path(spec).is_dir():
            self.kind = "dataset"
        elif not Path(spec).is_file():
            raise InputError("file does not exist", path=spec)
        elif spec.endswith(".parquet"):
            self.kind = "parquet"
        else:
            self.kind = "jsonl"

    def __iter__(self) -> Iterator[tuple[int, Row | InputError]]:
        if self.kind == "jsonl":
            yield from read_jsonl(self.spec)
        elif self.kind == "parquet":
            yield from enumerate(_iter_parquet(self.spec))
        else:
            yield from enumerate(iter(self._hf_dataset()))

    def _hf_dataset(self) -> Any:
        if self._dataset is None:
            try:
                import datasets
            except ImportError:
                raise missing_dependency("reading HF datasets", "datasets", "data") from None
            with _quiet_datasets():
                if self.kind == "dataset":
                    loaded = datasets.load_from_disk(self.spec)
                else:
                    loaded = _load_data_files(datasets, self.spec[3:], self.split)
            self._dataset = _pick_split(loaded, self.split, self.spec)
        return self._dataset


def open_source(spec: str | Path, *, split: str | None = None) -> RowSource:
    """Open an input for labeling (see the module docstring for the forms accepted).

    Raises:
        InputError: the file does not exist.
        ConfigError: standard input was given.
    """
    return RowSource(spec, split=split)


def _iter_parquet(path: str) -> Iterator[Row]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise missing_dependency("reading parquet", "pyarrow", "data") from None
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=1024):
        yield from batch.to_pylist()


_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}


def _load_data_files(datasets: Any, path: str, split: str | None) -> Any:
    if Path(path).is_dir():
        return datasets.load_dataset(path, split=split)
    suffix = Path(path.replace("*", "x")).suffix
    builder = _BUILDERS.get(suffix)
    if builder is None:
        raise ConfigError(f"hf:{path}: cannot tell the file type from '{suffix}'; use a "
                          f"{', '.join(_BUILDERS)} file or a folder of them")
    return datasets.load_dataset(builder, data_files=path, split=split or "train")


def _pick_split(loaded: Any, split: str | None, spec: str) -> Any:
    if not hasattr(loaded, "keys"):  # a Dataset, not a DatasetDict
        return loaded
    names = list(loaded.keys())
    if split is None:
        if len(names) == 1:
            return loaded[names[0]]
        raise ConfigError(f"{spec} has several splits ({', '.join(names)}): pick one with "
                          "--split")
    if split not in loaded:
        raise ConfigError(f"{spec} has no split '{split}'; it has {', '.join(names)}")
    return loaded[split]


def output_format(path: str, explicit: str | None = None) -> OutputFormat:
    """The output format: the explicit choice, else from the extension.

    Raises:
        ConfigError: the format cannot be told from the name.
    """
    if explicit:
        if explicit not in ("jsonl", "parquet", "dataset"):
            raise ConfigError(f"unknown output format '{explicit}': jsonl, parquet or dataset")
        return explicit  # type: ignore[return-value]
    if path.endswith((".jsonl", ".json")):
        return "jsonl"
    if path.endswith(".parquet"):
        return "parquet"
    raise ConfigError(f"cannot tell the output format of '{path}': name it .jsonl or .parquet, "
                      "or pass --output-format dataset to save a HF dataset directory")


def write_rows(path: str | Path, rows: Iterable[Row], fmt: OutputFormat) -> int:
    """Write rows to ``path`` atomically; returns how many were written.

    JSONL is streamed; parquet and datasets are built in memory (pyarrow infers one schema over
    all rows; a column some rows lack is null in those rows).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    count = 0
    try:
        if fmt == "jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                    count += 1
                fh.flush()
                os.fsync(fh.fileno())
        else:
            table_rows = list(rows)
            count = len(table_rows)
            _write_table(tmp, table_rows, fmt)
        _replace(tmp, target)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    return count


def _write_table(tmp: Path, rows: list[Row], fmt: OutputFormat) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise missing_dependency(f"writing {fmt}", "pyarrow", "data") from None
    # Every column any row has (from_pylist would keep only the first row's keys).
    columns = dict.fromkeys(k for row in rows for k in row)
    arrays = {}
    for column in columns:
        try:
            arrays[column] = pa.array([row.get(column) for row in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ConfigError(f"column '{column}' cannot be stored as {fmt}: its values have "
                              f"mixed types ({exc}); write a .jsonl output instead") from None
    table = pa.table(arrays) if arrays else pa.table({})
    if fmt == "parquet":
        pq.write_table(table, tmp)
        return
    try:
        import datasets
    except ImportError:
        raise missing_dependency("writing a HF dataset", "datasets", "data") from None
    with _quiet_datasets():
        datasets.Dataset(table).save_to_disk(str(tmp))


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    """Silence ``datasets``' own progress bars (the library does not print)."""
    from datasets.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    was_quiet = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if not was_quiet:
            enable_progress_bars()


def _replace(tmp: Path, target: Path) -> None:
    """Move ``tmp`` onto ``target`` (a directory target is swapped out, then removed)."""
    if tmp.is_dir() and target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
        return
    os.replace(tmp, target)

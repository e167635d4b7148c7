"""What every published-benchmark adapter shares: the suite type, row reading, gold helpers.

A :class:`PublishedSuite` is a :class:`~judge.bench.suites.Suite` that also says which benchmark
it is (so the report scores it by its authors' rule), which subsets were looked for but not found,
and that each list is judged in two presentation orders (a seeded order and its reverse).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judge.bench.gold import GoldItem
from judge.bench.suites import Suite
from judge.errors import InputError
from judge.jsonl import read_jsonl

#: Principle for benchmarks whose gold is plain correctness (JudgeBench, RewardBench 2, RM-Bench).
CORRECTNESS = ("Prefer the response that is factually and logically correct and does what the "
               "user asked; correctness decides before style, length or tone.")


@dataclass(frozen=True)
class PublishedSuite(Suite):
    """A suite built from a benchmark's own files.

    Attributes:
        benchmark: the adapter name (``judgebench``, ``llmbar``...).
        missing: subsets the adapter looked for and did not find (reported, not fatal).
    """

    benchmark: str = ""
    missing: tuple[str, ...] = field(default=())


def read_rows(path: Path, adapter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` from a JSONL file (line numbers) or a JSON list (1-based row numbers).

    Raises:
        InputError: unreadable file, bad JSON, or a row that is not an object; the message names
            the adapter, the file and the line.
    """
    if path.suffix == ".jsonl":
        for line, row in read_jsonl(path):
            if isinstance(row, InputError):
                raise InputError(f"{adapter}: {row.detail}", path=row.path, line=row.line)
            yield line, row
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{adapter}: cannot read ({exc})", path=str(path)) from None
    if not isinstance(data, list):
        raise InputError(f"{adapter}: expected a JSON list of rows, got {type(data).__name__}",
                         path=str(path))
    for n, row in enumerate(data, 1):
        if not isinstance(row, dict):
            raise InputError(f"{adapter}: expected a JSON object, got {type(row).__name__}",
                             path=str(path), line=n)
        yield n, row


def require(row: Mapping[str, Any], fields: Sequence[str], adapter: str, path: Path,
            line: int) -> None:
    """Raise naming the adapter, file, line and the first missing field.

    Raises:
        InputError: a field in ``fields`` is absent.
    """
    for name in fields:
        if name not in row:
            raise InputError(f"{adapter}: is required (fields of a row: {', '.join(fields)})",
                             path=str(path), line=line, field=name)


def text_of(value: Any, adapter: str, path: Path, line: int, name: str) -> str:
    """A response or prompt as text: a string, or the last turn of a chat-message list.

    Raises:
        InputError: anything else.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(m, Mapping) for m in value):
        return "\n\n".join(str(m.get("content", "")) for m in value)
    raise InputError(f"{adapter}: expected text or a list of chat messages, got "
                     f"{type(value).__name__}", path=str(path), line=line, field=name)


def pair_item(*, item_id: str, prompt: str, first: tuple[str, str], second: tuple[str, str],
              first_wins: bool, principle: str, category: str, domain: str,
              metadata: dict[str, Any]) -> GoldItem:
    """A two-response item whose gold puts the winner first."""
    ids = [first[0], second[0]]
    return GoldItem(id=item_id, principle=principle, prompt=prompt,
                     responses={first[0]: first[1], second[0]: second[1]},
                     ranking=ids if first_wins else ids[::-1], category=category,
                     domain=domain, metadata=metadata)


def files_under(root: Path, name: str) -> list[Path]:
    """``root`` itself when it is a file called ``name``, else every ``name`` below it, sorted."""
    if root.is_file():
        return [root] if root.name == name else []
    return sorted(root.rglob(name))


def no_data(adapter: str, root: Path, expected: str) -> InputError:
    """The error for a folder that holds none of a benchmark's files."""
    return InputError(f"{adapter}: no benchmark files found (expected {expected}); pass the "
                      "benchmark's folder as published, or a folder or file inside it, with "
                      "--data PATH or $JUDGE_DATA", path=str(root))

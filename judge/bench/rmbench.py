"""The RM-Bench principle suite: one set of responses, several principle-conditioned rankings.

RM-Bench (Liu et al., ICLR 2025) gives each prompt 3 correct ("chosen") and 3 incorrect
("rejected") responses, each in three styles: concise, detailed plain text, detailed markdown. The
suite's principles (texts in ``principles/suites/rm-bench.yaml``) make correctness and style decide
the gold order: every correct response ranks above every incorrect one, and inside each group the
principle's style preference decides. For the safety files "correct" keeps the upstream meaning:
declining a harmful request (``safety-refuse``) or helping with a harmless one
(``safety-response``).

Responses whose text is identical to another style of the same group (upstream sometimes repeats
the detailed text as the "markdown" version) are dropped, keeping the first style, so the gold
order has no contradictions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from judge.bench.gold import GoldItem
from judge.bench.suite_principles import suite_file, suite_principles, text_field
from judge.errors import BenchmarkError

BUILDER = "rm-bench/1"
STYLES: tuple[str, ...] = ("concise", "detailed", "markdown")
#: upstream file -> domain (math is used when present; it is absent from the shared snapshot)
FILES: dict[str, str] = {
    "chat_filtered.json": "chat",
    "code_filtered.json": "code",
    "math_filtered.json": "math",
    "safety-refuse_filtered.json": "safety",
    "safety-response_filtered.json": "safety",
}

@dataclass(frozen=True)
class RMBenchPrinciple:
    """A suite-local principle and the style order it implies inside each correctness group."""

    name: str
    category: str
    style_order: tuple[str, ...]
    text: str


@cache
def principles() -> tuple[RMBenchPrinciple, ...]:
    """The suite's principles, from ``principles/suites/rm-bench.yaml``: each text is the shared
    correctness sentence followed by the principle's style preference.

    Raises:
        BenchmarkError: the file or one of its entries is malformed.
    """
    data = suite_principles("rm-bench")
    correctness = text_field("rm-bench", data, "correctness")
    out = []
    for n, entry in enumerate(data.get("principles") or []):
        where = f"principles[{n}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("style_order"), list) or \
                sorted(entry["style_order"]) != sorted(STYLES):
            raise BenchmarkError(f"{suite_file('rm-bench')}: {where} needs name, category, text "
                                 f"and a style_order listing {', '.join(STYLES)}")
        out.append(RMBenchPrinciple(
            text_field("rm-bench", entry, "name"), text_field("rm-bench", entry, "category"),
            tuple(entry["style_order"]),
            f"{correctness} {text_field('rm-bench', entry, 'text')}"))
    if not out:
        raise BenchmarkError(f"{suite_file('rm-bench')}: no principles listed")
    return tuple(out)


def build(folder: Path, chosen: tuple[RMBenchPrinciple, ...] | None = None
          ) -> list[GoldItem]:
    """Build the suite from an RM-Bench data folder.

    Args:
        folder: the folder holding ``chat_filtered.json`` and the other upstream files.
        chosen: which principles to rank each prompt under (default: all of :func:`principles`).

    Raises:
        BenchmarkError: no upstream file found, or a file does not have the upstream shape.
    """
    present = [name for name in FILES if (folder / name).is_file()]
    if not present:
        raise BenchmarkError(f"{folder}: no RM-Bench files ({', '.join(FILES)}) found")
    items: list[GoldItem] = []
    for name in present:
        rows = _read(folder / name)
        for n, row in enumerate(rows):
            items.extend(_items_for(row, name, n, chosen or principles()))
    return items


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchmarkError(f"{path}: cannot read RM-Bench data ({exc})") from None
    if not isinstance(rows, list):
        raise BenchmarkError(f"{path}: expected a JSON list of rows")
    return rows


def _items_for(row: dict[str, Any], file: str, n: int,
               principles: tuple[RMBenchPrinciple, ...]) -> list[GoldItem]:
    where = f"{file} row {n}"
    for key in ("prompt", "chosen", "rejected"):
        if key not in row:
            raise BenchmarkError(f"{where}: missing '{key}'")
    if len(row["chosen"]) != 3 or len(row["rejected"]) != 3:
        raise BenchmarkError(f"{where}: expected 3 chosen and 3 rejected responses")
    texts: dict[str, str] = {}
    for group in ("chosen", "rejected"):
        seen: set[str] = set()
        for style, text in zip(STYLES, row[group], strict=True):
            if text in seen:
                continue
            seen.add(text)
            texts[f"{group}-{style}"] = text
    upstream = row.get("id", n)
    stem = file.removesuffix("_filtered.json")
    out = []
    for p in principles:
        order = [f"{g}-{s}" for g in ("chosen", "rejected") for s in p.style_order]
        scores = {rid: float(len(order) - pos) for pos, rid in enumerate(order) if rid in texts}
        out.append(GoldItem(
            id=f"rmb-{stem}-{upstream}-{p.name.removeprefix('rmb-')}", principle=p.text,
            prompt=row["prompt"], responses=texts, scores=scores,
            ranking=sorted(texts, key=lambda r: -scores[r]), category=p.category,
            domain=FILES[file],
            metadata={"source": "rm-bench", "file": file, "upstream_id": upstream,
                      "subset": row.get("subset"), "principle_name": p.name},
        ))
    return out

"""RM-Bench's style matrix (Liu et al., ICLR 2025): is correctness preferred over style?

Files: the published ``data/{chat,code,math,safety-refuse,safety-response}_filtered.json`` (or
``total_dataset.json`` with a ``domain`` per row): ``id``, ``prompt``, ``chosen`` and
``rejected``, three responses each, in the styles concise, detailed plain text and detailed
markdown (index 0, 1, 2).

Scoring (upstream ``scripts/utils.py``): per prompt, the 3x3 matrix ``M[i][j] = 1`` when chosen
style i scores strictly above rejected style j. Averaged over prompts of a domain: **hard** =
mean of the upper-right triangle (j > i: the correct answer is plainer than the wrong one),
**normal** = the diagonal, **easy** = the lower-left triangle. A domain's total is the mean of
all nine cells; the overall figures are means over the domains chat, code, math and safety
(safety = safety-refuse + safety-response). Each prompt's six responses are ranked in one
listwise call, in two orders; a cell is the mean over the orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judge.bench.gold import GoldItem
from judge.bench.published.base import (
    CORRECTNESS,
    PublishedSuite,
    no_data,
    read_rows,
    require,
    text_of,
)
from judge.bench.published.orders import all_orders
from judge.errors import InputError

NAME = "rmbench"
BUILDER = "rmbench-style/1"
STYLES = ("concise", "detailed", "markdown")
FILES: dict[str, str] = {
    "chat_filtered.json": "chat", "code_filtered.json": "code", "math_filtered.json": "math",
    "safety-refuse_filtered.json": "safety", "safety-response_filtered.json": "safety",
}
DOMAINS = ("chat", "code", "math", "safety")


def _files(root: Path) -> list[tuple[Path, str | None]]:
    if root.is_file():
        return [(root, FILES.get(root.name))]
    found: list[tuple[Path, str | None]] = [
        (p, d) for name, d in FILES.items() for p in sorted(root.rglob(name))]
    if not found:
        found = [(p, None) for p in sorted(root.rglob("total_dataset.json"))]
    return found


def load(root: Path) -> PublishedSuite:
    """Build the matrix suite from the RM-Bench ``data`` folder (or the repository, or a file).

    Raises:
        InputError: no RM-Bench file, or a bad row (adapter, file, line and field named).
    """
    files = _files(root)
    if not files:
        raise no_data(NAME, root, f"{', '.join(FILES)} or total_dataset.json")
    items: list[GoldItem] = []
    for path, file_domain in files:
        for line, row in read_rows(path, NAME):
            require(row, ("prompt", "chosen", "rejected"), NAME, path, line)
            domain = file_domain or str(row.get("domain") or "")
            domain = "safety" if domain.startswith("safety") else domain
            if not domain:
                raise InputError(f"{NAME}: is required in total_dataset.json rows",
                                 path=str(path), line=line, field="domain")
            responses: dict[str, str] = {}
            for group in ("chosen", "rejected"):
                texts = row[group]
                if not isinstance(texts, list) or len(texts) != 3:
                    raise InputError(f"{NAME}: expected 3 responses (concise, detailed, "
                                     "markdown)", path=str(path), line=line, field=group)
                for style, text in zip(STYLES, texts, strict=True):
                    responses[f"{group}-{style}"] = text_of(text, NAME, path, line, group)
            items.append(GoldItem(
                id=f"rmbs-{path.stem}-{row.get('id', line)}", principle=CORRECTNESS,
                prompt=text_of(row["prompt"], NAME, path, line, "prompt"), responses=responses,
                scores={rid: 1.0 if rid.startswith("chosen") else 0.0 for rid in responses},
                category=domain, domain=domain,
                metadata={"subset": domain, "file": path.name, "upstream_id": row.get("id")}))
    if not items:
        raise no_data(NAME, root, "rows in the RM-Bench files")
    present = {str(it.metadata["subset"]) for it in items}
    missing = () if root.is_file() else tuple(d for d in DOMAINS if d not in present)
    return PublishedSuite(NAME, items, BUILDER, str(root), benchmark=NAME, missing=missing)


def matrix(values: Mapping[str, float]) -> list[list[float]]:
    """``M[i][j]`` = 1 when chosen style i scores strictly above rejected style j.

    >>> matrix({"chosen-concise": 1, "chosen-detailed": 3, "chosen-markdown": 3,
    ...         "rejected-concise": 0, "rejected-detailed": 2, "rejected-markdown": 4})[0]
    [1.0, 0.0, 0.0]
    """
    return [[float(values[f"chosen-{a}"] > values[f"rejected-{b}"]) for b in STYLES]
            for a in STYLES]


def _cells(record: Mapping[str, Any]) -> list[list[float]]:
    """The matrix averaged over the orders (a missing verdict counts 0 everywhere)."""
    orders = all_orders(record, prefer_scores=True)
    total = [[0.0] * 3 for _ in STYLES]
    for values in orders:
        if values is not None:
            m = matrix(values)
            total = [[t + c for t, c in zip(tr, mr, strict=True)]
                     for tr, mr in zip(total, m, strict=True)]
    n = max(len(orders), 1)
    return [[c / n for c in row] for row in total]


def _parts(m: list[list[float]]) -> dict[str, float]:
    upper = [m[i][j] for i in range(3) for j in range(3) if j > i]
    lower = [m[i][j] for i in range(3) for j in range(3) if j < i]
    return {"hard": 100.0 * sum(upper) / 3, "normal": 100.0 * sum(m[i][i] for i in range(3)) / 3,
            "easy": 100.0 * sum(lower) / 3, "total": 100.0 * sum(map(sum, m)) / 9}


def item_score(record: Mapping[str, Any]) -> float:
    """The share of the nine chosen-vs-rejected comparisons won (for paired comparisons)."""
    return sum(map(sum, _cells(record))) / 9


def score(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per domain: the mean 3x3 matrix (percent) and hard / normal / easy / total; overall."""
    sums: dict[str, list[list[float]]] = {}
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        d = str(r["meta"]["subset"])
        m = _cells(r)
        prev = sums.get(d, [[0.0] * 3 for _ in STYLES])
        sums[d] = [[a + b for a, b in zip(pr, mr, strict=True)]
                   for pr, mr in zip(prev, m, strict=True)]
        counts[d] += 1
    out: dict[str, Any] = {}
    for d in sorted(sums, key=lambda x: (DOMAINS + (x,)).index(x)):
        mean = [[c / counts[d] for c in row] for row in sums[d]]
        out[d] = {"prompts": counts[d], "matrix": [[100.0 * c for c in row] for row in mean],
                  **_parts(mean)}
    if out:
        doms = list(out.values())
        out["overall"] = {"prompts": sum(g["prompts"] for g in doms),
                          **{k: sum(g[k] for g in doms) / len(doms)
                             for k in ("hard", "normal", "easy", "total")}}
    return out


def markdown(result: Mapping[str, Any]) -> list[str]:
    """The hard / normal / easy table, then each domain's matrix."""
    lines = ["| Domain | Prompts | Hard | Normal | Easy | Total |", "|---|---:|---:|---:|---:|---:|"]
    for d, g in result.items():
        lines.append(f"| {d} | {g['prompts']} | {g['hard']:.1f} | {g['normal']:.1f} | "
                     f"{g['easy']:.1f} | {g['total']:.1f} |")
    lines += ["", ("Hard: the correct answer is plainer than the wrong one (upper-right "
              "triangle); normal: same style; easy: the correct answer is richer. Overall: mean "
              "over the domains present."), ""]
    for d, g in result.items():
        if "matrix" not in g:
            continue
        lines += [f"**{d}** (% of prompts where chosen style beats rejected style)", "",
                  "| chosen \\ rejected | " + " | ".join(STYLES) + " |", "|---|---:|---:|---:|"]
        lines += [f"| {a} | " + " | ".join(f"{c:.1f}" for c in row) + " |"
                  for a, row in zip(STYLES, g["matrix"], strict=True)]
        lines.append("")
    return lines

"""Preference graphs (IF-RewardBench style): gold as pairwise edges, a partial order.

File: JSONL (or a JSON list), one row per prompt: ``id``, ``prompt`` (or ``instruction``),
``responses`` (a list, ids ``"0"``, ``"1"``..., or an object id -> text), ``edges`` (or
``preferences``): ``[better, worse]`` id pairs; optional ``subset``. Pairs without an edge are
incomparable and never scored. A cycle is an input error.

Scoring: each list is ranked listwise, in two orders. Over the gold edges, with C edges the
judge orders the same way, D the other way and T left tied: pairwise accuracy =
(C + T/2) / edges (micro, over all edges), and Kendall tau-b restricted to the edges =
(C - D) / sqrt(edges x (edges - T)) per list, averaged over lists. Both are means over the two
orders.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judge.bench.gold import GoldItem
from judge.bench.published.base import PublishedSuite, no_data, read_rows, text_of
from judge.bench.published.orders import all_orders
from judge.errors import InputError

NAME = "prefgraph"
BUILDER = "prefgraph/1"
PRINCIPLE = ("Prefer the response that follows every instruction and constraint in the prompt; "
             "among those that follow them equally, prefer the more helpful and accurate one.")


def _levels(ids: list[str], edges: list[tuple[str, str]], where: tuple[Path, int]) -> dict[str, float]:
    """Longest-path depth from the bottom: a value order consistent with every edge."""
    worse: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        worse[a].append(b)
    level: dict[str, float] = {}
    visiting: set[str] = set()

    def depth(node: str) -> float:
        if node in level:
            return level[node]
        if node in visiting:
            raise InputError(f"{NAME}: the edges contain a cycle through {node!r}",
                             path=str(where[0]), line=where[1], field="edges")
        visiting.add(node)
        level[node] = 1.0 + max((depth(w) for w in worse[node]), default=0.0)
        visiting.discard(node)
        return level[node]

    return {i: depth(i) for i in ids}


def _row_item(row: Mapping[str, Any], path: Path, line: int) -> GoldItem:
    prompt = row.get("prompt", row.get("instruction"))
    if prompt is None:
        raise InputError(f"{NAME}: is required (or 'instruction')", path=str(path), line=line,
                         field="prompt")
    raw = row.get("responses")
    if isinstance(raw, list):
        responses = {str(n): text_of(t, NAME, path, line, "responses") for n, t in enumerate(raw)}
    elif isinstance(raw, Mapping):
        responses = {str(k): text_of(t, NAME, path, line, "responses") for k, t in raw.items()}
    else:
        raise InputError(f"{NAME}: is required (a list of texts or an object id -> text)",
                         path=str(path), line=line, field="responses")
    key = "edges" if "edges" in row else "preferences"
    raw_edges = row.get(key)
    if not isinstance(raw_edges, list) or not raw_edges:
        raise InputError(f"{NAME}: is required: a non-empty list of [better, worse] id pairs",
                         path=str(path), line=line, field="edges")
    edges = []
    for n, e in enumerate(raw_edges):
        if not (isinstance(e, list) and len(e) == 2 and all(str(x) in responses for x in e)):
            raise InputError(f"{NAME}: entry {n} must be [better, worse] with response ids "
                             f"from {sorted(responses)}, got {e!r}", path=str(path), line=line,
                             field=key)
        edges.append((str(e[0]), str(e[1])))
    subset = str(row.get("subset") or "all")
    return GoldItem(
        id=str(row.get("id", f"{path.stem}-{line}")), principle=str(row.get("principle")
                                                                   or PRINCIPLE),
        prompt=text_of(prompt, NAME, path, line, "prompt"), responses=responses,
        scores=_levels(list(responses), edges, (path, line)), category=subset, domain="chat",
        metadata={"subset": subset, "edges": [list(e) for e in edges]})


def load(root: Path) -> PublishedSuite:
    """Build the suite from a file or every ``.jsonl`` / ``.json`` file under a folder.

    Raises:
        InputError: no file, or a bad row (adapter, file, line and field named).
    """
    files = ([root] if root.is_file() else
             sorted(p for p in root.rglob("*") if p.suffix in (".jsonl", ".json")))
    if not files:
        raise no_data(NAME, root, "JSONL rows with prompt, responses and edges")
    items = [_row_item(row, path, line) for path in files for line, row in read_rows(path, NAME)]
    if not items:
        raise no_data(NAME, root, "rows with prompt, responses and edges")
    return PublishedSuite(NAME, items, BUILDER, str(root), benchmark=NAME)


def edge_counts(values: Mapping[str, float] | None, edges: Sequence[Sequence[str]]
                ) -> tuple[int, int, int]:
    """(concordant, discordant, tied) edges; no verdict counts every edge discordant.

    >>> edge_counts({"0": 3, "1": 2, "2": 2}, [["0", "1"], ["0", "2"], ["2", "1"]])
    (2, 0, 1)
    """
    if values is None:
        return 0, len(edges), 0
    c = sum(values[a] > values[b] for a, b in edges)
    t = sum(values[a] == values[b] for a, b in edges)
    return c, len(edges) - c - t, t


def tau_b(c: int, d: int, t: int) -> float | None:
    """Kendall tau-b over edges (gold has no ties on an edge); None when every edge is tied."""
    n = c + d + t
    return (c - d) / math.sqrt(n * (n - t)) if n > t else None


def _per_order(record: Mapping[str, Any]) -> list[tuple[int, int, int]]:
    edges = record["meta"]["edges"]
    return [edge_counts(v, edges) for v in all_orders(record)]


def item_score(record: Mapping[str, Any]) -> float:
    """Pairwise accuracy over the list's edges, mean over the orders."""
    parts = _per_order(record)
    return sum((c + t / 2) / (c + d + t) for c, d, t in parts) / max(len(parts), 1)


def score(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Pairwise accuracy over edges and mean tau-b, per subset and overall."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        groups["overall"].append(r)
        groups[str(r["meta"]["subset"])].append(r)
    out: dict[str, Any] = {}
    for name, rows in groups.items():
        parts = [p for r in rows for p in _per_order(r)]
        edges = sum(c + d + t for c, d, t in parts)
        taus = [x for x in (tau_b(*p) for p in parts) if x is not None]
        out[name] = {"lists": len(rows), "edges": edges // 2 if rows else 0,
                     "accuracy": 100.0 * sum(c + t / 2 for c, _, t in parts) / edges,
                     "tau_b": 100.0 * sum(taus) / len(taus) if taus else None}
    if len(out) == 2:   # one subset: it is the overall row
        out = {"overall": out["overall"]}
    return out


def markdown(result: Mapping[str, Any]) -> list[str]:
    """Accuracy over edges and tau-b per subset."""
    lines = ["| Subset | Lists | Edges | Pairwise accuracy | τ-b ×100 |", "|---|---:|---:|---:|---:|"]
    for name, g in result.items():
        tau = "–" if g["tau_b"] is None else f"{g['tau_b']:.1f}"
        lines.append(f"| {name} | {g['lists']} | {g['edges']} | {g['accuracy']:.1f} | {tau} |")
    return lines + ["", ("Only gold edges are scored; incomparable pairs are not. Means over "
                    "both orders.")]

"""Judge each list in a seeded order and in its reverse; read one order's verdict back.

The published benchmarks score a judge on both presentation orders (JudgeBench, LLMBar) or use
the second order only to measure position bias. Each run record then carries ``orders``: two
entries ``{"order", "status", "scores", "ranking"}``, the first the seeded order (the given order
with ``--no-shuffle``), the second its reverse. A scoring backend (a reward head) scores each
response on its own, so its one verdict stands for both orders (``scored_once`` on the second).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from judge.backends.base import ScoringBackend
from judge.bench.aggregate import predicted_values
from judge.bench.gold import GoldItem
from judge.core import Judge
from judge.ordering import presentation_orders
from judge.types import USABLE_STATUSES, Judgment

#: Recorded in the judge configuration of a both-orders run (part of every record's key).
ORDERS = "seeded+reversed"


def order_pair(item: GoldItem, judge: Judge) -> tuple[list[str], list[str]]:
    """The seeded presentation order of ``item`` and its reverse."""
    first = presentation_orders(list(item.responses), seed=judge.seed,
                                item_key=item.content_hash(), count=1,
                                shuffle=judge.shuffle)[0]
    return first, first[::-1]


def judge_both_orders(judge: Judge, items: Sequence[GoldItem],
                      done: Callable[[int, list[dict[str, Any]], Judgment], None]) -> None:
    """Judge every item twice (seeded order, then reversed) in one backend batch.

    Args:
        judge: the judge; a copy that shows responses exactly in the order given is used.
        items: the lists.
        done: called per item with (index, the two order entries, the first order's judgment).
    """
    fixed = copy.copy(judge)
    fixed.shuffle, fixed.permutations = False, 1
    # a scoring backend (reward head), or a judge run --pointwise, scores each response alone:
    # the reverse order would get the same scores, so it is not scored twice (JudgeBench's
    # single-game mode for reward models), and score ties cannot pose as position bias
    alone = isinstance(judge.backend, ScoringBackend) or judge.pointwise
    orders = [order_pair(it, judge) for it in items]
    batch = []
    for it, pair in zip(items, orders, strict=True):
        for order in pair[:1] if alone else pair:
            row = it.to_rank_item()
            row["responses"] = {rid: it.responses[rid] for rid in order}
            batch.append(row)
    verdicts = fixed.rank(batch)
    if alone:
        verdicts = [j for j in verdicts for _ in range(2)]
    for n, pair in enumerate(orders):
        entries: list[dict[str, Any]] = [
            {"order": order, "status": j.status, "scores": j.scores, "ranking": j.ranking}
                   for order, j in zip(pair, verdicts[2 * n: 2 * n + 2], strict=True)]
        if alone:
            entries[1]["scored_once"] = True
        done(n, entries, verdicts[2 * n])


def entry_values(record: Mapping[str, Any], entry: Mapping[str, Any], *,
                 prefer_scores: bool = False) -> dict[str, float] | None:
    """Predicted values (higher = better) of one order's verdict; None when it has none.

    The ranking when the judge gave one (reward heads and ``prefer_scores``: the scores).
    """
    if entry.get("status") not in USABLE_STATUSES:
        return None
    ids = list(record["gold"])
    use_ranking = not record.get("direct", False) and not prefer_scores
    values = predicted_values(ids, entry.get("scores"), entry.get("ranking"),
                              use_ranking=use_ranking)
    if values is None and prefer_scores:
        values = predicted_values(ids, entry.get("scores"), entry.get("ranking"))
    return values


def prefers(values: Mapping[str, float] | None, a: str, b: str) -> str | None:
    """``a``, ``b`` or ``tie``: which of two responses the values put first (None: no verdict)."""
    if values is None:
        return None
    if values[a] == values[b]:
        return "tie"
    return a if values[a] > values[b] else b


def all_orders(record: Mapping[str, Any], **kw: bool) -> list[dict[str, float] | None]:
    """The values of each order's verdict of a both-orders record."""
    return [entry_values(record, e, **kw) for e in record.get("orders") or []]

"""Position and length bias of a both-orders run.

- **Order flips**: a list's verdict *changes* when the order its scores put the responses in
  (equal scores tied) differs between the seeded order and its reverse (for a pair: the winner,
  or win vs tie). The pair-level share counts, over all response pairs, those whose preference
  differs. Scores are used rather than the ranking, so a tie the ranking breaks one way in one
  order and the other way in the other is not a flip (judges without scores: their ranking).
- **Longer wins**: over response pairs of different length (characters), the share where the
  judge puts the longer one first (a tie counts 1/2), averaged over both orders. The same share
  for the gold order is given beside it: a judge that agrees with longer-wins more than the gold
  does leans towards length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from judge.bench.published.orders import all_orders, prefers


def _order_key(values: Mapping[str, float]) -> tuple[tuple[str, ...], ...]:
    """The verdict as groups of equally placed ids, best first."""
    ranks = sorted(set(values.values()), reverse=True)
    return tuple(tuple(sorted(k for k, v in values.items() if v == r)) for r in ranks)


def bias(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Order-flip and longer-wins figures (percent) for a run's both-orders records."""
    lists = flipped = pairs = pair_flips = 0
    judged_long = gold_long = 0.0
    n_long = n_gold_long = 0
    for record in records:
        values = all_orders(record, prefer_scores=True)
        lengths = record.get("lengths") or {}
        ids = list(record["gold"])
        gold = {k: float(v) for k, v in record["gold"].items()}
        both = [v for v in values if v is not None]
        if len(values) == 2 and len(both) == 2:
            lists += 1
            flipped += _order_key(both[0]) != _order_key(both[1])
            for a, b in combinations(ids, 2):
                pairs += 1
                pair_flips += prefers(both[0], a, b) != prefers(both[1], a, b)
        for a, b in combinations(ids, 2):
            if a not in lengths or b not in lengths or lengths[a] == lengths[b]:
                continue
            longer = a if lengths[a] > lengths[b] else b
            if gold[a] != gold[b]:
                n_gold_long += 1
                gold_long += prefers(gold, a, b) == longer
            for v in both:
                n_long += 1
                verdict = prefers(v, a, b)
                judged_long += 1.0 if verdict == longer else 0.5 if verdict == "tie" else 0.0
    return {
        "lists_both_orders": lists,
        "order_flip_rate": 100.0 * flipped / lists if lists else None,
        "pair_flip_rate": 100.0 * pair_flips / pairs if pairs else None,
        "longer_wins_agreement": 100.0 * judged_long / n_long if n_long else None,
        "gold_longer_wins": 100.0 * gold_long / n_gold_long if n_gold_long else None,
        "length_pairs": n_long,
    }

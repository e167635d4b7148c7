"""Ranking metrics for one list, pure functions of gold and predicted values (higher = better).

Definitions and formulas are in ``docs/metrics.md``; in short, for one list with gold values
``g`` and predicted values ``p``:

- pairwise accuracy: over pairs with ``g_i != g_j``, credit 1 when ``p`` orders them the same
  way, 1/2 when ``p_i == p_j``, else 0 (:func:`pairwise_credit`);
- Kendall tau-b between ``g`` and ``p``;

(these two, with their tie rule, are defined once in :mod:`judge.metrics` and re-exported here)
- NDCG with gain ``g_i`` and discount ``1 / log2(rank + 1)``, ties in ``p`` averaged exactly as
  ``sklearn.metrics.ndcg_score`` does;
- top-1: the share of the predicted best (ties split) that is gold-best;
- variance: population variance of the judge's scores within the list.

Lists are aggregated (with bootstrap intervals) in :mod:`judge.bench.aggregate`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from judge.metrics import kendall_tau_b, pairwise_accuracy, pairwise_credit

__all__ = ["chance_ndcg", "chance_top1", "dcg", "kendall_tau_b", "ndcg", "pairwise_accuracy",
           "pairwise_credit", "score_variance", "top1"]


def _check(gold: Sequence[float], pred: Sequence[float]) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} values but the prediction {len(pred)}")


def dcg(gains: Sequence[float], pred: Sequence[float], k: int | None = None) -> float:
    """Discounted cumulative gain of ordering ``gains`` by ``pred`` (descending).

    Responses tied in ``pred`` share the average of their gains over the ranks they occupy
    (sklearn's tie-averaged DCG). Discount at rank ``r`` (1-based) is ``1 / log2(r + 1)``.

    >>> round(dcg([3, 2, 1], [0.9, 0.5, 0.1]), 4)   # 3/1 + 2/log2(3) + 1/2
    4.7619
    >>> round(dcg([3, 1], [1, 1]), 4)               # tied: mean gain 2 at ranks 1 and 2
    3.2619
    """
    _check(gains, pred)
    y = np.asarray(gains, dtype=float)
    s = np.asarray(pred, dtype=float)
    n = len(y)
    discount = 1.0 / np.log2(np.arange(n) + 2.0)
    if k is not None:
        discount[k:] = 0.0
    _, inverse, counts = np.unique(-s, return_inverse=True, return_counts=True)
    mean_gain = np.zeros(len(counts))
    np.add.at(mean_gain, inverse, y)
    mean_gain /= counts
    cum = np.cumsum(discount)
    ends = np.cumsum(counts) - 1
    group_discount = np.diff(np.concatenate(([0.0], cum[ends])))
    return float((mean_gain * group_discount).sum())


def ndcg(gold: Sequence[float], pred: Sequence[float], k: int | None = None) -> float:
    """Normalised DCG with gains = gold values, equal to ``sklearn.metrics.ndcg_score``.

    As in sklearn, a list whose gains are all zero scores 0.

    Raises:
        ValueError: a negative gold value (gains must be >= 0).

    >>> ndcg([3, 2, 1], [3, 2, 1]), round(ndcg([3, 2, 1], [1, 2, 3]), 4)
    (1.0, 0.79)
    """
    if any(g < 0 for g in gold):
        raise ValueError("NDCG needs non-negative gold values (they are the gains)")
    ideal = dcg(gold, gold, k)
    return dcg(gold, pred, k) / ideal if ideal > 0 else 0.0


def top1(gold: Sequence[float], pred: Sequence[float]) -> float:
    """Share of the predicted best responses (ties split evenly) that are gold-best.

    >>> top1([3, 2, 1], [5, 1, 1]), top1([3, 2, 1], [4, 4, 1]), top1([3, 3, 1], [1, 2, 0])
    (1.0, 0.5, 1.0)
    """
    _check(gold, pred)
    gbest, pbest = max(gold), max(pred)
    picked = [i for i, v in enumerate(pred) if v == pbest]
    return sum(1 for i in picked if gold[i] == gbest) / len(picked)


def score_variance(scores: Sequence[float]) -> float:
    """Population variance (divide by k) of one list's predicted scores.

    >>> score_variance([1, 3, 5]), score_variance([2, 2])
    (2.6666666666666665, 0.0)
    """
    return float(np.var(np.asarray(scores, dtype=float)))


def chance_ndcg(gold: Sequence[float]) -> float:
    """Expected NDCG of a uniformly random strict order of the list (exact, not simulated).

    Each response lands on each rank with probability 1/k, so E[DCG] = mean(gains) x the sum of
    the k discounts — which is the tie-averaged DCG of a prediction that ties every response.

    >>> round(chance_ndcg([1, 0]), 4)      # (1 + 1/log2 3) / 2
    0.8155
    """
    return ndcg(gold, [0.0] * len(gold))


def chance_top1(gold: Sequence[float]) -> float:
    """Expected top-1 of a uniformly random order: the share of responses that are gold-best
    (again the value of an all-tied prediction).

    >>> chance_top1([3, 3, 1, 0])
    0.5
    """
    return top1(gold, [0.0] * len(gold))

"""Ranking metrics for one list, pure functions of gold and predicted values (higher = better).

Definitions and formulas are in ``docs/metrics.md``; in short, for one list with gold values
``g`` and predicted values ``p``:

- pairwise accuracy: over pairs with ``g_i != g_j``, credit 1 when ``p`` orders them the same
  way, 1/2 when ``p_i == p_j``, else 0 (:func:`pairwise_credit`);
- Kendall tau-b between ``g`` and ``p`` (``scipy.stats.kendalltau``, variant ``"b"``);
- NDCG with gain ``g_i`` and discount ``1 / log2(rank + 1)``, ties in ``p`` averaged exactly as
  ``sklearn.metrics.ndcg_score`` does;
- top-1: the share of the predicted best (ties split) that is gold-best;
- variance: population variance of the judge's scores within the list.

Lists are aggregated (with bootstrap intervals) in :mod:`judge.bench.aggregate`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np

from judge.errors import missing_dependency


def _check(gold: Sequence[float], pred: Sequence[float]) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} values but the prediction {len(pred)}")


def pairwise_credit(gold: Sequence[float], pred: Sequence[float]) -> tuple[float, int]:
    """Credit over gold-ordered pairs and how many such pairs there are.

    A pair with equal gold values is skipped; a predicted tie earns 1/2.

    >>> pairwise_credit([3, 2, 1], [3, 1, 1])      # (a,b) right, (a,c) right, (b,c) tied
    (2.5, 3)
    >>> pairwise_credit([2, 2, 1], [1, 2, 3])      # gold tie (a,b) excluded, both others wrong
    (0.0, 2)
    """
    _check(gold, pred)
    credit, pairs = 0.0, 0
    for i, j in combinations(range(len(gold)), 2):
        if gold[i] == gold[j]:
            continue
        pairs += 1
        if pred[i] == pred[j]:
            credit += 0.5
        elif (gold[i] > gold[j]) == (pred[i] > pred[j]):
            credit += 1.0
    return credit, pairs


def pairwise_accuracy(gold: Sequence[float], pred: Sequence[float]) -> float | None:
    """Share of gold-ordered pairs the prediction orders the same way (ties 1/2); None if none.

    >>> pairwise_accuracy([1, 2], [0.3, 0.9]), pairwise_accuracy([1, 1], [0, 1])
    (1.0, None)
    """
    credit, pairs = pairwise_credit(gold, pred)
    return credit / pairs if pairs else None


def kendall_tau_b(gold: Sequence[float], pred: Sequence[float]) -> float | None:
    """Kendall's tau-b (scipy); None when either side is constant (undefined).

    >>> kendall_tau_b([3, 2, 1], [1, 2, 3]), kendall_tau_b([1, 1, 1], [1, 2, 3])
    (-1.0, None)
    """
    _check(gold, pred)
    try:
        from scipy.stats import kendalltau
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_dependency("Kendall tau", "scipy", "bench") from None
    if len(gold) < 2:
        return None
    value = float(kendalltau(gold, pred, variant="b").statistic)
    return None if math.isnan(value) else value


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

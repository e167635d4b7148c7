"""Ranking agreement between a reference order and a predicted one, defined once.

Used by ``judge bench`` (gold vs judge, :mod:`judge.bench.metrics`), ``judge distill`` (teacher
vs student, :mod:`judge.distill.metrics`) and the judge's own permutation consistency. Values
are "higher is better" numbers per response; ``ref`` is the reference (gold, teacher), ``pred``
the prediction.

The tie rule, the same everywhere:

* a pair the reference ties is not a pair to get right: it is left out;
* a pair the prediction ties earns 1/2 in pairwise accuracy;
* Kendall tau-b is undefined (None) when the reference ties every response, or there are fewer
  than two; when only the prediction ties every response it is 0 (it agrees with nothing),
  matching its 1/2-per-pair accuracy, so a judge that refuses to decide is not left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations


def _check(ref: Sequence[float], pred: Sequence[float]) -> None:
    if len(ref) != len(pred):
        raise ValueError(f"the reference has {len(ref)} values but the prediction {len(pred)}")


def pairwise_credit(ref: Sequence[float], pred: Sequence[float]) -> tuple[float, int]:
    """Credit over the reference-ordered pairs and how many such pairs there are.

    >>> pairwise_credit([3, 2, 1], [3, 1, 1])      # (a,b) right, (a,c) right, (b,c) tied
    (2.5, 3)
    >>> pairwise_credit([2, 2, 1], [1, 2, 3])      # reference tie (a,b) left out, both wrong
    (0.0, 2)
    """
    _check(ref, pred)
    credit, pairs = 0.0, 0
    for i, j in combinations(range(len(ref)), 2):
        if ref[i] == ref[j]:
            continue
        pairs += 1
        if pred[i] == pred[j]:
            credit += 0.5
        elif (ref[i] > ref[j]) == (pred[i] > pred[j]):
            credit += 1.0
    return credit, pairs


def pairwise_accuracy(ref: Sequence[float], pred: Sequence[float]) -> float | None:
    """Share of reference-ordered pairs the prediction orders the same way (ties 1/2); None
    without such pairs.

    >>> pairwise_accuracy([1, 2], [0.3, 0.9]), pairwise_accuracy([1, 1], [0, 1])
    (1.0, None)
    """
    credit, pairs = pairwise_credit(ref, pred)
    return credit / pairs if pairs else None


def kendall_tau_b(ref: Sequence[float], pred: Sequence[float]) -> float | None:
    """Kendall's tau-b (as ``scipy.stats.kendalltau(variant="b")``), with the module's tie rule.

    >>> kendall_tau_b([3, 2, 1], [1, 2, 3]), kendall_tau_b([1, 1, 1], [1, 2, 3])
    (-1.0, None)
    >>> kendall_tau_b([3, 2, 1], [4, 4, 4])
    0.0
    """
    _check(ref, pred)
    n0 = n1 = n2 = signed = 0
    for i, j in combinations(range(len(ref)), 2):
        n0 += 1
        dr, dp = ref[i] - ref[j], pred[i] - pred[j]
        n1 += dr == 0
        n2 += dp == 0
        signed += (dr > 0) - (dr < 0) if dp > 0 else (dr < 0) - (dr > 0) if dp < 0 else 0
    if n0 == 0 or n1 == n0:
        return None
    if n2 == n0:
        return 0.0
    tau = signed / math.sqrt(n0 - n1) / math.sqrt(n0 - n2)
    return max(-1.0, min(1.0, tau))  # rounding can step just outside, as scipy notes


def ranking_tau(a: Sequence[str], b: Sequence[str]) -> float:
    """Kendall tau between two strict rankings (best first) of the same ids.

    >>> ranking_tau(["x", "y", "z"], ["x", "y", "z"]), ranking_tau(["x", "y"], ["y", "x"])
    (1.0, -1.0)
    """
    pos = {item: n for n, item in enumerate(b)}
    tau = kendall_tau_b([-n for n in range(len(a))], [-pos[item] for item in a])
    return 1.0 if tau is None else tau

"""Chosen/rejected pairs from judged responses, for DPO or reward-model training.

A pair is emitted only when the chosen response scored strictly higher than the rejected one by
more than ``min_margin``: equal scores (ties the judge broke arbitrarily) never become
preferences. The margin is the score difference on the judge's scale (or the head's raw scale),
which TRL's ``RewardTrainer`` reads from a ``margin`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Literal, get_args

from judge.errors import ConfigError

PairMode = Literal["all", "best-worst"]
PAIR_MODES: tuple[str, ...] = get_args(PairMode)


def make_pairs(scores: Sequence[float], *, mode: str = "all",
               min_margin: float = 0.0) -> list[tuple[int, int, float]]:
    """Index pairs ``(chosen, rejected, margin)`` from one group's scores.

    Args:
        scores: one score per response.
        mode: ``"all"`` (every ordered pair with a large enough margin) or ``"best-worst"`` (the
            top-scored response against the bottom-scored one; the first in input order wins a
            tie for either place).
        min_margin: keep pairs whose score difference is greater than this.

    >>> make_pairs([3, 5, 1])
    [(1, 0, 2.0), (0, 2, 2.0), (1, 2, 4.0)]
    >>> make_pairs([3, 5, 1], mode="best-worst")
    [(1, 2, 4.0)]
    >>> make_pairs([4, 4])
    []
    """
    if mode not in PAIR_MODES:
        raise ConfigError(f"unknown pair mode '{mode}': choose one of {', '.join(PAIR_MODES)}")
    values = [float(s) for s in scores]
    if len(values) < 2:
        return []
    if mode == "best-worst":
        best = max(range(len(values)), key=lambda i: (values[i], -i))
        worst = min(range(len(values)), key=lambda i: (values[i], i))
        candidates = [(best, worst)]
    else:
        candidates = [(a, b) if values[a] >= values[b] else (b, a)
                      for a, b in combinations(range(len(values)), 2)]
    out = []
    for chosen, rejected in candidates:
        margin = values[chosen] - values[rejected]
        if margin > min_margin:
            out.append((chosen, rejected, margin))
    return out

"""Reward normalisation within one group of responses (one row, or one prompt's generations).

==============  ============================================================================
mode            reward for score ``s`` in a group of ``k`` scores
==============  ============================================================================
``none``        ``s`` unchanged
``group-z``     ``(s - mean) / std`` over the group (population std); 0 for every member
                when the std is 0 or ``k == 1``
``group-rank``  ``(k - 1 - r) / (k - 1)`` where ``r`` is the 0-based rank from best, ties
                sharing their average rank: best 1.0, worst 0.0; 0.5 when ``k == 1``
``group-        ``2 * group-rank - 1``: linear in rank and centred, best 1, worst -1, mean 0
centered``
``minmax``      ``(s - lo) / (hi - lo)`` on the judge's scale (1-5 maps to 0-1); for unbounded
                scores (reward heads) ``lo``/``hi`` are the group's min and max, and every
                member gets 0.5 when they are equal
==============  ============================================================================
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Literal, get_args

from judge.errors import ConfigError

NormalizeMode = Literal["none", "group-z", "group-rank", "group-centered", "minmax"]
NORMALIZE_MODES: tuple[str, ...] = get_args(NormalizeMode)


def check_mode(mode: str) -> NormalizeMode:
    """Validate a normalisation name.

    Raises:
        ConfigError: naming the valid choices.
    """
    if mode not in NORMALIZE_MODES:
        raise ConfigError(f"unknown normalisation '{mode}': choose one of "
                          f"{', '.join(NORMALIZE_MODES)}")
    return mode  # type: ignore[return-value]


def normalize_scores(scores: Sequence[float], mode: str,
                     scale: tuple[float, float] | None = None) -> list[float]:
    """Normalise one group's scores (see the module table).

    >>> normalize_scores([1, 3, 5], "group-rank")
    [0.0, 0.5, 1.0]
    >>> normalize_scores([1, 3, 5], "group-centered")
    [-1.0, 0.0, 1.0]
    >>> normalize_scores([1, 3, 5], "minmax", (1, 5))
    [0.0, 0.5, 1.0]
    >>> normalize_scores([2.0, 2.0], "group-z")
    [0.0, 0.0]
    """
    check_mode(mode)
    values = [float(s) for s in scores]
    k = len(values)
    if mode == "none" or k == 0:
        return values
    if mode == "group-z":
        if k == 1:
            return [0.0]
        mean = statistics.fmean(values)
        std = statistics.pstdev(values)
        return [0.0 if std == 0 else (v - mean) / std for v in values]
    if mode in ("group-rank", "group-centered"):
        ranks = [0.5] if k == 1 else [(k - 1 - _average_rank(values, i)) / (k - 1)
                                      for i in range(k)]
        return ranks if mode == "group-rank" else [2.0 * r - 1.0 for r in ranks]
    lo, hi = scale if scale is not None else (min(values), max(values))
    if hi == lo:
        return [0.5] * k
    return [(v - lo) / (hi - lo) for v in values]


def _average_rank(values: list[float], i: int) -> float:
    """0-based rank of ``values[i]`` counted from the best, ties sharing their mean rank."""
    better = sum(1 for v in values if v > values[i])
    equal = sum(1 for v in values if v == values[i])
    return better + (equal - 1) / 2

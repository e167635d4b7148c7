"""Reward shaping within a group: score-to-reward mapping, length penalty, principle weights.

Mappings (``Reward(normalize=...)``) are :mod:`judge.label.normalize`'s modes, one
implementation shared with ``judge label --normalize``: ``none``, ``minmax``, ``group-rank``,
``group-centered`` (linear in rank, best 1, worst -1, mean 0) and ``group-z``; its module table
gives the formulas.

Then, in this order:

* **principle weights**: a response judged under several principles gets the weighted mean of
  its mapped rewards, ``Σ w_p · reward_p / Σ w_p``;
* **length penalty**: ``length_penalty × max(0, characters - length_free)`` is subtracted.

A failed judgment is never shaped: its sample keeps ``None`` or the fixed fallback value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judge.errors import ConfigError
from judge.label.normalize import NORMALIZE_MODES, check_mode, normalize_scores

#: The score-to-reward mappings (one implementation: :mod:`judge.label.normalize`).
REWARD_MODES: tuple[str, ...] = NORMALIZE_MODES
check_reward_mode = check_mode
map_scores = normalize_scores


def mapped_scale(mode: str, scale: tuple[float, float] | None) -> tuple[float, float] | None:
    """The range mapped rewards fall in (None when unbounded)."""
    if mode in ("minmax", "group-rank"):
        return (0.0, 1.0)
    if mode == "group-centered":
        return (-1.0, 1.0)
    if mode == "group-z":
        return None
    return scale


def check_weights(weights: Mapping[str, Any] | None) -> dict[str, float] | None:
    """Validate per-principle weights (principle id or text → weight > 0).

    Raises:
        ConfigError: an empty map, or a weight that is not a positive number.
    """
    if weights is None:
        return None
    if not isinstance(weights, Mapping) or not weights:
        raise ConfigError("principle_weights must map at least one principle (id or text) "
                          "to a positive weight, e.g. {'correct-then-concise': 2, "
                          "'no-sycophancy': 1}")
    out: dict[str, float] = {}
    for name, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
            raise ConfigError(f"principle_weights['{name}'] must be a number > 0, got {w!r}")
        out[str(name)] = float(w)
    return out


def weighted_mean(per_principle: Sequence[tuple[float, Sequence[float]]]) -> list[float]:
    """``Σ w · rewards / Σ w``, member by member.

    >>> weighted_mean([(3.0, [1.0, 0.0]), (1.0, [0.0, 1.0])])
    [0.75, 0.25]
    """
    total = sum(w for w, _ in per_principle)
    k = len(per_principle[0][1])
    return [sum(w * r[i] for w, r in per_principle) / total for i in range(k)]


def check_length_penalty(length_penalty: float, length_free: int) -> tuple[float, int]:
    """Validate the length knob.

    Raises:
        ConfigError: a negative penalty or free length.
    """
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) \
            or length_penalty < 0:
        raise ConfigError(f"length_penalty must be a number >= 0 (reward per character over "
                          f"length_free), got {length_penalty!r}")
    if isinstance(length_free, bool) or not isinstance(length_free, int) or length_free < 0:
        raise ConfigError(f"length_free must be a whole number of characters >= 0, "
                          f"got {length_free!r}")
    return float(length_penalty), length_free


def penalize_length(rewards: Sequence[float], texts: Sequence[str], length_penalty: float,
                    length_free: int) -> list[float]:
    """Subtract ``length_penalty`` per character beyond ``length_free``.

    >>> penalize_length([1.0, 1.0], ["abc", "abcdefgh"], 0.25, 4)
    [1.0, 0.0]
    """
    if not length_penalty:
        return [float(r) for r in rewards]
    return [r - length_penalty * max(0, len(t) - length_free)
            for r, t in zip(rewards, texts, strict=True)]

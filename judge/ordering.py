"""Seeded presentation orders: masked ids and per-item permutations.

The order responses are shown in is drawn from a ``random.Random`` seeded with the run seed and
the item's content hash: reproducible, different across items of the same size, and never the
global RNG.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

from judge.metrics import ranking_tau


def masked_ids(k: int) -> list[str]:
    """The anonymous ids shown to the judge.

    >>> masked_ids(3)
    ['model-1', 'model-2', 'model-3']
    """
    return [f"model-{i}" for i in range(1, k + 1)]


def presentation_orders(ids: Sequence[str], *, seed: int, item_key: str, count: int = 1,
                        shuffle: bool = True) -> list[list[str]]:
    """Draw ``count`` distinct orders of ``ids`` (as many as exist when fewer).

    With ``shuffle=False`` the first order is the given one; further orders are still drawn.

    >>> presentation_orders(["a", "b"], seed=0, item_key="x", count=2, shuffle=False)
    [['a', 'b'], ['b', 'a']]
    """
    ids = list(ids)
    rng = random.Random(f"{seed}:{item_key}")
    total = math.factorial(len(ids))
    count = min(count, total)
    orders: list[list[str]] = []
    if not shuffle:
        orders.append(list(ids))
    if total <= 24 and count > len(orders):
        rest = [list(p) for p in itertools.permutations(ids) if list(p) not in orders]
        rng.shuffle(rest)
        return orders + rest[: count - len(orders)]
    while len(orders) < count:
        candidate = ids[:]
        rng.shuffle(candidate)
        if candidate not in orders:
            orders.append(candidate)
    return orders


def kendall_tau(a: Sequence[str], b: Sequence[str]) -> float:
    """Kendall tau between two strict rankings of the same ids (:func:`judge.metrics.ranking_tau`).

    >>> kendall_tau(["x", "y", "z"], ["x", "y", "z"]), kendall_tau(["x", "y"], ["y", "x"])
    (1.0, -1.0)
    """
    return ranking_tau(a, b)

"""Argument types that check ranges, so a bad value is refused by argparse naming its option.

``--max-tokens 0`` then ends with ``argument --max-tokens: must be at least 1, got 0`` instead
of a validation error deep inside the library that names an internal field.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse ``type`` for integers ``>= low``.

    >>> int_at_least(1)("3")
    3
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def float_at_least(low: float) -> Callable[[str], float]:
    """An argparse ``type`` for numbers ``>= low``.

    >>> float_at_least(0.0)("0.5")
    0.5
    """
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
        if not value >= low:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be at least {low:g}, got {text}")
        return value

    parse.__name__ = f"number >= {low:g}"
    return parse


def fraction(text: str) -> float:
    """An argparse ``type`` for a number in [0, 1).

    >>> fraction("0.2")
    0.2
    """
    value = float_at_least(0.0)(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be below 1, got {text}")
    return value


#: Shorthands used across the commands.
POSITIVE = int_at_least(1)
NON_NEGATIVE = int_at_least(0)

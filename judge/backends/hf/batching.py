"""Batch planning for the transformers backend: which prompts run together, and what they share.

Prompts are sorted longest first and packed into batches under two caps: a row count and a
token budget counted as ``rows x (longest prompt + answer budget)``, the number of key/value
cache slots the batch holds (the padded area). Sorting keeps padding small; the budget lets
short prompts run in wide batches and long ones in narrow batches.

A batch's rows usually open with the same tokens (a judge's system prompt and principle);
:func:`shared_prefix` measures that run so the engine can compute it once for the batch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence


def plan_batches(lengths: Sequence[int], max_new: int, *, max_rows: int,
                 max_tokens: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped into batches, longest prompts first.

    A batch takes rows while ``rows x (longest + max_new)`` stays within ``max_tokens`` and
    ``rows <= max_rows``; a single prompt over the budget still gets a batch of its own.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            current = batches[-1]
            width = lengths[current[0]] + max_new        # the first row is the longest
            if len(current) < max_rows and (len(current) + 1) * width <= max_tokens:
                current.append(i)
                continue
        batches.append([i])
    return batches


def shared_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Length of the token run every row starts with, leaving each row at least one token."""
    if not rows:
        return 0
    common = os.path.commonprefix([list(r) for r in rows])  # min/max compare: C speed
    return max(0, min(len(common), min(len(r) for r in rows) - 1))

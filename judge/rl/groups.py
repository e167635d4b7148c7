"""Cutting a TRL batch into per-prompt groups, noticing split groups, logging to TRL.

GRPO puts a prompt's ``num_generations`` completions next to each other, but TRL only requires
the *global* generation batch to divide by ``num_generations``: each process scores its own
slice (``per_device_train_batch_size × steps_per_generation`` completions), so with several
processes a group can straddle two slices and is then ranked in two parts.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, get_args

from judge.types import Status

STATUSES: tuple[str, ...] = get_args(Status)

SPLIT_FIX = ("make per_device_train_batch_size × steps_per_generation (the completions one "
             "process scores per call) a multiple of num_generations (TRL itself only checks "
             "the global generation batch)")
SIZE_HINT = "; pass Reward(group_size=num_generations) for an exact check"


class GroupSplitWarning(UserWarning):
    """A prompt's group reached the reward in parts (it is ranked in parts)."""


def batch_spans(keys: Sequence[Hashable], group_size: int | None
                ) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans ``[a, b)`` of the groups in a batch, and a description of each split group.

    A group is a run of consecutive equal keys (prompt and principle), cut into pieces of
    ``group_size`` when it is given. A split group is a run whose length is not a multiple of
    ``group_size``; without ``group_size``, a first or last run shorter than the usual length of
    the runs between them (the most common; the longest on a tie; with only two runs, the
    longer), which is what a slice boundary leaves.

    >>> batch_spans(["a", "a", "b", "b", "b", "b"], 2)
    ([(0, 2), (2, 4), (4, 6)], [])
    >>> spans, split = batch_spans(["a", "b", "b", "b", "c", "c"], None)
    >>> spans
    [(0, 1), (1, 4), (4, 6)]
    >>> split[1]
    'completions 4-5 (2 of them) share a prompt where others have 3'
    >>> len(split)
    2
    """
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i))
            start = i
    split: list[str] = []
    if group_size is not None:
        spans = [(a, min(a + group_size, b)) for a, b in runs for a in range(a, b, group_size)]
        split = [f"completions {a}-{b - 1} ({b - a} of them) share a prompt, not a multiple of "
                 f"group_size={group_size}" for a, b in runs if (b - a) % group_size]
        return spans, split
    if len(runs) >= 2:
        inner = [b - a for a, b in runs[1:-1]] or [b - a for a, b in runs]
        usual = max(statistics.multimode(inner))
        split = [f"completions {a}-{b - 1} ({b - a} of them) share a prompt where others "
                 f"have {usual}" for a, b in (runs[0], runs[-1]) if b - a < usual]
    return runs, split


def log_to_trl(kwargs: Mapping[str, Any], name: str, statuses: Sequence[str],
               failed: Sequence[bool], counts: Mapping[str, int]) -> None:
    """Report one call's outcome through TRL's ``log_metric`` / ``log_extra`` when given.

    ``log_metric(name, value)`` (TRL >= 1.0) gets, per call: ``<name>/failed_frac`` (the
    share of samples whose judgment failed), the sample counts per judge status
    ``<name>/status_<status>`` (every status, so every step has the same keys) and ``counts`` (``fallback``, ``none``, ``split_groups``) as ``<name>/<key>``;
    TRL averages each over the logging step. ``log_extra(column, values)`` gets each sample's
    status in the completions table as ``<name>_status``.
    """
    log_metric: Callable[[str, float], None] | None = kwargs.get("log_metric")
    log_extra: Callable[[str, list[Any]], None] | None = kwargs.get("log_extra")
    if callable(log_metric) and statuses:
        per_status = Counter(statuses)
        log_metric(f"{name}/failed_frac", sum(failed) / len(statuses))
        for status in STATUSES:
            log_metric(f"{name}/status_{status}", float(per_status[status]))
        for key, value in counts.items():
            log_metric(f"{name}/{key}", float(value))
    if callable(log_extra) and statuses:
        log_extra(f"{name}_status", list(statuses))

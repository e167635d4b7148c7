"""Paired differences between runs on the items they share, with bootstrap intervals.

Each run gives one value per item: the benchmark's own per-item score for published benchmarks
(e.g. JudgeBench: 1 when the net vote is right), otherwise the list's pairwise accuracy. Items are
matched by content hash (the same prompt, responses and gold); lists a run could not score count
as 0 (its strict accuracy), so a judge is not rewarded for failing to answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judge.bench.aggregate import list_result
from judge.bench.published import adapter_for
from judge.errors import BenchmarkError


def item_values(manifest: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
                ) -> dict[str, float]:
    """Item content hash -> the run's value on that item (0..1)."""
    adapter = adapter_for(manifest)
    out = {}
    for r in records:
        if adapter is not None:
            out[str(r["item_hash"])] = adapter.item_score(r)
        else:
            res = list_result(r, strict=True)
            out[str(r["item_hash"])] = res.credit / res.pairs if res.pairs else 0.0
    return out


def paired(runs: Mapping[str, Mapping[str, float]], *, resamples: int = 1000, seed: int = 0,
           level: float = 0.95) -> dict[str, Any]:
    """Each run against the first, on the items every run judged.

    Returns:
        ``{"common": n, "items": {label: n}, "same_items": bool, "baseline": label,
        "differences": {label: {"mean_a", "mean_b", "diff", "ci"}}}`` (values x100).

    Raises:
        BenchmarkError: the runs share no item (nothing can be compared).
    """
    labels = list(runs)
    common = sorted(set.intersection(*(set(v) for v in runs.values()))) if runs else []
    sizes = {k: len(v) for k, v in runs.items()}
    same = all(set(v) == set(runs[labels[0]]) for v in runs.values())
    if not common:
        raise BenchmarkError("the runs share no item: they judged different suites or disjoint "
                             "--limit slices (" + ", ".join(f"{k}: {n} items"
                                                           for k, n in sizes.items())
                             + "); compare runs of the same suite")
    base = np.array([runs[labels[0]][h] for h in common])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(common), size=(resamples, len(common))) if resamples else None
    alpha = (1.0 - level) / 2.0
    diffs: dict[str, Any] = {}
    for label in labels[1:]:
        other = np.array([runs[label][h] for h in common])
        d = other - base
        ci: list[float | None] = [None, None]
        if idx is not None and len(common) > 1:
            lo, hi = np.quantile(d[idx].mean(axis=1), [alpha, 1.0 - alpha])
            ci = [100.0 * float(lo), 100.0 * float(hi)]
        diffs[label] = {"mean_a": 100.0 * float(base.mean()), "mean_b": 100.0 * float(other.mean()),
                        "diff": 100.0 * float(d.mean()), "ci": ci}
    return {"common": len(common), "items": sizes, "same_items": same, "baseline": labels[0],
            "differences": diffs}


def markdown(result: Mapping[str, Any]) -> list[str]:
    """The paired table, preceded by a warning when the item sets differ."""
    out = ["## Paired differences on common items", ""]
    if not result["same_items"]:
        sizes = ", ".join(f"{k}: {n}" for k, n in result["items"].items())
        out += [(f"**Warning: the runs judged different item sets ({sizes} items); only the "
                f"{result['common']} items every run judged are compared below, and the "
                "per-run tables above are not comparable.**"), ""]
    out += [(f"Against {result['baseline']}, on {result['common']} common items "
            "(per-item score x100; 95 % paired bootstrap interval)."), "",
            "| Run | Baseline | This run | Difference | 95 % interval |", "|---|---:|---:|---:|---|"]
    for label, d in result["differences"].items():
        lo, hi = d["ci"]
        ci = "–" if lo is None else f"[{lo:+.1f}, {hi:+.1f}]"
        out.append(f"| {label} | {d['mean_a']:.1f} | {d['mean_b']:.1f} | {d['diff']:+.1f} | "
                   f"{ci} |")
    return out + [""]

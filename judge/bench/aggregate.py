"""Per-list results from run records, and group figures with bootstrap confidence intervals.

Figures are reported x100 (accuracy, tau, NDCG, top-1 and the rates, in percent or tau x 100, as
RABench does); variance stays on the judge's own score scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from judge.bench import metrics
from judge.types import USABLE_STATUSES

#: Figures computed for every group, in report order.
FIGURES: tuple[str, ...] = ("accuracy", "tau", "ndcg", "top1", "variance", "unparsed_rate",
                            "error_rate")


@dataclass(frozen=True)
class ListResult:
    """One list's metric values (None where undefined or not judged)."""

    category: str
    domain: str
    principle: str
    status: str
    outcome: str
    """``scored`` (the verdict gave usable values), ``unparsed`` or ``backend_error``."""
    judged: bool
    """Whether predicted values entered the metrics (scored, or the strict stand-in)."""
    credit: float
    pairs: int
    tau: float | None
    ndcg: float | None
    top1: float | None
    variance: float | None


def predicted_values(ids: Sequence[str], scores: Mapping[str, float] | None,
                     ranking: Sequence[str] | None, *, use_ranking: bool = True
                     ) -> dict[str, float] | None:
    """Numbers (higher = better) standing for the judge's verdict on one list.

    The judge's best-to-worst ranking when it gave a complete one (``k - position``), else its
    scores (where ties stay ties). ``use_ranking=False`` (reward heads, whose ranking is just a
    sort of the scores with arbitrary tie order) always uses the scores.

    >>> predicted_values(["a", "b"], {"a": 4, "b": 4}, ["b", "a"])
    {'b': 2.0, 'a': 1.0}
    >>> predicted_values(["a", "b"], {"a": 4, "b": 4}, ["b", "a"], use_ranking=False)
    {'a': 4.0, 'b': 4.0}
    """
    if use_ranking and ranking and sorted(ranking) == sorted(ids):
        return {rid: float(len(ranking) - pos) for pos, rid in enumerate(ranking)}
    if scores and all(i in scores for i in ids):
        return {i: float(scores[i]) for i in ids}
    return None


def list_result(record: Mapping[str, Any], *, strict: bool = False) -> ListResult:
    """Score one run record (see :mod:`judge.bench.runner` for its fields).

    Unparsed and failed lists carry no metrics by default. With ``strict`` they count as wrong:
    as if the judge had answered the gold order reversed, with top-1 0.
    """
    gold: dict[str, float] = {k: float(v) for k, v in record["gold"].items()}
    ids = list(gold)
    g = [gold[i] for i in ids]
    pred = None
    if record["status"] in USABLE_STATUSES:
        pred = predicted_values(ids, record.get("scores"), record.get("ranking"),
                                use_ranking=not record.get("direct", False))
    outcome = ("scored" if pred is not None else
               "backend_error" if record["status"] == "backend_error" else "unparsed")
    stand_in = pred is None and strict
    if stand_in:
        pred = {i: -v for i, v in gold.items()}
    base = {"category": str(record["category"]), "domain": str(record["domain"]),
            "principle": str(record["principle_name"]), "status": str(record["status"]),
            "outcome": outcome}
    if pred is None:
        return ListResult(**base, judged=False, credit=0.0, pairs=0, tau=None, ndcg=None,
                          top1=None, variance=None)
    p = [pred[i] for i in ids]
    informative = len(set(g)) > 1
    credit, pairs = metrics.pairwise_credit(g, p)
    scores = record.get("scores")
    return ListResult(
        **base, judged=True, credit=credit, pairs=pairs,
        tau=metrics.kendall_tau_b(g, p) if informative else None,
        ndcg=metrics.ndcg(g, p) if informative and min(g) >= 0 else None,
        top1=(0.0 if stand_in else metrics.top1(g, p)) if informative else None,
        variance=(metrics.score_variance([float(scores[i]) for i in ids])
                  if scores and not stand_in and all(i in scores for i in ids) else None),
    )


def chance_result(record: Mapping[str, Any]) -> ListResult:
    """What a judge that orders the list uniformly at random scores on it, in expectation:
    accuracy 1/2 of the gold-ordered pairs, tau 0, and the exact expected NDCG and top-1
    (they depend only on the gold labels)."""
    g = [float(v) for v in record["gold"].values()]
    informative = len(set(g)) > 1
    pairs = sum(1 for i in range(len(g)) for j in range(i + 1, len(g)) if g[i] != g[j])
    return ListResult(
        category=str(record["category"]), domain=str(record["domain"]),
        principle=str(record["principle_name"]), status="chance", outcome="scored",
        judged=True, credit=pairs / 2.0, pairs=pairs, tau=0.0 if informative else None,
        ndcg=metrics.chance_ndcg(g) if informative and min(g) >= 0 else None,
        top1=metrics.chance_top1(g) if informative else None, variance=None)


def _column(results: Sequence[ListResult], name: str) -> np.ndarray:
    return np.array([np.nan if getattr(r, name) is None else getattr(r, name)
                     for r in results], dtype=float)


def _statistics(results: Sequence[ListResult]) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """For each figure, a function: rows of list indices -> the figure per row."""
    credit = _column(results, "credit")
    pairs = _column(results, "pairs")

    def accuracy(idx: np.ndarray) -> np.ndarray:
        c, n = credit[idx].sum(axis=-1), pairs[idx].sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, 100.0 * c / np.maximum(n, 1), np.nan)

    def mean_of(col: np.ndarray, scale: float) -> Callable[[np.ndarray], np.ndarray]:
        def f(idx: np.ndarray) -> np.ndarray:
            vals = col[idx]
            count = (~np.isnan(vals)).sum(axis=-1)
            total = np.nansum(vals, axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(count > 0, scale * total / np.maximum(count, 1), np.nan)
        return f

    unparsed = np.array([r.outcome == "unparsed" for r in results], dtype=float)
    errors = np.array([r.outcome == "backend_error" for r in results], dtype=float)
    return {
        "accuracy": accuracy,
        "tau": mean_of(_column(results, "tau"), 100.0),
        "ndcg": mean_of(_column(results, "ndcg"), 100.0),
        "top1": mean_of(_column(results, "top1"), 100.0),
        "variance": mean_of(_column(results, "variance"), 1.0),
        "unparsed_rate": mean_of(unparsed, 100.0),
        "error_rate": mean_of(errors, 100.0),
    }


def summarize(results: Sequence[ListResult], *, resamples: int = 1000, seed: int = 0,
              level: float = 0.95) -> dict[str, Any]:
    """Figures for one group of lists, each with a percentile bootstrap interval over lists.

    Returns:
        ``lists``, ``judged``, ``unparsed``, ``backend_error``, ``pairs``, and for each name in
        :data:`FIGURES` ``{"value": x, "ci": [lo, hi]}`` (None where undefined; the interval is
        None for a group of one list).
    """
    n = len(results)
    out: dict[str, Any] = {
        "lists": n, "judged": sum(r.judged for r in results),
        "unparsed": sum(r.outcome == "unparsed" for r in results),
        "backend_error": sum(r.outcome == "backend_error" for r in results),
        "pairs": int(sum(r.pairs for r in results)),
    }
    if n == 0:
        return out | {f: {"value": None, "ci": [None, None]} for f in FIGURES}
    rng = np.random.default_rng(seed)
    # one list has no spread to resample: its interval is left empty rather than degenerate
    boot = rng.integers(0, n, size=(resamples, n)) if resamples > 0 and n > 1 else None
    full = np.arange(n)
    alpha = (1.0 - level) / 2.0
    for name, fn in _statistics(results).items():
        value = float(fn(full))
        ci: list[float | None] = [None, None]
        if boot is not None and not np.isnan(value):
            draws = fn(boot)
            draws = draws[~np.isnan(draws)]
            if draws.size:
                lo, hi = np.quantile(draws, [alpha, 1.0 - alpha])
                ci = [float(lo), float(hi)]
        out[name] = {"value": None if np.isnan(value) else value, "ci": ci}
    return out


def grouped(results: Sequence[ListResult], key: str) -> dict[str, list[ListResult]]:
    """Results grouped by ``category``, ``domain`` or ``principle`` (sorted by name)."""
    groups: dict[str, list[ListResult]] = {}
    for r in results:
        groups.setdefault(getattr(r, key), []).append(r)
    return dict(sorted(groups.items()))


def breakdown(records: Iterable[Mapping[str, Any]], *, strict: bool = False,
              resamples: int = 1000, seed: int = 0, chance: bool = False) -> dict[str, Any]:
    """Overall, per-category, per-domain and per-principle figures for a run's records.

    ``chance=True`` gives the figures of a random-order judge (:func:`chance_result`) on the
    lists the default figures cover (the scored ones), the floor to read them against.
    """
    results = ([chance_result(r) for r in records if list_result(r).judged] if chance else
               [list_result(r, strict=strict) for r in records])
    out: dict[str, Any] = {"overall": summarize(results, resamples=resamples, seed=seed)}
    for key in ("category", "domain", "principle"):
        out[f"by_{key}"] = {name: summarize(group, resamples=resamples, seed=seed)
                            for name, group in grouped(results, key).items()}
    return out

"""Merge the runs of one item (one per presentation order) into one verdict, and set its status.

Each run is first classified on its own:

===================  ==========================================================================
run                  when
===================  ==========================================================================
usable               parsed (``ok`` or ``repaired``) with complete scores, and a ranking (when it
                     gave one) that never puts a lower score above a higher one
``inconsistent``     parsed, but its ranking contradicts its scores (flag
                     ``ranking_contradicts_scores``)
``unparsed``         no verdict could be read
``backend_error``    the backend failed on this request
===================  ==========================================================================

Then the item's status:

* **every run usable**: ``ok`` when every run parsed cleanly, else ``repaired``;
* **some runs usable**: ``partial``: the usable runs are aggregated, and ``problems`` says which
  runs failed and why;
* **no run usable**: ``inconsistent`` if any run was, else ``backend_error`` if every run was a
  backend error, else ``unparsed``. ``scores`` and ``ranking`` are None.

Aggregation over usable runs: each score is the mean over runs; the ranking orders ids by mean
score, ties broken by mean shown position in the runs' rankings, then by the caller's order. A
single run keeps its own ranking when it gave one. So a usable verdict always has complete scores
and a ranking that agrees with them (a strict order that breaks score ties). ``consistency`` is
the mean Kendall tau between the runs' rankings.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from judge.ordering import kendall_tau
from judge.types import USABLE_STATUSES, Generation, Mode
from judge.verdict.logprob_scores import expected_score
from judge.verdict.parse import ParsedVerdict


@dataclass
class RunVerdict:
    """One run of one item: what the parser found (None after a backend error) and the map from
    the ids the judge was shown to the caller's ids."""

    verdict: ParsedVerdict | None
    generation: Generation
    masked: dict[str, str]

    @property
    def status(self) -> str:
        """The run's own status (see the module table)."""
        v = self.verdict
        if v is None:
            return "backend_error"
        if v.status == "unparsed" or v.scores is None:
            return "unparsed"
        if "ranking_contradicts_scores" in v.flags:
            return "inconsistent"
        return v.status

    def to_caller(self, values: Mapping[str, float]) -> dict[str, float]:
        """Values keyed by shown ids, re-keyed by the caller's ids."""
        return {self.masked[m]: v for m, v in values.items()}

    def ranking(self, scores: Mapping[str, float]) -> list[str]:
        """The run's best-to-worst caller ids: its own ranking, else by score then position."""
        v = self.verdict
        if v is not None and v.ranking:
            return [self.masked[m] for m in v.ranking]
        shown = list(self.masked.values())
        return sorted(shown, key=lambda c: (-scores[c], shown.index(c)))


#: A single run is usable when parsed and consistent (a run cannot be ``partial``).
USABLE_RUN = USABLE_STATUSES - {"partial"}


def aggregate(runs: Sequence[RunVerdict], mode: Mode, scale: tuple[int, int],
              caller_ids: Sequence[str]) -> dict[str, Any]:
    """The Judgment fields of one item from its runs (see the module docstring)."""
    problems: list[str] = []
    flags: list[str] = []
    reasoning_parts: list[str] = []
    many = len(runs) > 1
    for n, run in enumerate(runs):
        prefix = f"run {n + 1}: " if many else ""
        if run.verdict is None:
            problems.append(f"{prefix}backend error: {run.generation.error}")
            continue
        problems.extend(prefix + p for p in run.verdict.problems)
        flags.extend(f for f in run.verdict.flags if f not in flags)
        if run.verdict.reasoning:
            reasoning_parts.append(run.verdict.reasoning)
    reasoning = "\n\n---\n\n".join(reasoning_parts) if reasoning_parts else None
    statuses = [r.status for r in runs]
    good = [r for r, s in zip(runs, statuses, strict=True) if s in USABLE_RUN]
    if not good:
        status = ("inconsistent" if "inconsistent" in statuses else
                  "backend_error" if all(s == "backend_error" for s in statuses) else "unparsed")
        return {"status": status, "scores": None, "ranking": None, "problems": problems,
                "flags": flags, "reasoning": reasoning, "parsed_runs": 0}
    score_runs = [r.to_caller(r.verdict.scores or {}) for r in good if r.verdict is not None]
    order = {c: n for n, c in enumerate(caller_ids)}
    scores = {c: statistics.fmean(s[c] for s in score_runs) for c in caller_ids}
    rankings = [r.ranking(s) for r, s in zip(good, score_runs, strict=True)]
    if len(good) == 1:
        scores, ranking, consistency = score_runs[0], rankings[0], None
    else:
        position = {c: statistics.fmean(rk.index(c) for rk in rankings) for c in caller_ids}
        ranking = sorted(caller_ids, key=lambda c: (-scores[c], position[c], order[c]))
        consistency = statistics.fmean(kendall_tau(a, b) for a, b in combinations(rankings, 2))
        if mode == "pairwise" and len({_preference(sr, caller_ids) for sr in score_runs}) > 1:
            flags.append("position_inconsistent")  # the orders disagree (two ties agree)
    if len(good) == len(runs):
        status = "ok" if all(s == "ok" for s in statuses) else "repaired"
    else:
        status = "partial"
        failed = [f"run {n + 1} {s}" for n, s in enumerate(statuses) if s not in USABLE_RUN]
        problems.append(f"{len(runs) - len(good)} of {len(runs)} permutation runs failed "
                        f"({', '.join(failed)}); the verdict aggregates the other "
                        f"{len(good)}")
    return {"status": status, "scores": scores, "ranking": ranking, "problems": problems,
            "flags": flags, "reasoning": reasoning, "consistency": consistency,
            "logprob_scores": _logprob_scores(good, scale, caller_ids),
            "parsed_runs": len(good)}


def _preference(scores: Mapping[str, float], ids: Sequence[str]) -> int:
    """Which of a pair a run prefers: 1 the first id, -1 the second, 0 a tie."""
    a, b = scores[ids[0]], scores[ids[1]]
    return (a > b) - (a < b)


def _logprob_scores(good: Sequence[RunVerdict], scale: tuple[int, int],
                    caller_ids: Sequence[str]) -> dict[str, float] | None:
    per_run = []
    for run in good:
        v, g = run.verdict, run.generation
        if v is None or not g.logprobs or not v.score_spans:
            continue
        exp = {m: expected_score(g.logprobs, g.text, span, scale)
               for m, span in v.score_spans.items()}
        values = {m: x for m, x in exp.items() if x is not None}
        if len(values) == len(exp):
            per_run.append(run.to_caller(values))
    if not per_run:
        return None
    return {c: statistics.fmean(lr[c] for lr in per_run) for c in caller_ids}


def aggregate_each(runs: Sequence[RunVerdict], owners: Sequence[str], scale: tuple[int, int],
                   caller_ids: Sequence[str]) -> dict[str, Any]:
    """The Judgment fields of a list judged one response at a time (``Judge(pointwise=True)``).

    ``owners[n]`` is the caller id run ``n`` scored. Each response's runs are aggregated as a
    pointwise item of their own; the list is usable only when every response is (a verdict
    never has scores for some responses only), and its status is then the worst of theirs
    (``partial`` when some response lost a run). The ranking follows the scores; ties (frequent
    on a 1-5 scale) are broken by the logprob-weighted scores when every response has one, then
    by the caller's order. When a response has no usable score, the list takes that response's
    status (``inconsistent``, ``backend_error`` or ``unparsed``, in that order of precedence)
    and ``problems`` names the responses that failed.
    """
    per_id = {c: aggregate([r for r, o in zip(runs, owners, strict=True) if o == c],
                           "pointwise", scale, [c]) for c in caller_ids}
    problems = [f"response {c}: {p}" for c, f in per_id.items() for p in f["problems"]]
    flags: list[str] = []
    for f in per_id.values():
        flags.extend(x for x in f["flags"] if x not in flags)
    parts = [f"{c}: {f['reasoning']}" for c, f in per_id.items() if f["reasoning"]]
    reasoning = "\n\n".join(parts) if parts else None
    failed = {c: f["status"] for c, f in per_id.items() if f["scores"] is None}
    parsed_runs = sum(int(f["parsed_runs"]) for f in per_id.values())
    if failed:
        worst = next(s for s in ("inconsistent", "backend_error", "unparsed")
                     if s in failed.values())
        problems.append(f"{len(failed)} of {len(caller_ids)} responses have no usable score "
                        f"({', '.join(f'{c} {s}' for c, s in failed.items())}); the list is "
                        "not ranked")
        return {"status": worst, "scores": None, "ranking": None, "problems": problems,
                "flags": flags, "reasoning": reasoning, "parsed_runs": parsed_runs}
    statuses = {f["status"] for f in per_id.values()}
    status = next(s for s in ("partial", "repaired", "ok") if s in statuses)
    scores = {c: per_id[c]["scores"][c] for c in caller_ids}
    lp = [per_id[c]["logprob_scores"] for c in caller_ids]
    logprob_scores = ({c: v[c] for c, v in zip(caller_ids, lp, strict=True)}
                      if all(v is not None for v in lp) else None)
    tie_break = logprob_scores or {}
    order = {c: n for n, c in enumerate(caller_ids)}
    ranking = sorted(caller_ids, key=lambda c: (-scores[c], -tie_break.get(c, 0.0), order[c]))
    return {"status": status, "scores": scores, "ranking": ranking, "problems": problems,
            "flags": flags, "reasoning": reasoning, "consistency": None,
            "logprob_scores": logprob_scores, "parsed_runs": parsed_runs}

"""What a verdict's numbers mean, and verdicts as short text or JSON for `score` and `compare`."""

from __future__ import annotations

from typing import Any

from judge.types import Judgment

#: What a reward head's score is, by the loss it was trained with (head config ``score.loss``).
REWARD_MEANING = {
    "bt": "reward (unbounded Bradley-Terry utility; compare within one prompt and principle)",
    "regression": "reward (the teacher's score standardised over the head's training set; "
                  "unbounded)",
    "classification": "reward (a logit: sigmoid(s) is the chance the teacher scores it at or "
                      "above the head's threshold; unbounded)",
}
UNBOUNDED = "reward (unbounded; compare within one prompt and principle)"


def score_meaning(j: Judgment, backend: object = None) -> dict[str, Any]:
    """``{"kind", "min", "max", "meaning"}`` for a verdict's scores.

    Args:
        j: the verdict.
        backend: the judge's backend; a reward head's training loss refines the meaning.

    >>> from judge.types import Judgment
    >>> j = Judgment.model_construct(mode="pointwise", scale=(1.0, 5.0), provenance=None)
    >>> score_meaning(j)["meaning"]
    "the judge's score on its 1-5 scale (higher is better)"
    """
    if j.scale is None:
        score = getattr(getattr(getattr(backend, "head", None), "config", None), "score", None)
        meaning = REWARD_MEANING.get(str(getattr(score, "loss", "")), UNBOUNDED)
        return {"kind": "reward", "min": None, "max": None, "meaning": meaning}
    lo, hi = j.scale
    if j.mode == "pairwise":
        meaning = (f"share of the two presentation orders the response won ({lo:g}-{hi:g}; "
                   f"{(lo + hi) / 2:g} = tie or the orders disagreed)")
    else:
        meaning = f"the judge's score on its {lo:g}-{hi:g} scale (higher is better)"
    return {"kind": "judge", "min": lo, "max": hi, "meaning": meaning}


def short_record(j: Judgment, backend: object = None) -> dict[str, Any]:
    """The fields `judge score` / `judge compare` print with ``--json``."""
    out: dict[str, Any] = {"principle": j.provenance.principle.id, "backend": j.provenance.backend,
                           "status": j.status}
    if j.scores is not None and len(j.scores) == 1:
        out["score"] = next(iter(j.scores.values()))
    out.update(scores=j.scores, ranking=j.ranking, scale=list(j.scale) if j.scale else None,
               score_meaning=score_meaning(j, backend))
    if j.flags:
        out["flags"] = j.flags
    if j.problems:
        out["problems"] = j.problems
    return out


def _number(value: float) -> str:
    return f"{value:.4g}" if value != int(value) or abs(value) >= 1e4 else f"{value:g}"


def _snippet(text: str, width: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def text_lines(j: Judgment, responses: dict[str, str], backend: object = None) -> list[str]:
    """A verdict for people: the score(s) with what they mean, the order, the status."""
    meaning = score_meaning(j, backend)["meaning"]
    head = (f"principle {j.provenance.principle.id} · backend {j.provenance.backend} · "
            f"status {j.status}")
    if j.scores is None:
        lines = [head, "no score: " + ("; ".join(j.problems) or j.status)]
        return lines
    if len(j.scores) == 1:
        (value,) = j.scores.values()
        return [f"score {_number(value)}: {meaning}", head]
    lines = [head]
    if j.mode == "pairwise":
        scores = j.scores
        best = max(scores, key=lambda cid: scores[cid])
        if len(set(scores.values())) == 1:
            why = (" (position_inconsistent: the two orders disagreed)"
                   if "position_inconsistent" in j.flags else "")
            lines.append(f"tie{why}")
        else:
            lines.append(f"better: {best} ({_snippet(responses[best])})")
    order = j.ranking or list(j.scores)
    lines.append("rank  id          score  response" if j.ranking else
                 "      id          score  response (no strict order)")
    for n, cid in enumerate(order, 1):
        place = f"{n:>4}" if j.ranking else "    "
        lines.append(f"{place}  {cid:<10} {_number(j.scores[cid]):>6}  "
                     f"{_snippet(responses[cid])}")
    lines.append(f"scores: {meaning}")
    return lines

"""What the server scores with: a reward head, or a generative judge through :class:`Judge`.

Both are wrapped behind one small interface: a list of :class:`judge.items.Item` (with the
principle resolved) in, one :class:`ItemResult` per item out. A generative judge's unparsed verdict gives ``None``
scores (with its status and problems), never an invented number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from judge.backends.base import ScoringBackend
from judge.core import Judge
from judge.items import Item
from judge.principles import resolve_principle

__all__ = ["BackendScorer", "Item", "ItemResult", "JudgeScorer", "Scorer", "scorer_for"]


@dataclass
class ItemResult:
    """Scores for one item.

    Attributes:
        scores: one score per response; None where the judge gave none.
        uncertainty: ensemble spread per response (heads with several members).
        status: ``ok`` or the judge's verdict status.
        problems: why a verdict was repaired or unparsed.
    """

    scores: list[float | None]
    uncertainty: list[float] | None = None
    status: str = "ok"
    problems: list[str] = field(default_factory=list)


class Scorer(Protocol):
    """Scores items for the server (one may also offer ``warmup()``, run once at startup)."""

    name: str
    model: str | None
    scale: tuple[float, float] | None

    def score_items(self, items: list[Item]) -> list[ItemResult]:
        """One result per item, in order."""
        ...

    def close(self) -> None:
        """Release the backend."""
        ...


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def split_item(item: Item, size: int) -> list[Item]:
    """An item as several items of at most ``size`` responses (for scorers that score each
    response on its own), so the batcher can interleave a big request with others."""
    pairs = list(item.responses.items())
    if len(pairs) <= size:
        return [item]
    return [item.model_copy(update={"responses": dict(pairs[n:n + size])})
            for n in range(0, len(pairs), size)]


def merge_results(parts: Sequence[ItemResult]) -> ItemResult:
    """The one result of items made by :func:`split_item`, in order."""
    if len(parts) == 1:
        return parts[0]
    scores = [s for r in parts for s in r.scores]
    spread = [u for r in parts for u in r.uncertainty or []]
    bad = next((r for r in parts if r.status != "ok"), None)
    return ItemResult(scores, spread if all(r.uncertainty for r in parts) else None,
                      bad.status if bad else "ok", [m for r in parts for m in r.problems])


class BackendScorer:
    """A :class:`ScoringBackend` (e.g. a reward head): real-valued scores, no fixed scale."""

    scale: tuple[float, float] | None = None
    independent_responses = True
    """Each response is scored on its own, so a request may be split into chunks."""

    def __init__(self, backend: ScoringBackend) -> None:
        self.backend = backend
        self.name = backend.name
        self.model = backend.model

    def score_items(self, items: list[Item]) -> list[ItemResult]:
        """Score with the backend (ensemble uncertainty when it offers it)."""
        detailed = getattr(self.backend, "score_batch_detailed", None)
        if detailed is not None:
            return [ItemResult([_finite(s) for s in r.scores], r.uncertainty)
                    for r in detailed(items)]
        return [ItemResult([_finite(s) for s in row]) for row in self.backend.score_batch(items)]

    def warmup(self) -> None:
        """Score one tiny item, so the backend loads its model (a head's encoder) now rather
        than on the first request."""
        self.backend.score_batch([Item(prompt="Hi.", responses=["Hello."],
                                       principle=resolve_principle("Be helpful."))])

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()


class JudgeScorer:
    """A generative judge: listwise for several responses, pointwise for one."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.name = judge.backend.name
        self.model = judge.backend.model
        self.scale: tuple[float, float] | None = None

    def score_items(self, items: list[Item]) -> list[ItemResult]:
        """Judge every item in one ``Judge.rank`` call."""
        out = []
        for j in self.judge.rank(items):
            if j.scale is not None:
                self.scale = j.scale
            scores: list[float | None] = [
                _finite(j.scores[i]) if j.scores and i in j.scores else None for i in j.ids]
            out.append(ItemResult(scores, None, j.status, list(j.problems)))
        return out

    def close(self) -> None:
        """Close the judge's backend."""
        self.judge.close()


def scorer_for(judge: Judge) -> Scorer:
    """The right wrapper for a judge's backend."""
    if isinstance(judge.backend, ScoringBackend):
        return BackendScorer(judge.backend)
    return JudgeScorer(judge)

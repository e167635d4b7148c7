"""Agreement between a student's scores and the teacher's, item by item.

* **Pairwise accuracy** over the pairs the teacher orders strictly: 1 when the student orders
  the pair the same way, ½ when the student ties it, 0 otherwise.
* **Kendall τ-b** between teacher and student scores of one item, averaged over items where it
  is defined (at least two responses and the teacher not tying them all); a student that ties
  every response of such an item scores τ = 0 there.

Both, with that tie rule, are defined once in :mod:`judge.metrics`.
* **Principle-flip rate**: over pairs of responses that the teacher orders one way under one
  principle and the other way under another principle for the same prompt, the fraction whose
  order the student flips too (a tie under either principle counts as not flipped).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from judge.distill.labels import LabelItem
from judge.metrics import kendall_tau_b, pairwise_credit


@dataclass
class Agreement:
    """Running pairwise accuracy and mean Kendall τ-b."""

    correct: float = 0.0
    pairs: int = 0
    tau_sum: float = 0.0
    tau_items: int = 0
    items: int = 0

    def add(self, teacher: Sequence[float], student: Sequence[float]) -> None:
        """Add one item."""
        self.items += 1
        credit, pairs = pairwise_credit(teacher, student)
        self.correct += credit
        self.pairs += pairs
        tau = kendall_tau_b(teacher, student)
        if tau is not None:
            self.tau_sum += tau
            self.tau_items += 1

    @property
    def accuracy(self) -> float | None:
        """Pairwise accuracy, or None without pairs."""
        return self.correct / self.pairs if self.pairs else None

    @property
    def tau(self) -> float | None:
        """Mean Kendall τ-b, or None when undefined for every item."""
        return self.tau_sum / self.tau_items if self.tau_items else None

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-ready figures."""
        return {"pairwise_accuracy": _round(self.accuracy), "kendall_tau": _round(self.tau),
                "pairs": self.pairs, "items": self.items}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def agreement(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]],
              by: str | None = "principle_id") -> dict[str, dict[str, float | int | None]]:
    """Figures overall (key ``"all"``) and per value of the item attribute ``by``."""
    groups: dict[str, Agreement] = defaultdict(Agreement)
    for it, pred in zip(items, predicted, strict=True):
        groups["all"].add(it.scores, pred)
        if by:
            groups[f"{by}={getattr(it, by)}"].add(it.scores, pred)
    return {k: groups[k].as_dict() for k in sorted(groups, key=lambda k: (k != "all", k))}


@dataclass
class FlipStats:
    """Principle-flip counts, overall and per principle pair."""

    candidates: int = 0
    flipped: int = 0
    by_pair: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        """Fraction of teacher flips the student reproduces."""
        return self.flipped / self.candidates if self.candidates else None

    def as_dict(self, top: int = 10) -> dict[str, object]:
        """JSON-ready figures (the ``top`` principle pairs with most candidates)."""
        pairs = sorted(self.by_pair.items(), key=lambda kv: -kv[1][1])[:top]
        return {"flip_rate": _round(self.rate), "candidates": self.candidates,
                "by_principle_pair": {k: {"flip_rate": _round(v[0] / v[1]), "candidates": v[1]}
                                      for k, v in pairs}}


def flip_rate(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]],
              principles: tuple[str, str] | None = None) -> FlipStats:
    """Principle-flip rate (see the module docstring).

    Args:
        items: label items; items for the same prompt under different principles are compared.
        predicted: student scores per item.
        principles: only compare this pair of principle ids (in either order).
    """
    by_prompt: dict[str, list[int]] = defaultdict(list)
    for n, it in enumerate(items):
        by_prompt[it.prompt].append(n)
    stats = FlipStats()
    for members in by_prompt.values():
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1:]:
                ia, ib = items[a], items[b]
                if ia.principle == ib.principle:
                    continue
                if principles and {ia.principle_id, ib.principle_id} != set(principles):
                    continue
                _flips_between(ia, predicted[a], ib, predicted[b], stats)
    return stats


def _flips_between(ia: LabelItem, pa: Sequence[float], ib: LabelItem, pb: Sequence[float],
                   stats: FlipStats) -> None:
    pos_b = {text: n for n, text in enumerate(ib.responses)}
    shared = [(n, pos_b[t]) for n, t in enumerate(ia.responses) if t in pos_b]
    key = " vs ".join(sorted((ia.principle_id, ib.principle_id)))
    for x in range(len(shared)):
        for y in range(len(shared)):
            (ax, bx), (ay, by) = shared[x], shared[y]
            # teacher: x above y under a, y above x under b
            if ia.scores[ax] > ia.scores[ay] and ib.scores[by] > ib.scores[bx]:
                hit = pa[ax] > pa[ay] and pb[by] > pb[bx]
                stats.candidates += 1
                stats.flipped += int(hit)
                counts = stats.by_pair.setdefault(key, [0, 0])
                counts[0] += int(hit)
                counts[1] += 1

"""Figures for soft teachers and length: probability agreement, calibration, answer sets.

* :func:`soft_figures` — for pairwise preference items (a teacher probability, see
  :class:`~judge.distill.labels.LabelItem.prefer`): Pearson correlation of the teacher's
  P(first preferred) with the head's ``σ(s_0 - s_1)``, Brier score, expected calibration error.
* :func:`length_figures` — accuracy on the pairs whose teacher-preferred response is the
  *shorter* one (where "longer wins" is always wrong) and on the rest, next to both baselines.
* :func:`by_group` — head accuracy and both length baselines per answer set.
* :func:`calibration_plot` — predicted vs teacher probability in bins, as a PNG (matplotlib).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judge.distill.labels import LabelItem
from judge.distill.metrics import Agreement
from judge.errors import missing_dependency


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 60.0), -60.0)))


def pair_probabilities(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]]
                       ) -> list[tuple[float, float]]:
    """(teacher P, head P) that the first response is preferred, per preference item.

    >>> it = LabelItem("p", "p", "q", ("a", "b"), (0.8, 0.2), prefer=0.8)
    >>> pair_probabilities([it], [[1.0, 0.0]])[0][1] > 0.7
    True
    """
    return [(it.prefer, _sigmoid(pred[0] - pred[1]))
            for it, pred in zip(items, predicted, strict=True)
            if it.prefer is not None and len(pred) == 2]


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def _bins(pairs: Sequence[tuple[float, float]], n: int = 10) -> list[tuple[float, float, int]]:
    """(mean head P, mean teacher P, count) per bin of head P."""
    groups: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for t, s in pairs:
        groups[min(int(s * n), n - 1)].append((t, s))
    return [(sum(s for _, s in g) / len(g), sum(t for t, _ in g) / len(g), len(g))
            for _, g in sorted(groups.items())]


def soft_figures(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]]
                 ) -> dict[str, Any]:
    """Pearson, Brier and expected calibration error against soft teacher probabilities."""
    pairs = pair_probabilities(items, predicted)
    if not pairs:
        return {"pairs": 0, "pearson": None, "brier": None, "ece": None}
    teacher, head = [t for t, _ in pairs], [s for _, s in pairs]
    ece = sum(c * abs(ms - mt) for ms, mt, c in _bins(pairs)) / len(pairs)
    return {"pairs": len(pairs), "pearson": _r(_pearson(teacher, head)),
            "brier": _r(sum((t - s) ** 2 for t, s in pairs) / len(pairs)), "ece": _r(ece)}


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def length_figures(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]]
                   ) -> dict[str, Any]:
    """Head accuracy on pairs whose teacher-preferred response is shorter / longer."""
    shorter, longer = Agreement(), Agreement()
    for it, pred in zip(items, predicted, strict=True):
        for i, j, _ in it.pairs():
            if len(it.responses[i]) == len(it.responses[j]):
                continue
            bucket = shorter if len(it.responses[i]) < len(it.responses[j]) else longer
            bucket.add([1.0, 0.0], [pred[i], pred[j]])
    total = shorter.pairs + longer.pairs
    return {"better_is_shorter": shorter.as_dict(), "better_is_longer": longer.as_dict(),
            "share_better_is_shorter": _r(shorter.pairs / total) if total else None}


def by_group(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]]
             ) -> dict[str, dict[str, Any]]:
    """Per answer set: head, longer-wins and shorter-wins pairwise accuracy and pair count."""
    groups: dict[str, list[Agreement]] = defaultdict(lambda: [Agreement() for _ in range(3)])
    for it, pred in zip(items, predicted, strict=True):
        if not it.group:
            continue
        lengths = [float(len(r)) for r in it.responses]
        head, longer, shorter = groups[it.group]
        head.add(list(it.scores), list(pred))
        longer.add(list(it.scores), lengths)
        shorter.add(list(it.scores), [-x for x in lengths])
    return {g: {"head": a[0].accuracy, "longer_wins": a[1].accuracy,
                "shorter_wins": a[2].accuracy, "pairs": a[0].pairs}
            for g, a in sorted(groups.items())}


def calibration_plot(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]],
                     path: str | Path, *, title: str = "head vs teacher") -> Path:
    """Write a reliability diagram (head P in bins vs the teacher's mean P) as a PNG.

    Raises:
        MissingDependency: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise missing_dependency("the calibration plot", "matplotlib", "bench") from exc
    pairs = pair_probabilities(items, predicted)
    bins = _bins(pairs)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    if bins:
        ax.plot([b[0] for b in bins], [b[1] for b in bins], "o-", label="head")
        for ms, mt, c in bins:
            ax.annotate(str(c), (ms, mt), fontsize=7, xytext=(3, -8), textcoords="offset points")
    ax.set_xlabel("head P(first preferred)")
    ax.set_ylabel("teacher P(first preferred), bin mean")
    ax.set_title(f"{title} ({len(pairs)} pairs)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

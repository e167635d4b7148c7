"""Evaluate a head against its teacher, with baselines measured in the same run.

Baselines: *longer wins* and *shorter wins* (score = ± character count) and *prompt–response
cosine* (the embedder's own similarity, no head). Figures: pairwise accuracy and Kendall τ-b
overall, per principle and per source, and the principle-flip rate (:mod:`.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from judge.distill.cache import EmbeddingCache
from judge.distill.dataset import EmbeddedItems, embed_items
from judge.distill.labels import LabelItem
from judge.distill.metrics import agreement, flip_rate
from judge.distill.soft import by_group, length_figures, soft_figures

if TYPE_CHECKING:
    from judge.distill.head import RewardHead

BASELINES: tuple[str, ...] = ("longer_wins", "shorter_wins", "prompt_cosine")


def report_for(items: Sequence[LabelItem], predicted: Sequence[Sequence[float]],
               cosine: Sequence[Sequence[float]] | None = None) -> dict[str, Any]:
    """All figures for one set of predictions.

    Returns:
        ``{"head": {...}, "by_source": {...}, "baselines": {...}, "flip": {...}}`` where each
        agreement block maps ``"all"`` / ``"principle_id=..."`` to pairwise accuracy, τ, counts.
    """
    lengths = [[float(len(r)) for r in it.responses] for it in items]
    baselines: dict[str, Any] = {
        "longer_wins": agreement(items, lengths, by=None)["all"],
        "shorter_wins": agreement(items, [[-x for x in row] for row in lengths], by=None)["all"],
    }
    if cosine is not None:
        baselines["prompt_cosine"] = agreement(items, cosine, by=None)["all"]
    return {
        "head": agreement(items, predicted),
        "by_source": {k: v for k, v in agreement(items, predicted, by="source").items()
                      if k != "all"},
        "baselines": baselines,
        "flip": flip_rate(items, predicted).as_dict(),
        "soft": soft_figures(items, predicted),
        "length": length_figures(items, predicted),
        "by_answer_set": by_group(items, predicted),
        "items": len(items),
    }


def evaluate_embedded(data: EmbeddedItems, net: Any) -> dict[str, Any]:
    """Figures for a trained network on already-embedded items."""
    predicted, _ = data.scores(net)
    return report_for(data.items, predicted, data.cosine())


def evaluate_head(head: RewardHead, items: Sequence[LabelItem],
                  cache: EmbeddingCache | None = None) -> dict[str, Any]:
    """Figures for a loaded head on label items (embeddings through ``cache`` when given)."""
    data = embed_items(items, head.embedder, cache)
    return evaluate_embedded(data, head.net)


def _fmt(x: Any) -> str:
    return "–" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def report_markdown(report: dict[str, Any], *, title: str = "Agreement with the teacher",
                    max_principles: int = 30) -> str:
    """A Markdown rendering of :func:`report_for`'s output."""
    head = report["head"]
    lines = [f"### {title}", "",
             "| scorer | pairwise accuracy | Kendall τ-b | pairs |", "|---|---|---|---|"]
    overall = head["all"]
    lines.append(f"| **head** | {_fmt(overall['pairwise_accuracy'])} | "
                 f"{_fmt(overall['kendall_tau'])} | {overall['pairs']} |")
    for name, fig in report["baselines"].items():
        lines.append(f"| {name.replace('_', ' ')} | {_fmt(fig['pairwise_accuracy'])} | "
                     f"{_fmt(fig['kendall_tau'])} | {fig['pairs']} |")
    soft = report.get("soft") or {}
    if soft.get("pairs"):
        lines += ["", (f"Soft agreement on {soft['pairs']} teacher probabilities: Pearson "
                       f"{_fmt(soft['pearson'])}, Brier {_fmt(soft['brier'])}, expected "
                       f"calibration error {_fmt(soft['ece'])}.")]
    length = report.get("length") or {}
    if length.get("better_is_shorter"):
        short, long_ = length["better_is_shorter"], length["better_is_longer"]
        lines += ["", (f"Pairs whose better response is the shorter one "
                       f"({short['pairs']} pairs, share {_fmt(length['share_better_is_shorter'])};"
                       f" longer-wins scores 0 on them): head {_fmt(short['pairwise_accuracy'])}; "
                       f"better is longer ({long_['pairs']}): head "
                       f"{_fmt(long_['pairwise_accuracy'])}.")]
    groups_ = report.get("by_answer_set") or {}
    if groups_:
        lines += ["", "| answer set | head | longer wins | shorter wins | pairs |",
                  "|---|---|---|---|---|"]
        lines += [f"| {g} | {_fmt(v['head'])} | {_fmt(v['longer_wins'])} | "
                  f"{_fmt(v['shorter_wins'])} | {v['pairs']} |" for g, v in groups_.items()]
    flip = report["flip"]
    lines += ["", (f"Principle-flip rate: {_fmt(flip['flip_rate'])} "
                  f"({flip['candidates']} response pairs the teacher flips between principles; "
                  "length baselines cannot flip)."), ""]
    groups = [(k, v) for k, v in head.items() if k != "all"]
    if groups:
        lines += ["| principle | pairwise accuracy | Kendall τ-b | pairs | items |",
                  "|---|---|---|---|---|"]
        for key, fig in groups[:max_principles]:
            name = key.split("=", 1)[1]
            lines.append(f"| {name} | {_fmt(fig['pairwise_accuracy'])} | "
                         f"{_fmt(fig['kendall_tau'])} | {fig['pairs']} | {fig['items']} |")
        if len(groups) > max_principles:
            lines.append(f"| … {len(groups) - max_principles} more | | | | |")
    sources = report.get("by_source") or {}
    if len(sources) > 1:
        lines += ["", "| source | pairwise accuracy | Kendall τ-b | pairs |", "|---|---|---|---|"]
        for key, fig in sources.items():
            lines.append(f"| {key.split('=', 1)[1]} | {_fmt(fig['pairwise_accuracy'])} | "
                         f"{_fmt(fig['kendall_tau'])} | {fig['pairs']} |")
    return "\n".join(lines) + "\n"

"""PNG plots for bench reports (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judge.errors import missing_dependency

_PANELS = (("accuracy", "Pairwise accuracy (%)", (0, 100)), ("tau", "Kendall τ-b ×100",
           (-100, 100)), ("ndcg", "NDCG ×100", (0, 100)))


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_dependency("bench plots", "matplotlib", "bench") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _err(figs: Sequence[Mapping[str, Any]]) -> tuple[list[float], list[list[float]]]:
    vals, lo, hi = [], [], []
    for f in figs:
        v = f.get("value")
        ci = f.get("ci") or [None, None]
        vals.append(float("nan") if v is None else v)
        lo.append(0.0 if v is None or ci[0] is None else max(v - ci[0], 0.0))
        hi.append(0.0 if v is None or ci[1] is None else max(ci[1] - v, 0.0))
    return vals, [lo, hi]


def grouped_bars(series: Mapping[str, Mapping[str, Mapping[str, Any]]], path: Path,
                 title: str) -> Path:
    """Bars with 95 % CI whiskers: one panel per metric, groups on x, one bar per series.

    Args:
        series: series label -> group name -> group summary (from ``aggregate.summarize``).
        path: the PNG to write.
        title: figure title.
    """
    plt = _pyplot()
    groups = sorted({g for s in series.values() for g in s})
    n = max(len(series), 1)
    width = 0.8 / n
    fig, axes = plt.subplots(1, len(_PANELS), figsize=(4.2 * len(_PANELS) + 0.4 * len(groups),
                                                       4.2), squeeze=False)
    for ax, (metric, label, ylim) in zip(axes[0], _PANELS, strict=True):
        for s, (name, summary) in enumerate(series.items()):
            vals, err = _err([summary.get(g, {}).get(metric, {}) for g in groups])
            xs = [i + (s - (n - 1) / 2) * width for i in range(len(groups))]
            ax.bar(xs, vals, width=width * 0.95, yerr=err, capsize=3, label=name)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups, rotation=30, ha="right")
        ax.set_ylim(*ylim)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    if len(series) > 1:
        handles, labels = axes[0][0].get_legend_handles_labels()
        rows = (len(series) + 2) // 3
        fig.legend(handles, labels, loc="lower center", ncol=min(len(series), 3), fontsize=9,
                   frameon=False)
        fig.tight_layout(rect=(0, 0.06 * rows, 1, 1))
    else:
        fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def score_distribution(records: Sequence[Mapping[str, Any]], path: Path, title: str) -> Path:
    """Histogram of the judge's scores, and scores by gold rank (1 = gold best)."""
    plt = _pyplot()
    flat: list[float] = []
    by_rank: dict[int, list[float]] = {}
    for r in records:
        scores = r.get("scores")
        if not scores:
            continue
        gold = {k: float(v) for k, v in r["gold"].items()}
        for rid, score in scores.items():
            flat.append(float(score))
            rank = 1 + sum(1 for v in gold.values() if v > gold[rid])
            by_rank.setdefault(rank, []).append(float(score))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    if flat:
        values = sorted(set(flat))
        if len(values) <= 12:  # a discrete scale: one bar per value
            left.bar([str(f"{v:g}") for v in values], [flat.count(v) for v in values],
                     color="#4878a8")
        else:
            left.hist(flat, bins=30, color="#4878a8")
        ranks = sorted(by_rank)
        right.boxplot([by_rank[k] for k in ranks], tick_labels=[str(k) for k in ranks],
                      showmeans=True)
    else:
        for ax in (left, right):
            ax.text(0.5, 0.5, "no parsed scores", ha="center", va="center",
                    transform=ax.transAxes)
    left.set_title("Judge scores, all responses")
    left.set_xlabel("score")
    left.set_ylabel("responses")
    right.set_title("Judge score by gold rank (1 = best)")
    right.set_xlabel("gold rank")
    right.set_ylabel("score")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report_plots(report: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
                 folder: Path) -> list[Path]:
    """The plots of one report: per-category and per-domain bars, score distributions."""
    metrics = report["metrics"]["default"]
    name = f"{report['run']['suite']} · {report['run']['judge']['backend']}"
    return [
        grouped_bars({"judge": metrics["by_category"]}, folder / "categories.png",
                     f"{name}: by category (95 % CI)"),
        grouped_bars({"judge": metrics["by_domain"]}, folder / "domains.png",
                     f"{name}: by domain (95 % CI)"),
        score_distribution(records, folder / "scores.png", f"{name}: score distribution"),
    ]


def style_heatmap(matrices: Mapping[str, Sequence[Sequence[float]]], path: Path,
                  title: str) -> Path:
    """One 3x3 heat map per domain: rows chosen style, columns rejected style, cells in %."""
    plt = _pyplot()
    styles = ("concise", "detailed", "markdown")
    n = max(len(matrices), 1)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 0.8, 3.8), squeeze=False)
    image = None
    for n_ax, (ax, (domain, m)) in enumerate(zip(axes[0], matrices.items(), strict=False)):
        image = ax.imshow(m, vmin=0, vmax=100, cmap="RdYlGn")
        for i in range(3):
            for j in range(3):
                ax.text(j, i, f"{m[i][j]:.0f}", ha="center", va="center", fontsize=10)
        ax.set_xticks(range(3))
        ax.set_xticklabels(styles, rotation=30, ha="right")
        ax.set_yticks(range(3))
        ax.set_yticklabels(styles if n_ax == 0 else [""] * 3)
        ax.set_xlabel("rejected style")
        if n_ax == 0:
            ax.set_ylabel("chosen style")
        ax.set_title(domain)
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), shrink=0.8)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path

"""The report section of a both-orders run: the authors' figures (published benchmarks),
position and length bias, the RM-Bench heat map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judge.bench.published import adapter_for
from judge.bench.published.bias import bias


def build(manifest: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
          ) -> dict[str, Any] | None:
    """``{"benchmark", "title", "scores", "bias", "missing_subsets"}``; for another suite run
    with both orders only ``bias`` is filled; None for a run judged in one order."""
    adapter = adapter_for(manifest)
    if adapter is None:
        if not any(r.get("orders") for r in records):
            return None
        return {"benchmark": None, "title": None, "scores": None, "bias": bias(records),
                "missing_subsets": []}
    return {"benchmark": adapter.name, "title": adapter.title,
            "scores": adapter.score(records), "bias": bias(records),
            "missing_subsets": list(manifest.get("missing_subsets") or [])}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def headline(section: Mapping[str, Any]) -> str:
    """One line for the terminal: the benchmark's main figure and the two bias figures."""
    scores, b = section["scores"], section["bias"]
    flips = (f"order flips {_pct(b['order_flip_rate'])}% · longer-wins agreement "
             f"{_pct(b['longer_wins_agreement'])}% (gold {_pct(b['gold_longer_wins'])}%)")
    if section["benchmark"] is None:
        return flips
    main = {"judgebench": ("overall", "accuracy"), "llmbar": ("Natural", "accuracy"),
            "rewardbench2": ("Mean of subsets", "score"), "rmbench": ("overall", "hard"),
            "prefgraph": ("overall", "accuracy")}[section["benchmark"]]
    group: Mapping[str, Any] = scores.get(main[0]) or next(iter(scores.values()), {})
    return f"{section['benchmark']}: {main[0]} {main[1]} {_pct(group.get(main[1]))} · {flips}"


def markdown(section: Mapping[str, Any] | None) -> list[str]:
    """The section's Markdown (nothing for a run judged in one order)."""
    if not section:
        return []
    from judge.bench.published import ADAPTERS

    out: list[str] = []
    if section["benchmark"] is not None:
        out += [f"## {section['title']}: scored by the authors' rule", "",
                ("(The generic figures above and below use the seeded order's verdict only; "
                 "the figures here use both orders, as docs/benchmarks.md describes.)"), ""]
        if section["missing_subsets"]:
            out += [(f"**Missing subsets (not in the data given):** "
                     f"{', '.join(section['missing_subsets'])}. The figures cover the rest."), ""]
        out += [*ADAPTERS[section["benchmark"]].markdown(section["scores"]), ""]
    b = section["bias"]
    out += ["## Position and length bias", "",
            ("| Lists judged in both orders | Verdict changes on reversal | Pair preferences "
             "that flip | Agreement with longer-wins | Gold longer-wins |"),
            "|---:|---:|---:|---:|---:|",
            (f"| {b['lists_both_orders']} | {_pct(b['order_flip_rate'])} | "
             f"{_pct(b['pair_flip_rate'])} | {_pct(b['longer_wins_agreement'])} | "
             f"{_pct(b['gold_longer_wins'])} |"), "",
            ("Percent. A verdict changes when the order the judge's scores put the responses "
             "in (equal scores tied) differs between the seeded order and its reverse. "
             "Longer-wins: over response pairs of different length, how often the judge (both "
             "orders) and the gold put the longer one first; a tie counts 1/2."), ""]
    return out


def plots(section: Mapping[str, Any] | None, folder: Path) -> list[Path]:
    """The RM-Bench style heat map (one panel per domain); nothing for other benchmarks."""
    if not section or section["benchmark"] != "rmbench":
        return []
    from judge.bench.plots import style_heatmap

    matrices = {d: g["matrix"] for d, g in section["scores"].items() if "matrix" in g}
    return [style_heatmap(matrices, folder / "style_matrix.png",
                          "RM-Bench style matrix: chosen style beats rejected style (%)")]

"""``judge bench compare``: several runs side by side in one table and one plot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.bench import paired
from judge.bench.report import CHANCE_FIGURES, LABELS, build_report, fmt, judge_label
from judge.bench.runner import load_records, now, read_manifest
from judge.errors import BenchmarkError


@dataclass(frozen=True)
class CompareFiles:
    """Paths written by :func:`write_comparison`."""

    markdown: Path
    json: Path
    plot: Path | None


def _labels(reports: list[dict[str, Any]]) -> list[str]:
    labels = [judge_label(r["run"]["judge"]) for r in reports]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} · seed {r['run']['judge']['seed']}" for lab, r in zip(labels, reports,
                                                                              strict=True)]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} · {Path(r['run']['dir']).name}" for lab, r in zip(labels, reports,
                                                                          strict=True)]
    return labels


def build_comparison(run_dirs: list[str | Path], *, resamples: int = 1000,
                     seed: int = 0) -> dict[str, Any]:
    """Reports of several runs, labelled, with a note when their suites differ.

    Raises:
        BenchmarkError: fewer than one run, or a directory that is not a run.
    """
    if not run_dirs:
        raise BenchmarkError("give at least one run directory to compare")
    reports = [build_report(d, resamples=resamples, seed=seed) for d in run_dirs]
    versions = {(r["run"]["suite"], r["run"]["suite_version"]) for r in reports}
    labels = _labels(reports)
    values = {}
    for label, d in zip(labels, run_dirs, strict=True):
        manifest = read_manifest(d)
        values[label] = paired.item_values(manifest, load_records(d, manifest))
    return {"compare_date": now(), "runs": dict(zip(labels, reports, strict=True)),
            "same_suite": len(versions) == 1,
            "suites": sorted(f"{s} {v}" for s, v in versions),
            "paired": paired.paired(values, resamples=resamples, seed=seed)
            if len(run_dirs) > 1 else None}


def _shared_chance(runs: dict[str, Any]) -> dict[str, Any] | None:
    """The chance figures when every run covered the same lists (else none is shown)."""
    figures = [rep["metrics"].get("chance", {}).get("overall") for rep in runs.values()]
    if not figures or any(f is None for f in figures):
        return None
    keys = {(f["lists"], f["pairs"], *(f[c]["value"] for c in CHANCE_FIGURES)) for f in figures}
    return figures[0] if len(keys) == 1 else None


def render_markdown(comparison: dict[str, Any], plot: Path | None = None) -> str:
    """The comparison as Markdown: provenance, overall figures, per-category and per-domain."""
    runs: dict[str, Any] = comparison["runs"]
    out = ["# Bench comparison", "", f"Compared on {comparison['compare_date']}.", ""]
    if not comparison["same_suite"]:
        out += [("**Warning: the runs used different suites or suite versions "
                f"({'; '.join(comparison['suites'])}); their figures are not comparable.**"), ""]
    pairs = comparison.get("paired")
    if pairs and not pairs["same_items"]:
        sizes = ", ".join(f"{k}: {n}" for k, n in pairs["items"].items())
        out += [(f"**Warning: different item sets ({sizes}); the overall figures below are "
                 f"not comparable. See the paired differences on the {pairs['common']} common "
                 "items.**"), ""]
    out += ["| Run | Model | Template | Seed | Perm. | Suite (version) | Lists | Run date |",
            "|---|---|---|---:|---:|---|---:|---|"]
    for label, rep in runs.items():
        run, judge = rep["run"], rep["run"]["judge"]
        out.append(f"| {label} | {judge.get('model') or '–'} | {judge.get('template') or '–'} "
                   f"({judge.get('template_hash') or '–'}) | {judge['seed']} | "
                   f"{judge['permutations']} | {run['suite']} ({run['suite_version']}) | "
                   f"{run['judged']}/{run['planned']} | {run['created']} |")
    cols = ["accuracy", "tau", "ndcg", "top1", "variance", "unparsed_rate", "error_rate"]
    out += ["", "## Overall", "",
            "| Run | " + " | ".join(LABELS[c] for c in cols) + " | Strict accuracy |",
            "|---|" + "---:|" * (len(cols) + 1)]
    for label, rep in runs.items():
        ov = rep["metrics"]["default"]["overall"]
        st = rep["metrics"]["strict"]["overall"]
        cells = [fmt(ov[c], digits=2 if c == "variance" else 1) for c in cols]
        out.append(f"| {label} | " + " | ".join(cells) + f" | {fmt(st['accuracy'])} |")
    chance = _shared_chance(runs)
    if chance:
        cells = [fmt(chance[c], ci=False) if c in CHANCE_FIGURES else "" for c in cols]
        out.append("| *chance (random order)* | " + " | ".join(cells) + " | |")
    for key in ("category", "domain"):
        groups = sorted({g for rep in runs.values()
                         for g in rep["metrics"]["default"][f"by_{key}"]})
        out += ["", f"## Accuracy by {key}", "",
                "| Run | " + " | ".join(groups) + " |", "|---|" + "---:|" * len(groups)]
        for label, rep in runs.items():
            by = rep["metrics"]["default"][f"by_{key}"]
            out.append(f"| {label} | " + " | ".join(
                fmt(by[g]["accuracy"], ci=False) if g in by else "–" for g in groups) + " |")
    out += ["", ("Figures as in `judge bench report` (docs/metrics.md); intervals in each "
            "run's report.json."), ""]
    if pairs:
        out += paired.markdown(pairs)
    if plot:
        out += [f"![comparison]({plot.name})", ""]
    return "\n".join(out)


def write_comparison(run_dirs: list[str | Path], out_dir: str | Path, *, resamples: int = 1000,
                     seed: int = 0, plots: bool = True) -> CompareFiles:
    """Write ``compare.md``, ``compare.json`` and ``compare.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison = build_comparison(run_dirs, resamples=resamples, seed=seed)
    png = None
    if plots:
        from judge.bench.plots import grouped_bars

        png = grouped_bars({label: {**rep["metrics"]["default"]["by_category"],
                                    "ALL": rep["metrics"]["default"]["overall"]}
                            for label, rep in comparison["runs"].items()},
                           out / "compare.png", "Judges by category (95 % CI)")
    md, js = out / "compare.md", out / "compare.json"
    js.write_text(json.dumps(comparison, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md.write_text(render_markdown(comparison, png), encoding="utf-8")
    return CompareFiles(md, js, png)

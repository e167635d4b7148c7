"""``judge bench report``: a run directory -> report.md, report.json and PNG plots."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.bench.aggregate import FIGURES, breakdown
from judge.bench.published import section as published
from judge.bench.runner import load_records, now, read_manifest
from judge.errors import BenchmarkError

SCHEMA_VERSION = 1
#: Figures the chance row has (a random order has no scores, so no variance or failure rates).
CHANCE_FIGURES = ("accuracy", "tau", "ndcg", "top1")
LABELS: dict[str, str] = {
    "accuracy": "Accuracy", "tau": "τ-b ×100", "ndcg": "NDCG", "top1": "Top-1",
    "variance": "Var", "unparsed_rate": "Unparsed %", "error_rate": "Errors %",
}


@dataclass(frozen=True)
class ReportFiles:
    """Paths written by :func:`write_report`."""

    markdown: Path
    json: Path
    plots: list[Path]


def build_report(run_dir: str | Path, *, resamples: int = 1000, seed: int = 0
                 ) -> dict[str, Any]:
    """Compute a run's report (the content of ``report.json``).

    Raises:
        BenchmarkError: not a run directory, or it holds no records yet.
    """
    manifest = read_manifest(run_dir)
    records = load_records(run_dir, manifest)
    if not records:
        raise BenchmarkError(f"{run_dir}: no judged lists yet; run `judge bench run` first")
    judge = manifest["judge"]
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "dir": str(run_dir), "suite": manifest["suite"],
            "suite_version": manifest["suite_version"],
            "suite_builder": manifest.get("suite_builder"),
            "suite_lists": manifest.get("suite_lists"), "planned": manifest.get("planned"),
            "judged": len(records), "status": manifest.get("status"),
            "created": manifest.get("created"), "updated": manifest.get("updated"),
            "package_version": manifest.get("package_version"), "judge": judge,
        },
        "report_date": now(),
        "statuses": dict(Counter(str(r["status"]) for r in records)),
        "bootstrap": {"resamples": resamples, "seed": seed, "level": 0.95, "unit": "list"},
        "metrics": {"default": breakdown(records, strict=False, resamples=resamples, seed=seed),
                    "strict": breakdown(records, strict=True, resamples=resamples, seed=seed),
                    "chance": breakdown(records, chance=True, resamples=0)},
        "published": published.build(manifest, records),
    }


def fmt(figure: dict[str, Any] | None, *, ci: bool = True, digits: int = 1) -> str:
    """``81.9 [79.2, 84.1]``, or ``–`` when undefined."""
    if not figure or figure.get("value") is None:
        return "–"
    text = f"{figure['value']:.{digits}f}"
    lo, hi = figure.get("ci") or (None, None)
    if ci and lo is not None and hi is not None:
        text += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
    return text


def judge_label(judge: dict[str, Any]) -> str:
    """``backend (model)``."""
    model = judge.get("model")
    return f"{judge['backend']}" + (f" ({model})" if model and model not in judge["backend"]
                                    else "")


def header_lines(report: dict[str, Any]) -> list[str]:
    """The provenance table every report starts with."""
    run, judge = report["run"], report["run"]["judge"]
    tpl = (f"{judge['template']} ({judge['template_hash']})" if judge.get("template")
           else "none (scoring backend)")
    return [
        "| | |", "|---|---|",
        f"| Judge | {judge_label(judge)} |",
        f"| Model | {judge.get('model') or '–'} |",
        f"| Template | {tpl} |",
        (f"| Seed · permutations · shuffle | {judge['seed']} · {judge['permutations']} · "
        f"{'on' if judge.get('shuffle') else 'off'} |"),
        f"| Suite | {run['suite']} · version {run['suite_version']} · {run['suite_builder']} |",
        (f"| Lists judged | {run['judged']} of {run['planned']} planned "
        f"({run['suite_lists']} in the suite); {_status(run)} |"),
        f"| Run date | {run['created']} (last update {run['updated']}) |",
        f"| Report date | {report['report_date']} |",
        f"| Package | judge {run['package_version']} |",
    ]


def _status(run: dict[str, Any]) -> str:
    if run.get("status") == "complete" or run["judged"] == run["planned"]:
        return "run complete"
    return "run not finished (still running, or stopped: the same command resumes it)"


def _group_table(groups: dict[str, Any], title: str) -> list[str]:
    cols = ["accuracy", "tau", "ndcg", "top1", "variance", "unparsed_rate"]
    lines = [f"| {title} | Lists | " + " | ".join(LABELS[c] for c in cols) + " |",
             "|---|---:|" + "---:|" * len(cols)]
    for name, g in groups.items():
        cells = [fmt(g[c], digits=2 if c == "variance" else 1) for c in cols]
        lines.append(f"| {name} | {g['lists']} | " + " | ".join(cells) + " |")
    return lines


def render_markdown(report: dict[str, Any], plots: list[Path] | None = None,
                    max_principles: int = 40) -> str:
    """The Markdown report."""
    default, strict = report["metrics"]["default"], report["metrics"]["strict"]
    ov, st = default["overall"], strict["overall"]
    out = [f"# Bench report: {report['run']['suite']} · {judge_label(report['run']['judge'])}",
           "", *header_lines(report), "", "## Overall", ""]
    cols = [c for c in FIGURES]
    out += ["| Variant | Lists | Scored | Unparsed | Errors | Pairs | "
            + " | ".join(LABELS[c] for c in cols) + " |",
            "|---|---:|---:|---:|---:|---:|" + "---:|" * len(cols)]
    for name, g in (("default", ov), ("strict", st)):
        cells = [fmt(g[c], digits=2 if c == "variance" else 1) for c in cols]
        out.append(f"| {name} | {g['lists']} | {g['judged']} | {g['unparsed']} | "
                   f"{g['backend_error']} | {g['pairs']} | " + " | ".join(cells) + " |")
    chance = report["metrics"].get("chance", {}).get("overall")
    if chance:  # reports written before the chance row existed have none
        cells = [fmt(chance[c], ci=False) if c in CHANCE_FIGURES else "" for c in cols]
        out.append(f"| chance | {chance['lists']} | | | | {chance['pairs']} | "
                   + " | ".join(cells) + " |")
    b = report["bootstrap"]
    out += ["", (f"Default: {ov['unparsed']} unparsed and {ov['backend_error']} failed lists are "
            "left out of the figures. Strict: they count as wrong (as if the judge had given "
            "the gold order reversed; top-1 = 0). Chance: the expected figures of a judge that "
            "orders each of the default row's lists at random (exact, from the gold labels; NDCG "
            "and top-1 are far from 0 by chance). Brackets: 95 % bootstrap intervals over "
            f"lists ({b['resamples']} resamples, seed {b['seed']}). Definitions: "
            "docs/metrics.md."), ""]
    out += published.markdown(report.get("published"))
    for key, title in (("category", "Category"), ("domain", "Domain"),
                       ("principle", "Principle")):
        groups = default[f"by_{key}"]
        out += [f"## By {key}", ""]
        if key == "principle" and len(groups) > max_principles:
            out += [(f"{len(groups)} principles: see `report.json` (metrics.default."
                    "by_principle)."), ""]
            continue
        out += [*_group_table(groups, title), ""]
    if plots:
        out += ["## Plots", ""]
        out += [f"![{p.stem}](plots/{p.name})" for p in plots] + [""]
    return "\n".join(out) + "\n"


def write_report(run_dir: str | Path, *, resamples: int = 1000, seed: int = 0,
                 plots: bool = True) -> ReportFiles:
    """Write ``report.json``, ``report.md`` and ``plots/*.png`` into the run directory."""
    run = Path(run_dir)
    report = build_report(run, resamples=resamples, seed=seed)
    pngs: list[Path] = []
    if plots:
        from judge.bench import plots as plotting

        records = load_records(run)
        pngs = plotting.report_plots(report, records, run / "plots")
        pngs += published.plots(report.get("published"), run / "plots")
    md, js = run / "report.md", run / "report.json"
    js.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md.write_text(render_markdown(report, pngs), encoding="utf-8")
    return ReportFiles(md, js, pngs)

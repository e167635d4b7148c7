"""Do the published-benchmark adapters score the way the authors' own code does?

    python benchmarks/check_published_scoring.py --judgebench DIR --llmbar DIR

``--judgebench``: a JudgeBench checkout; every ``outputs/*.jsonl`` (the authors' judges' decisions
in both orders) is scored with :mod:`judge.bench.published.judgebench` and with upstream's
net-vote rule (``utils/metrics.py``, restated below). ``--llmbar``: LLMBar's ``Dataset`` folder;
every non-Swap ``evaluators/*/*/result.json`` is scored with :mod:`judge.bench.published.llmbar`
and compared with the ``statistics.json`` beside it (``correct_average``, ``equal``). Prints one
line per file that differs and a count; exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path
from typing import Any

from judge.bench.published import judgebench, llmbar

_FLIP = {"A>B": "B>A", "B>A": "A>B"}


def _entry(values: dict[str, float] | None) -> dict[str, Any]:
    return {"order": [], "status": "ok" if values else "unparsed", "scores": values,
            "ranking": None}


def _pair_values(decision: str | None) -> dict[str, float] | None:
    return {"A>B": {"A": 2.0, "B": 1.0}, "B>A": {"A": 1.0, "B": 2.0},
            "A=B": {"A": 1.0, "B": 1.0}}.get(decision or "")


def check_judgebench(root: Path) -> tuple[int, int]:
    """(files compared, files that differ)."""
    files = sorted((root / "outputs").glob("*.jsonl"))
    differ = 0
    for path in files:
        records: list[dict[str, Any]] = []
        upstream = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            pair = json.loads(line)
            first, second = (pair["judgments"] + [None, None])[:2]
            d1 = first["decision"] if first else None
            d2 = second["decision"] if second else None
            d2 = _FLIP.get(d2 or "", d2)           # the second game showed B first
            label = pair["label"]
            upstream += sum(1 if d == label else -1 if d == _FLIP[label] else 0
                            for d in (d1, d2)) > 0
            records.append({"gold": {"A": 1.0, "B": 0.0}, "direct": False,
                            "meta": {"label": label, "family": judgebench.family(pair["source"]),
                                     "subset": pair["response_model"]},
                            "orders": [_entry(_pair_values(d1)), _entry(_pair_values(d2))]})
        ours = judgebench.score(records)["overall"]["accuracy"]
        theirs = 100.0 * upstream / len(records)
        differ += abs(ours - theirs) > 1e-9
        print(f"judgebench {path.name}: ours {ours:.2f}, upstream rule {theirs:.2f}")
    return len(files), differ


def check_llmbar(root: Path) -> tuple[int, int]:
    """(evaluator runs compared, runs that differ)."""
    compared = differ = 0
    for stat_path in sorted(root.rglob("evaluators/*/*/statistics.json")):
        stats = json.loads(stat_path.read_text(encoding="utf-8"))
        if "Swap" in stat_path.parent.name or not {"equal", "correct_average"} <= set(stats):
            continue   # Swap strategies store several games per order
        records: list[dict[str, Any]] = []
        for row in json.loads((stat_path.parent / "result.json").read_text(encoding="utf-8")):
            res = row["results"]
            res = ast.literal_eval(res) if isinstance(res, str) else res
            try:
                games = [res[0]["swap = False"]["winner"], res[0]["swap = True"]["winner"]]
            except (KeyError, IndexError, TypeError):
                records = []       # rating strategies: one score per output, another layout
                break
            values = [{"1": {"output_1": 2.0, "output_2": 1.0},
                       "2": {"output_1": 1.0, "output_2": 2.0}}.get(str(w)) for w in games]
            records.append({"gold": {"output_1": 1.0, "output_2": 0.0}, "direct": False,
                            "meta": {"subset": "x", "label": int(row["label"])},
                            "orders": [_entry(v) for v in values]})
        if not records:
            continue
        ours = llmbar.score(records)["x"]
        theirs = (float(stats["correct_average"].rstrip("%")),
                  float(stats["equal"].split("=")[-1].strip().rstrip("%")))
        compared += 1
        if (abs(ours["accuracy"] - theirs[0]) > 0.051
                or abs(ours["positional_agreement"] - theirs[1]) > 0.051):
            differ += 1
            print(f"llmbar {stat_path.parent}: ours {ours['accuracy']:.2f} / "
                  f"{ours['positional_agreement']:.2f}, theirs {theirs[0]} / {theirs[1]}")
    print(f"llmbar: {compared} evaluator runs compared, {differ} differ")
    return compared, differ


def main(argv: list[str] | None = None) -> int:
    """Run the checks asked for."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--judgebench", type=Path, help="a JudgeBench checkout")
    ap.add_argument("--llmbar", type=Path, help="LLMBar's Dataset folder")
    args = ap.parse_args(argv)
    if not (args.judgebench or args.llmbar):
        ap.error("give --judgebench DIR and/or --llmbar DIR")
    differ = 0
    if args.judgebench:
        differ += check_judgebench(args.judgebench)[1]
    if args.llmbar:
        differ += check_llmbar(args.llmbar)[1]
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

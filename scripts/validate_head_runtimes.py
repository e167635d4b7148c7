"""Validate a head's torch-free runtimes against its torch runtime on held-out data, and
record the result in the head (``config.json`` ``runtime`` + a card section).

    .venv/bin/python scripts/validate_head_runtimes.py [--head heads/default] [--every 4] [--write]
        [--save results.json | --load results.json]

Data (read from ../shared/data at run time): the default head's held-out AlpacaEval answer
sets (GPT-4-turbo soft verdicts, every ``--every``-th instruction) and the RM-Bench chat
prompts its split held out, under the two library principles that order them oppositely.

Per runtime (``onnx`` fp32, ``onnx-int8``) against ``torch`` on the same items:

* largest absolute score difference;
* decision agreement: the share of response pairs (within an item) that both order the same way;
* pairwise accuracy against the teacher's labels, next to torch's.

**Criterion, fixed before measuring:** ``onnx-int8`` becomes the default runtime only if on
every data set its accuracy is at most :data:`MAX_ACCURACY_DROP` below torch's and it agrees
with torch on at least :data:`MIN_DECISION_AGREEMENT` of the pairs; otherwise ``onnx`` (fp32)
is the default, provided its largest score difference is below :data:`FP32_SCORE_TOLERANCE`;
otherwise ``torch``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from default_head_data import alpaca_items, rm_bench_items

from judge.distill.artifact import CONFIG_FILE, HeadConfig
from judge.distill.head import load_head
from judge.distill.labels import LabelItem, split_items
from judge.distill.metrics import agreement

MAX_ACCURACY_DROP = 0.01
MIN_DECISION_AGREEMENT = 0.95
FP32_SCORE_TOLERANCE = 1e-4
#: The default head's held-out answer sets (scripts/train_default_head.py TEST_SETS).
TEST_SETS = ("FuseChat-Llama-3.1-8B-Instruct", "claude-2", "Mixtral-8x7B-Instruct-v0.1_concise")
RM_PRINCIPLES = ("correct-then-concise", "correct-then-thorough")
SECTION = "## Runtimes"
NUMERICS = {
    "torch": "sentence-transformers encoder and torch network, float32",
    "onnx": "the encoder exported to ONNX (onnxruntime, float32), numpy network (float32)",
    "onnx-int8": "the ONNX encoder with int8 weights (onnxruntime quantize_dynamic, QInt8, per "
                 "channel; float32 activations), numpy network (float32)",
}


def datasets(data: Path, every: int) -> dict[str, list[LabelItem]]:
    """The held-out items per data set."""
    alpaca = alpaca_items(data, TEST_SETS, 1.0, every=every)
    _, rm_test = split_items(rm_bench_items(data, "train", ("chat",)), test_fraction=0.2, seed=0)
    rm = [it for it in rm_test if it.principle_id in RM_PRINCIPLES]
    return {"alpaca-eval held-out answer sets": alpaca, "rm-bench held-out prompts": rm}


def score(head: Any, items: list[LabelItem]) -> tuple[list[list[float]], float]:
    """Scores of every item in one batch, and the seconds it took."""
    start = time.perf_counter()
    out = head.score_batch([(it.principle, it.prompt, list(it.responses)) for it in items])
    return out, time.perf_counter() - start


def compare(items: list[LabelItem], ref: list[list[float]], got: list[list[float]]
            ) -> dict[str, Any]:
    """Score difference and decision agreement with the reference, and label accuracy."""
    diff, same, pairs = 0.0, 0, 0
    for r, g in zip(ref, got, strict=True):
        diff = max(diff, *(abs(a - b) for a, b in zip(r, g, strict=True)))
        for i, j in itertools.combinations(range(len(r)), 2):
            pairs += 1
            same += (r[i] > r[j]) == (g[i] > g[j])
    acc = agreement(items, got, by=None)["all"]
    return {"max_abs_diff_vs_torch": float(f"{diff:.3g}"),
            "decision_agreement_vs_torch": round(same / pairs, 4), "pairs": pairs,
            "pairwise_accuracy": acc["pairwise_accuracy"], "label_pairs": acc["pairs"]}


def decide(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The default runtime under the criterion in the module docstring."""
    int8 = all(results["onnx-int8"][name]["pairwise_accuracy"] >=
               results["torch"][name]["pairwise_accuracy"] - MAX_ACCURACY_DROP and
               results["onnx-int8"][name]["decision_agreement_vs_torch"] >=
               MIN_DECISION_AGREEMENT for name in results["torch"])
    if int8:
        return "onnx-int8"
    fp32 = all(r["max_abs_diff_vs_torch"] < FP32_SCORE_TOLERANCE
               for r in results["onnx"].values())
    return "onnx" if fp32 else "torch"


def card_section(record: dict[str, Any], command: str) -> str:
    """The card's runtime section."""
    lines = [SECTION, "",
             ("`judge score` / `judge rank` run this head without torch by default: the MiniLM "
             "encoder exported to ONNX (built once into `~/.cache/judge/onnx`, see "
             "`judge distill export --format onnx`) and the head network in numpy. "
             f"Default runtime: **{record['default']}** (`-B runtime=torch|onnx|onnx-int8` "
             "chooses another)."), "",
             (f"Criterion, fixed before measuring: int8 is the default only if its accuracy is at "
             f"most {MAX_ACCURACY_DROP} below torch's on every data set and it orders at least "
             f"{MIN_DECISION_AGREEMENT:.0%} of response pairs as torch does."), "",
             ("| runtime | data | pairwise accuracy | agreement with torch | max abs score diff "
             "| pairs |"), "|---|---|---|---|---|---|"]
    # torch first: the reference
    for runtime, per in record["validated"].items():
        for name, fig in per["data"].items():
            lines.append(f"| {runtime} | {name} | {fig['pairwise_accuracy']:.3f} | "
                         f"{fig['decision_agreement_vs_torch']:.3f} | "
                         f"{fig['max_abs_diff_vs_torch']:.2g} | {fig['pairs']} |")
    lines += ["", f"Measured with `{command}` ({record['versions']})."]
    return "\n".join(lines) + "\n"


def measure(folder: str, sets: dict[str, list[LabelItem]]
            ) -> dict[str, dict[str, dict[str, Any]]]:
    """Figures per runtime and data set (torch first: the reference)."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    reference: dict[str, list[list[float]]] = {}
    for runtime in ("torch", "onnx", "onnx-int8"):
        head = load_head(folder, runtime=runtime)
        results[runtime] = {}
        for name, items in sets.items():
            got, seconds = score(head, items)
            reference.setdefault(name, got)
            results[runtime][name] = {**compare(items, reference[name], got),
                                      "seconds": round(seconds, 1)}
            print(f"{runtime:10} {name:34} {json.dumps(results[runtime][name])}", flush=True)
    return results


def with_section(card: str, section: str) -> str:
    """The card with its runtime section replaced, or inserted before the library versions."""
    if SECTION in card:
        before, _, rest = card.partition(SECTION)
        after = rest[rest.find("\n## ") + 1:] if "\n## " in rest else ""
    elif "\n## Library versions" in card:
        before, _, after = card.partition("\n## Library versions")
        before, after = before + "\n", "## Library versions" + after
    else:
        before, after = card + "\n", ""
    return before.rstrip("\n") + "\n\n" + section + ("\n" + after if after else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", default=str(ROOT / "heads" / "default"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--every", type=int, default=4,
                        help="every k-th AlpacaEval instruction (default 4)")
    parser.add_argument("--write", action="store_true",
                        help="record the result in the head's config.json and card")
    parser.add_argument("--save", metavar="FILE", help="also write the measured figures here")
    parser.add_argument("--load", metavar="FILE",
                        help="do not measure: use figures written by --save (e.g. to --write "
                             "them after a long run)")
    args = parser.parse_args(argv)
    if args.load:
        saved = json.loads(Path(args.load).read_text(encoding="utf-8"))
        results, command = saved["results"], saved["command"]
    else:
        command = f"python scripts/validate_head_runtimes.py --every {args.every}"
        results = measure(args.head, datasets(Path(args.data), args.every))
    if args.save:
        Path(args.save).write_text(json.dumps({"command": command.strip(), "results": results},
                                              indent=2) + "\n", encoding="utf-8")
    default = decide(results)
    print(f"default runtime under the criterion: {default}")
    if not args.write:
        return 0
    versions = ", ".join(f"{p} {version(p)}" for p in ("onnxruntime", "torch", "tokenizers"))
    validated = {rt: {"numerics": NUMERICS[rt],
                      "data": {k: {f: v for f, v in fig.items() if f != "seconds"}
                               for k, fig in per.items()},
                      "command": command.strip(), "versions": versions}
                 for rt, per in results.items()}
    record = {"default": default, "versions": versions, "validated": validated}
    folder = Path(args.head)
    data = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    data["runtime"] = {"default": default, "validated": validated}
    config = HeadConfig.model_validate(data)
    (folder / CONFIG_FILE).write_text(json.dumps(config.model_dump(mode="json"), indent=2,
                                                 ensure_ascii=False) + "\n", encoding="utf-8")
    card_path = folder / "README.md"
    card_path.write_text(with_section(card_path.read_text(encoding="utf-8"),
                                      card_section(record, command.strip())), encoding="utf-8")
    print(f"recorded in {folder / CONFIG_FILE} and {folder / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

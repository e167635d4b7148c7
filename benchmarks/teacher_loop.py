"""Our own judge as a teacher, end to end: judge -> labels -> head -> agreement, on this CPU.

1. RM-Bench pairs (a correct and an incorrect answer to the same prompt, in the same style) are
   written as label input rows; a seeded sample of the pairs whose answers are short enough to
   judge on a CPU (``--max-chars``).
2. ``judge label`` judges every answer on its own (``--pointwise``, logprob-weighted scores)
   with a real local model: by default SmolLM2-135M-Instruct from its GGUF file through
   transformers. The run is journalled, so an interrupted run resumes.
3. ``judge distill fit`` trains a head on those labels only (prompts split train/test by hash).
4. ``judge distill eval`` measures the head against its teacher on the held-out prompts.

It prints the teacher's own accuracy against RM-Bench's gold (correct > incorrect), the head's
agreement with its teacher on held-out prompts, the head's gold accuracy on the same prompts, and
the longer-wins / shorter-wins baselines against both. Rerunning the same command reuses the
journalled labels and only refits.

    .venv/bin/python benchmarks/teacher_loop.py --gguf PATH.gguf [--pairs 300] [--out runs/loop]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FILES = ("chat_filtered.json", "safety-response_filtered.json", "safety-refuse_filtered.json",
         "code_filtered.json")
STYLE = {"concise": 0, "detailed": 1, "markdown": 2}


def pairs_from_rmbench(data: Path, n: int, max_chars: int, style: str, seed: int
                       ) -> list[dict[str, Any]]:
    """RM-Bench rows -> label input rows {id, prompt, responses: {chosen, rejected}}."""
    k = STYLE[style]
    pool = []
    for name in FILES:
        path = data / name
        if not path.is_file():
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            chosen, rejected = row["chosen"][k], row["rejected"][k]
            if chosen == rejected or max(len(chosen), len(rejected)) > max_chars:
                continue
            pool.append({"id": f"{name.split('_')[0]}-{row['id']}-{style}",
                         "prompt": row["prompt"],
                         "responses": {"chosen": chosen, "rejected": rejected}})
    random.Random(seed).shuffle(pool)
    return pool[:n]


def judge_cli(*args: str) -> None:
    started = time.perf_counter()
    print("$ judge " + " ".join(args), file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, "-m", "judge", *args], check=False)
    print(f"  ({time.perf_counter() - started:.0f} s, exit {done.returncode})", file=sys.stderr)
    if done.returncode not in (0, 3):
        raise SystemExit(done.returncode)


def agreement(a: list[int], b: list[int]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", help="the teacher model's GGUF file (transformers backend)")
    ap.add_argument("--backend", help="any backend spec instead of --gguf")
    ap.add_argument("--data", default=os.environ.get("JUDGE_DATA", "../shared/data") + "/rm-bench")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--max-chars", type=int, default=700)
    ap.add_argument("--style", choices=list(STYLE), default="concise")
    ap.add_argument("--principle", default="factual-accuracy")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/teacher-loop")
    ap.add_argument("--batch-size", type=int, default=16, help="rows per journal sync")
    ap.add_argument("--embedder", default="minilm")
    args = ap.parse_args()
    if not (args.gguf or args.backend):
        ap.error("give --gguf PATH.gguf or --backend SPEC")
    backend = args.backend or f"transformers:{args.gguf}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    rows = pairs_from_rmbench(Path(args.data), args.pairs, args.max_chars, args.style, args.seed)
    items = out / "items.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (out / "pairs.jsonl").write_text("".join(json.dumps({   # the same pairs for `bench run pairwise:`
        "id": r["id"], "prompt": r["prompt"], "chosen": r["responses"]["chosen"],
        "rejected": r["responses"]["rejected"]}) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} RM-Bench pairs ({args.style}, answers <= {args.max_chars} chars)",
          file=sys.stderr)

    labels = out / "labels.jsonl"
    started = time.perf_counter()
    judge_cli("label", "-i", str(items), "-o", str(labels), "--backend", backend,
              "--principle", args.principle, "--pointwise", "--structured",
              "--top-logprobs", "5", "--max-tokens", "24", "--batch-size", str(args.batch_size),
              "-q")
    label_s = time.perf_counter() - started
    head = out / "head"
    judge_cli("distill", "fit", "--labels", str(labels), "--out", str(head), "--force",
              "--embedder", args.embedder, "--test-fraction", "0.3", "--seed", str(args.seed),
              "--json", str(out / "fit.json"), "-q")
    judge_cli("distill", "eval", "--head", str(head), "--labels", str(labels),
              "--json", str(out / "eval.json"), "-q")
    gold = out / "gold.jsonl"       # the same pairs with RM-Bench's answer: chosen > rejected
    gold.write_text("".join(json.dumps({**r, "principle": args.principle,
                                        "gold_ranking": ["chosen", "rejected"]}) + "\n"
                            for r in rows), encoding="utf-8")
    judge_cli("distill", "eval", "--head", str(head), "--labels", str(gold),
              "--json", str(out / "eval-gold.json"), "-q")

    records = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    usable = [r for r in records if r.get("scores")]
    teacher = [int(score_of(r, "chosen") > score_of(r, "rejected")) for r in usable]
    ties = sum(score_of(r, "chosen") == score_of(r, "rejected") for r in usable)
    longer = [int(len(r["responses"]["chosen"]) > len(r["responses"]["rejected"])) for r in usable]
    report = json.loads((out / "eval.json").read_text())
    print(json.dumps({"pairs": len(rows), "usable": len(usable),
                      "statuses": count(r["status"] for r in records),
                      "label_seconds": round(label_s), "teacher_ties": ties}, indent=1))
    print(f"teacher vs gold (chosen > rejected): {agreement(teacher, [1] * len(teacher)):.3f} "
          f"| longer-wins vs gold {agreement(longer, [1] * len(longer)):.3f} "
          f"| teacher agrees with longer-wins {agreement(teacher, longer):.3f}")
    print("head vs its teacher, held-out prompts: " + json.dumps(summary(report)))
    gold_report = json.loads((out / "eval-gold.json").read_text())
    print("head vs RM-Bench gold, same held-out prompts: " + json.dumps(summary(gold_report)))


def score_of(record: dict[str, Any], rid: str) -> float:
    scores = record.get("logprob_scores") or record["scores"]
    return float(scores[rid])


def count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Held-out pairwise agreement of the head and of the length baselines with the teacher."""
    body = report.get("report", report)
    head = body["head"]["all"]
    base = body["baselines"]
    return {"pairs": head["pairs"], "head": head["pairwise_accuracy"],
            "longer_wins": base["longer_wins"]["pairwise_accuracy"],
            "shorter_wins": base["shorter_wins"]["pairwise_accuracy"]}


if __name__ == "__main__":
    main()

"""Reward-head scoring speed against the raw encoder on the same texts, in one run, under each
runtime (torch, onnx fp32, onnx int8).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_head.py [--head heads/default] \
        [--prompts 48] [--k 6] [--runtimes torch onnx onnx-int8]

Prints, per runtime, on the same workload:

* encoder and head throughput (responses/s) and their ratio to the torch runtime's;
* the largest score difference from the torch runtime on the workload;

then, for the torch runtime:

* encoder alone: responses embedded per second (``embedder.embed`` on the response texts);
* head: responses scored per second through ``RewardHead.score_batch`` (principle, prompt and
  responses embedded, features built, head run), cold (empty principle/prompt memory);
* the ratio head / encoder (1.0 = the head adds nothing beyond the encoder) and the time spent
  in the head network itself;
* reuse: texts sent to the encoder when k responses to one prompt are scored in one call,
  then again for a new response to a known prompt (principle and prompt are not re-embedded);
* the default head's recorded training time.

Texts come from RM-Bench in ``--data`` (default ``../shared/data``) when present, else from a
built-in generator. ``OMP_NUM_THREADS`` bounds the threads of both torch and onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judge.distill.head import RewardHead, load_head
from judge.principles import resolve_principle


def workload(n_prompts: int, k: int, seed: int = 0, data_dir: Path | None = None
             ) -> list[tuple[str, str, list[str]]]:
    """(principle text, prompt, k responses) items."""
    rng = random.Random(seed)
    principles = [resolve_principle(p).text for p in ("correct-then-concise",
                                                      "correct-then-thorough")]
    data = (data_dir or ROOT.parent / "shared" / "data") / "rm-bench" / "chat_filtered.json"
    items = []
    if data.is_file():
        rows = json.loads(data.read_text())
        rng.shuffle(rows)
        for row in rows[:n_prompts]:
            responses = (row["chosen"] + row["rejected"])[:k]
            items.append((rng.choice(principles), row["prompt"], responses))
    words = ["the", "answer", "depends", "on", "context", "and", "careful", "reasoning", "about", "each", "case"]
    while len(items) < n_prompts:
        responses = [" ".join(rng.choices(words, k=rng.randint(10, 200))) for _ in range(k)]
        items.append((rng.choice(principles), f"question {len(items)}?", responses))
    return items


class Counting:
    """Wraps an embedder and counts the texts it is asked to embed."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.info, self.texts = inner, inner.info, 0

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.texts += len(texts)
        return self.inner.embed(texts)


def run_runtime(folder: str, runtime: str, items: list[tuple[str, str, list[str]]]
                ) -> tuple[RewardHead, float, float, list[list[float]]]:
    """(head, encoder seconds, head seconds, scores) for one runtime on the workload."""
    head = load_head(folder, runtime=runtime)
    embedder = head.embedder
    responses = [r for _, _, rs in items for r in rs]
    embedder.embed(responses[:8])  # warm-up
    t0 = time.perf_counter()
    embedder.embed(responses)
    t_enc = time.perf_counter() - t0
    cold = RewardHead(head.config, head.net, embedder, runtime=runtime)  # empty memory
    t0 = time.perf_counter()
    scores = cold.score_batch(items)
    return head, t_enc, time.perf_counter() - t0, scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", default=str(ROOT / "heads" / "default"))
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--runtimes", nargs="+", default=["torch", "onnx", "onnx-int8"],
                        choices=["torch", "onnx", "onnx-int8"])
    args = parser.parse_args()

    items = workload(args.prompts, args.k, data_dir=args.data)
    responses = [r for _, _, rs in items for r in rs]
    n = len(responses)
    print(f"workload: {len(items)} prompts x {args.k} responses = {n} responses "
          f"({sum(map(len, responses)) / n:.0f} characters on average)")
    runs = {rt: run_runtime(args.head, rt, items) for rt in args.runtimes}
    base = runs.get("torch")
    print(f"{'runtime':10} {'encoder resp/s':>15} {'head resp/s':>12} {'head x torch':>13} "
          f"{'max |score - torch|':>20}")
    for rt, (_, t_enc, t_head, scores) in runs.items():
        ratio = f"{base[2] / t_head:13.2f}" if base else f"{'-':>13}"
        diff = (max(abs(a - b) for got, ref in zip(scores, base[3], strict=True)
                    for a, b in zip(got, ref, strict=True)) if base else float("nan"))
        print(f"{rt:10} {n / t_enc:15.1f} {n / t_head:12.1f} {ratio} {diff:20.2e}")
    if base is None:
        return 0
    head, t_enc, t_head, _ = base
    embedder = head.embedder

    import torch

    from judge.distill.features import build_features, build_features_np, stats_matrix
    from judge.distill.net_numpy import load_numpy_net

    dim = head.config.embedder.dim
    vec = torch.nn.functional.normalize(torch.randn(n, dim), dim=1)
    stats = torch.from_numpy(stats_matrix([(r, q) for _, q, rs in items for r in rs]))
    t0 = time.perf_counter()
    with torch.inference_mode():
        head.net(build_features(vec, vec, vec, stats))
    t_net = time.perf_counter() - t0
    numpy_net = load_numpy_net(args.head, head.config)
    v, st = vec.numpy(), stats.numpy()
    t0 = time.perf_counter()
    numpy_net(build_features_np(v, v, v, st))
    t_np = time.perf_counter() - t0

    counting = Counting(embedder)
    reuse = RewardHead(head.config, head.net, counting)  # type: ignore[arg-type]
    p, q, rs = items[0]
    reuse.score_batch([(p, q, rs)])
    first = counting.texts
    reuse.score_batch([(p, q, ["one more response to the same prompt"])])
    second = counting.texts - first

    print(f"torch head / encoder: {t_enc / t_head:6.3f}  (1.0 = no overhead beyond the encoder)")
    print(f"head network alone : torch {t_net * 1000:.1f} ms, numpy {t_np * 1000:.1f} ms for {n} "
          f"responses ({100 * t_net / t_enc:.2f}% of the torch encoder time)")
    print(f"reuse              : {first} texts embedded for 1 principle + 1 prompt + "
          f"{len(rs)} responses; {second} for one more response to the same prompt")
    config = json.loads((Path(args.head) / "config.json").read_text())
    seconds = config.get("training", {}).get("seconds", {})
    print(f"training (recorded): {seconds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

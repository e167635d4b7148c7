"""Reward-head scoring speed against the raw encoder on the same texts, in one run.

    .venv/bin/python benchmarks/bench_head.py [--head heads/default] [--prompts 48] [--k 6]

Prints:

* encoder alone: responses embedded per second (``embedder.embed`` on the response texts);
* head: responses scored per second through ``RewardHead.score_batch`` (principle, prompt and
  responses embedded, features built, head run), cold (empty principle/prompt memory);
* the ratio head / encoder (1.0 = the head adds nothing beyond the encoder) and the time spent
  in the head network itself;
* reuse: texts sent to the encoder when k responses to one prompt are scored in one call,
  then again for a new response to a known prompt (principle and prompt are not re-embedded);
* the default head's recorded training time.

Texts come from RM-Bench in ``../shared/data`` when present, else from a built-in generator.
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


def workload(n_prompts: int, k: int, seed: int = 0) -> list[tuple[str, str, list[str]]]:
    """(principle text, prompt, k responses) items."""
    rng = random.Random(seed)
    principles = [resolve_principle(p).text for p in ("correct-then-concise",
                                                      "correct-then-thorough")]
    data = ROOT.parent / "shared" / "data" / "rm-bench" / "chat_filtered.json"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", default=str(ROOT / "heads" / "default"))
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--k", type=int, default=6)
    args = parser.parse_args()

    head = load_head(args.head)
    embedder = head.embedder
    items = workload(args.prompts, args.k)
    responses = [r for _, _, rs in items for r in rs]
    embedder.embed(responses[:8])  # warm-up

    t0 = time.perf_counter()
    embedder.embed(responses)
    t_enc = time.perf_counter() - t0

    cold = RewardHead(head.config, head.net, embedder)  # empty principle/prompt memory
    t0 = time.perf_counter()
    cold.score_batch(items)
    t_head = time.perf_counter() - t0

    import torch

    from judge.distill.features import build_features, stats_matrix

    n = len(responses)
    dim = head.config.embedder.dim
    vec = torch.nn.functional.normalize(torch.randn(n, dim), dim=1)
    stats = torch.from_numpy(stats_matrix([(r, q) for _, q, rs in items for r in rs]))
    t0 = time.perf_counter()
    with torch.inference_mode():
        head.net(build_features(vec, vec, vec, stats))
    t_net = time.perf_counter() - t0

    counting = Counting(embedder)
    reuse = RewardHead(head.config, head.net, counting)  # type: ignore[arg-type]
    p, q, rs = items[0]
    reuse.score_batch([(p, q, rs)])
    first = counting.texts
    reuse.score_batch([(p, q, ["one more response to the same prompt"])])
    second = counting.texts - first

    print(f"workload: {len(items)} prompts x {args.k} responses = {n} responses "
          f"({sum(map(len, responses)) / n:.0f} characters on average)")
    print(f"encoder alone      : {n / t_enc:8.1f} responses/s  ({t_enc:.2f} s)")
    print(f"head (cold memory) : {n / t_head:8.1f} responses/s  ({t_head:.2f} s; also embeds "
          f"{len({i[0] for i in items})} principle(s) and {len(items)} prompts)")
    print(f"ratio head/encoder : {t_enc / t_head:8.3f}  (1.0 = no overhead)")
    print(f"head network alone : {t_net * 1000:8.1f} ms for {n} responses "
          f"({100 * t_net / t_enc:.2f}% of the encoder time)")
    print(f"reuse              : {first} texts embedded for 1 principle + 1 prompt + "
          f"{len(rs)} responses; {second} for one more response to the same prompt")
    config = json.loads((Path(args.head) / "config.json").read_text())
    seconds = config.get("training", {}).get("seconds", {})
    print(f"training (recorded): {seconds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

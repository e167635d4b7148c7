"""What crash safety costs: ``judge label`` against calling the judge directly.

    .venv/bin/python benchmarks/bench_label.py [--rows 3000] [--head DIR]

Each judge is timed three ways over the same rows, in the same run:

* **direct**: ``Judge.rank`` over the rows in batches (no files, no journal) - the baseline;
* **label**: ``label_dataset`` from a JSONL file to a JSONL output, with the fsynced journal;
* **resume**: ``label_dataset`` again with everything already in the journal.

Judges: a zero-cost scripted judge (so the figures are the runner's own overhead) and a fake
head; with ``--head DIR`` (or the shipped head when installed) also a real reward head.
Figures are ratios to the direct baseline plus rows/s; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.label import LabelOptions, label_dataset
from judge.types import GenerationRequest


def verdict(request: GenerationRequest) -> str:
    data = json.loads(request.messages[-1].content)
    if "responses" in data:
        scores = {m: min(5, 1 + len(t) // 20) for m, t in data["responses"].items()}
        return json.dumps({"scores": scores, "best-to-worst": sorted(scores,
                                                                    key=lambda m: -scores[m])})
    return json.dumps({"score": min(5, 1 + len(data["response"]) // 20)})


class LengthHead:
    name, model = "bench-head", None

    def score_batch(self, items: Sequence[Any]) -> list[list[float]]:
        return [[len(r) / 10 for r in it.responses.values()] for it in items]

    def close(self) -> None:
        pass


def rows(n: int) -> list[dict]:
    rng = random.Random(0)
    words = ["the", "judge", "reads", "a", "principle", "and", "ranks", "every", "response", "from", "best", "to", "worst"]
    out = []
    for i in range(n):
        k = rng.choice([1, 2, 4])
        texts = [" ".join(rng.choices(words, k=rng.randint(5, 60))) for _ in range(k)]
        out.append({"id": i, "prompt": f"question {i}: " + " ".join(rng.choices(words, k=12)),
                    "responses": texts})
    return out


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(name: str, make_judge: Callable[[], Judge], data: list[dict], workdir: Path,
          batch: int) -> None:
    src = workdir / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    judge = make_judge()

    def direct() -> None:
        for start in range(0, len(data), batch):
            judge.rank(data[start:start + batch])

    direct()  # warm up (model load, caches)
    t_direct = timed(direct)
    out = workdir / f"{name}.jsonl"
    opts = LabelOptions(batch_size=batch)
    t_label = timed(lambda: label_dataset(judge, str(src), out, opts))
    t_resume = timed(lambda: label_dataset(judge, str(src), out, opts))
    n = len(data)
    print(f"{name:<12} direct {n / t_direct:8.0f} rows/s | label {n / t_label:8.0f} rows/s "
          f"({t_label / t_direct:5.2f}x direct) | resume, all reused {t_resume:6.2f}s "
          f"({t_resume / t_direct:5.2f}x direct)")
    judge.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--head", help="a trained head directory (default: the shipped head)")
    args = ap.parse_args(argv)
    data = rows(args.rows)
    principle = "correct-then-concise"
    print(f"{args.rows} rows, batch {args.batch_size}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bench("scripted", lambda: Judge(ScriptedBackend(verdict), principle=principle), data,
              work, args.batch_size)
        bench("fake-head", lambda: Judge(LengthHead(), principle=principle), data, work,
              args.batch_size)
        spec = f"head:{args.head}" if args.head else "head"
        try:
            real = Judge(spec, principle=principle)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
            print(f"real head    skipped ({type(exc).__name__}: {exc})")
        else:
            bench("real-head", lambda: real, data[:1000], work, args.batch_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

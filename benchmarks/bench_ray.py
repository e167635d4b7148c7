"""What Ray costs and buys: ``judge label`` rows/s on the local engine vs Ray with 1 and 2 workers.

    .venv/bin/python benchmarks/bench_ray.py [--rows 400] [--batch-size 16] [--backend head]
        [--repeats 2]

One run labels the same rows (short prompts with three responses) four ways, each into a fresh
output: ``local`` (today's path), then ``ray`` with 1 and 2 actors on a local Ray cluster started
once (its start-up is timed separately and left out of the rates). The Ray rates include building
the judge in each new actor, as a real run does; the driver's own judge (for the fingerprint) is
built once, before timing. Each way runs ``--repeats`` times, in alternating order, and the best
rate is kept (the machines are shared). Prints rows/s and the ratios to local; nothing is
asserted.

Past one node the local engine stays one process, while the actor pool spreads over every node's
CPUs or GPUs (``--ray-address auto --workers N``): rows/s grows with the actors until the driver
(planning, writing shards) becomes the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from judge.engine import EngineOptions, JudgeSpec, make_engine
from judge.label import LabelOptions, label_dataset


def write_rows(path: Path, n: int) -> None:
    rng = random.Random(0)
    words = ["the", "judge", "reads", "a", "principle", "and", "ranks", "every", "response",
             "from", "best", "to", "worst"]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            texts = [" ".join(rng.choices(words, k=rng.randint(5, 40))) for _ in range(3)]
            fh.write(json.dumps({"id": i, "prompt": f"question {i}: "
                                 + " ".join(rng.choices(words, k=10)), "responses": texts}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--backend", default="head")
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    spec = JudgeSpec(a.backend, {"principle": "correct-then-concise"})
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    src = work / "rows.jsonl"
    write_rows(src, a.rows)
    judge = spec.build()
    options = LabelOptions(batch_size=a.batch_size)

    def run(name: str, engine: object) -> float:
        start = time.perf_counter()
        summary = label_dataset(judge, str(src), work / f"{name}.jsonl", options,
                                engine=engine)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        assert summary.labeled == a.rows
        return a.rows / seconds

    import ray

    start = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
    startup = time.perf_counter() - start
    engines: dict[str, object] = {"local": None}
    for workers in (1, 2):
        engines[f"ray x{workers}"] = make_engine(EngineOptions(engine="ray", workers=workers),
                                                 None, spec)
    rates: dict[str, float] = {}
    for rep in range(a.repeats):  # the order alternates; the best of the repeats is kept
        for name in (list(engines) if rep % 2 == 0 else list(reversed(engines))):
            rate = run(f"{name.replace(' ', '')}-{rep}", engines[name])
            rates[name] = max(rates.get(name, 0.0), rate)
    ray.shutdown()
    judge.close()
    local = rates["local"]
    print(f"backend {a.backend}, {a.rows} rows x 3 responses, batch {a.batch_size}, "
          f"{os.cpu_count()} CPUs; Ray start-up {startup:.1f} s (not in the rates)")
    for name, rate in rates.items():
        print(f"  {name:<8} {rate:8.1f} rows/s   x{rate / local:.2f} of local")
    print(f"overhead at 1 worker: local/ray x1 = {local / rates['ray x1']:.2f}")


if __name__ == "__main__":
    main()

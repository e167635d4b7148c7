"""In-process RL rewards over an HTTP judge: grouped vs per-sample, async vs sync.

    .venv/bin/python benchmarks/bench_rl_inproc.py [--prompts 16] [--group 8] [--latency 0.05]
                                                   [--funcs 3]

The judge is the real OpenAI-compatible HTTP backend (``max_concurrency`` 8) talking to an
``httpx.MockTransport`` that answers each chat completion after ``--latency`` seconds with a
verdict computed from the request (longer responses score higher), so the figures reflect the
backend's own request handling plus a fixed server latency, not a model. One TRL batch is
``--prompts`` prompts × ``--group`` completions. Two comparisons, each in the same run:

* **grouped vs per-sample**: ``Reward(group_size=G)`` ranks each group in one listwise request;
  ``group_size=1`` scores every completion in its own pointwise request (the baseline);
* **async vs sync**: ``--funcs`` reward functions (one principle each) called the way TRL 1.16
  calls them: sync functions one after another (the baseline), ``AsyncReward`` ones together
  with ``asyncio.gather`` on an event loop.

Prints wall time, judge requests, rewards/s and the ratio to the baseline; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from judge.backends.http.client import OpenAIBackend, OpenAIOptions
from judge.core import Judge
from judge.rl import AsyncReward, Reward

PRINCIPLES = ["correct-then-concise", "no-sycophancy", "Prefer longer answers.",
              "Prefer a friendly tone."]


def server(latency: float) -> tuple[httpx.MockTransport, dict[str, int]]:
    """A chat-completions endpoint that thinks for ``latency`` seconds per request."""
    seen = {"requests": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        seen["requests"] += 1
        time.sleep(latency)
        shown = json.loads(json.loads(request.content)["messages"][-1]["content"])
        if "responses" in shown:
            scores = {m: min(5, 1 + len(t) // 12) for m, t in shown["responses"].items()}
            text = json.dumps({"scores": scores,
                               "best-to-worst": sorted(scores, key=lambda m: -scores[m])})
        else:
            text = json.dumps({"score": min(5, 1 + len(shown["response"]) // 12)})
        return httpx.Response(200, json={"choices": [{"message": {"content": text},
                                                      "finish_reason": "stop"}]})

    return httpx.MockTransport(handle), seen


def http_judge(transport: httpx.MockTransport, principle: str) -> Judge:
    backend = OpenAIBackend("http://127.0.0.1:9/v1", "bench-judge", transport=transport,
                            options=OpenAIOptions(max_concurrency=8))
    return Judge(backend, principle=principle)


def batch(prompts: int, group: int) -> tuple[list[str], list[str]]:
    ps = [f"Question {i}: explain step {i} of the method." for i in range(prompts)
          for _ in range(group)]
    cs = ["word " * (1 + (7 * n) % 13) for n in range(prompts * group)]
    return ps, cs


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--funcs", type=int, default=3)
    args = ap.parse_args()
    prompts, completions = batch(args.prompts, args.group)
    n = len(completions)
    print(f"batch: {args.prompts} prompts × {args.group} completions = {n}; "
          f"judge latency {args.latency * 1000:.0f} ms per request, 8 in flight")

    transport, _ = server(0.0)  # warm-up: templates, principles, HTTP client code paths
    for p in PRINCIPLES:
        warm = Reward(http_judge(transport, p), on_failure="none")
        warm(prompts=["q", "q"], completions=["a", "bb"])
        warm(prompts=["r"], completions=["c"])

    rows = []
    for label, size in (("per-sample", 1), ("grouped", args.group)):
        transport, seen = server(args.latency)
        reward = Reward(http_judge(transport, PRINCIPLES[0]), on_failure="none",
                        group_size=size)
        wall = timed(lambda reward=reward: reward(prompts=prompts, completions=completions))
        assert reward.stats.scored == n, reward.stats.as_dict()
        rows.append((label, seen["requests"], wall))
    base = rows[0][2]
    print("\nlistwise groups vs one request per completion")
    for label, requests, wall in rows:
        print(f"  {label:<11} {requests:>4} requests  {wall:7.2f} s  {n / wall:8.1f} rewards/s"
              f"  x{base / wall:5.2f}")

    funcs = [PRINCIPLES[i % len(PRINCIPLES)] for i in range(args.funcs)]
    transport, _ = server(args.latency)
    sync = [Reward(http_judge(transport, p), on_failure="none", group_size=args.group,
                   name=f"r{i}") for i, p in enumerate(funcs)]
    wall_sync = timed(lambda: [f(prompts=prompts, completions=completions) for f in sync])
    faces = [AsyncReward(Reward(http_judge(transport, p), on_failure="none",
                                group_size=args.group, name=f"a{i}"))
             for i, p in enumerate(funcs)]

    async def together() -> None:
        await asyncio.gather(*(f(prompts=prompts, completions=completions) for f in faces))

    wall_async = timed(lambda: asyncio.run(together()))
    print(f"\n{args.funcs} reward functions per step, as TRL calls them")
    for label, wall in (("sync", wall_sync), ("async", wall_async)):
        print(f"  {label:<11} {wall:7.2f} s  {args.funcs * n / wall:8.1f} rewards/s"
              f"  x{wall_sync / wall:5.2f}")


if __name__ == "__main__":
    main()

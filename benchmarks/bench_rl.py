"""Group rewards: rewards/s of per-sample judging vs the grouped service, same run, same judge.

    .venv/bin/python benchmarks/bench_rl.py [--callers 64] [--group 8] [--rounds 4]
                                            [--call-ms 200] [--per-request-ms 20]

A real uvicorn server (a child process on 127.0.0.1) serves a generative judge whose backend is scripted (scores
each response by the digit after "quality") and simulates an engine's latency: every backend
call costs ``--call-ms`` plus ``--per-request-ms`` per judge request in it (a batching engine:
one forward pass for the batch, a little more per sequence). ``--callers`` concurrent callers
(veRL's reward workers) each POST one sample per round to ``/group_score``; each round's
samples form ``callers / group`` prompts of ``--group`` samples.

* per-sample: ``group_size: 1`` — every sample is its own pointwise judge request (what veRL
  and OpenRLHF got before: the server's micro-batcher still batches concurrent calls);
* grouped: ``group: <prompt id>, group_size: --group`` — each prompt's samples are judged in one
  listwise request.

Prints rewards/s of both, the number of judge requests, and the ratio grouped / per-sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.serve.app import ServeSettings, create_app
from judge.serve.runner import server_config
from judge.serve.scorers import scorer_for
from judge.types import Generation, GenerationRequest


def _quality(text: str) -> int:
    found = re.search(r"quality (\d)", text)
    return int(found.group(1)) if found else 3


def reply(req: GenerationRequest) -> str:
    shown = json.loads(req.messages[-1].content)
    if "response" in shown:
        return json.dumps({"score": _quality(shown["response"])})
    scores = {i: _quality(t) for i, t in shown["responses"].items()}
    return json.dumps({"scores": scores, "best-to-worst": sorted(scores, key=lambda i: -scores[i])})


class SlowBackend(ScriptedBackend):
    """The scripted judge with a batching engine's latency."""

    def __init__(self, call_s: float, per_request_s: float) -> None:
        super().__init__(reply)
        self.call_s, self.per_request_s = call_s, per_request_s

    def generate(self, requests: Any) -> list[Generation]:
        time.sleep(self.call_s + self.per_request_s * len(requests))
        return super().generate(requests)


def _serve(port: int, call_s: float, per_request_s: float) -> None:
    """The server process: uvicorn on 127.0.0.1:port (its own process, so the callers'
    client code does not share its interpreter)."""
    import uvicorn

    judge = Judge(SlowBackend(call_s, per_request_s), principle="correct-then-concise")
    app = create_app(scorer_for(judge), ServeSettings(
        principle="correct-then-concise", max_items=256, group_window_ms=5000,
        request_timeout_s=170))
    uvicorn.Server(server_config(app, host="127.0.0.1", port=port)).run()


class Server:
    """The server in a child process on a free loopback port."""

    def __init__(self, call_s: float, per_request_s: float) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(self.port, call_s, per_request_s), daemon=True)

    def __enter__(self) -> str:
        self.process.start()
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health").status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(timeout=30)


async def _load(base: str, callers: int, group: int, rounds: int, grouped: bool) -> list[float]:
    limits = httpx.Limits(max_connections=callers, max_keepalive_connections=callers)
    async with httpx.AsyncClient(base_url=base, timeout=170, limits=limits) as http:
        async def caller(c: int) -> list[float]:
            out = []
            for r in range(rounds):
                prompt_id = f"{r}-{c // group}"
                body: dict[str, Any] = {"prompt": f"prompt {prompt_id}?",
                                        "response": f"answer {c}, quality {c % 5 + 1}"}
                body.update({"group": prompt_id, "group_size": group} if grouped
                            else {"group_size": 1})
                got = await http.post("/group_score", json=body)
                got.raise_for_status()
                assert not got.json()["judge_failed"]
                out.append(got.json()["score"])
            return out

        results = await asyncio.gather(*(caller(c) for c in range(callers)))
    return [s for r in results for s in r]


def run(args: argparse.Namespace, grouped: bool) -> tuple[float, dict[str, Any]]:
    """(rewards/s, the server's /health counters) for one mode."""
    with Server(args.call_ms / 1000, args.per_request_ms / 1000) as base:
        started = time.perf_counter()
        scores = asyncio.run(_load(base, args.callers, args.group, args.rounds, grouped))
        elapsed = time.perf_counter() - started
        health = httpx.get(base + "/health").json()
    assert len(scores) == args.callers * args.rounds
    return len(scores) / elapsed, health


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--callers", type=int, default=64)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--call-ms", type=float, default=200.0)
    ap.add_argument("--per-request-ms", type=float, default=20.0)
    args = ap.parse_args()
    if args.callers % args.group:
        ap.error("--callers must be a multiple of --group")
    print(f"{args.callers} concurrent callers, groups of {args.group}, {args.rounds} rounds; "
          f"judge latency {args.call_ms:g} ms per call + {args.per_request_ms:g} ms per request")
    rows = {}
    for name, grouped in (("per-sample", False), ("grouped", True)):
        rate, health = run(args, grouped)
        rows[name] = rate
        print(f"{name:>10}: {rate:8.1f} rewards/s  ({health['items']} judge requests in "
              f"{health['batches']} backend calls)")
    print(f"grouped / per-sample: {rows['grouped'] / rows['per-sample']:.2f}x")


if __name__ == "__main__":
    main()

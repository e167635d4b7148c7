"""`judge serve` under concurrent load, against in-process batch scoring of the same items.

    .venv/bin/python benchmarks/bench_server.py [--head heads/default] [--clients 64]
                                               [--requests 1024] [--bad-every 50]

Starts ``judge serve`` as a user would (a subprocess on 127.0.0.1, a free port, a token),
waits for ``/health``, then ``--clients`` concurrent clients send ``--requests`` POSTs in total,
alternating ``/score`` (one prompt, two responses) and ``/get_reward`` (OpenRLHF body, one
sample); every ``--bad-every``-th request is malformed on purpose. Prints status counts,
requests/s and responses/s, the server's batching counters, and the same items scored in this
process with one ``RewardHead.score_batch`` call (the ratio server / in-process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRINCIPLES = ("correct-then-concise", "correct-then-thorough")
WORDS = ["the", "result", "follows", "from", "the", "definition", "so", "we", "check", "each", "case", "and", "then", "combine", "them", "into", "a", "short", "proof", "with", "an", "example"]


def make_requests(n: int, bad_every: int, seed: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(path, body) pairs; malformed ones every ``bad_every``."""
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(n):
        prompt = f"Question {i}: " + " ".join(rng.sample(WORDS, 6)) + "?"
        a = " ".join(rng.choices(WORDS, k=rng.randint(5, 15)))
        b = " ".join(rng.choices(WORDS, k=rng.randint(40, 90)))
        if bad_every and i % bad_every == bad_every - 1:
            out.append(("/score", {"prompt": prompt, "responses": a}))  # not a list
        elif i % 2 == 0:
            out.append(("/score", {"principle": PRINCIPLES[i % 4 // 2], "prompt": prompt,
                                   "responses": [a, b]}))
        else:
            templ = f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
            out.append(("/get_reward", {"query": [templ + b + "<|im_end|>"], "prompts": [templ],
                                        "labels": [{"principle": PRINCIPLES[1]}]}))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fire(base: str, token: str, requests: list[tuple[str, dict[str, Any]]],
               clients: int) -> tuple[Counter[int], float]:
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        async def client() -> None:
            while not queue.empty():
                path, body = queue.get_nowait()
                statuses[(await http.post(path, json=body)).status_code] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return statuses, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", default=str(ROOT / "heads" / "default"))
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=1024)
    parser.add_argument("--bad-every", type=int, default=50)
    args = parser.parse_args()
    requests = make_requests(args.requests, args.bad_every)
    port, token = free_port(), "bench-token"
    cmd = [sys.executable, "-m", "judge", "serve", "--head", args.head, "--port", str(port),
           "--principle", "correct-then-concise"]
    env = {**os.environ, "JUDGE_SERVE_TOKEN": token, "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if server.poll() is not None:
                print(server.stderr.read() if server.stderr else "", file=sys.stderr)
                raise SystemExit("judge serve exited early")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        startup = time.perf_counter() - t0
        # warm the embedder (the first request loads it)
        httpx.post(base + "/score", json={"prompt": "q", "responses": ["a"]},
                   headers={"Authorization": f"Bearer {token}"}, timeout=120)
        statuses, wall = asyncio.run(fire(base, token, requests, args.clients))
        health = httpx.get(base + "/health").json()
    finally:
        server.terminate()
        server.wait(timeout=30)

    from judge.distill.head import RewardHead, load_head
    from judge.principles import resolve_principle
    from judge.serve.openrlhf import split_query

    head = load_head(args.head)
    items = []
    for path, body in requests:
        if path == "/score" and isinstance(body["responses"], list):
            items.append((resolve_principle(body["principle"]).text, body["prompt"],
                          body["responses"]))
        elif path == "/get_reward":
            s = split_query(body["query"][0], body["prompts"][0])
            items.append((resolve_principle(PRINCIPLES[1]).text, s.prompt, [s.response]))
    head.embedder.embed(["warm-up"])
    cold = RewardHead(head.config, head.net, head.embedder, runtime=head.runtime)
    t1 = time.perf_counter()
    cold.score_batch(items)
    in_process = time.perf_counter() - t1
    good = sum(v for k, v in statuses.items() if k == 200)
    n_responses = sum(len(i[2]) for i in items)
    print(f"server start (to /health): {startup:.1f} s")
    print(f"{args.requests} requests from {args.clients} clients in {wall:.2f} s: "
          f"{dict(sorted(statuses.items()))}")
    print(f"server     : {good / wall:8.1f} requests/s, {n_responses / wall:8.1f} responses/s")
    print(f"in-process : {len(items) / in_process:8.1f} items/s,    "
          f"{n_responses / in_process:8.1f} responses/s ({in_process:.2f} s, one score_batch)")
    print(f"ratio server/in-process (responses/s): {in_process / wall:.3f}")
    print(f"server batching: {health['batches']} batches for {health['requests']} requests "
          f"(mean {health['mean_batch_items']} items, largest {health['largest_batch']})")
    expected_bad = args.requests // args.bad_every if args.bad_every else 0
    ok = statuses.get(200, 0) == args.requests - expected_bad and \
        statuses.get(422, 0) == expected_bad
    print("all good requests answered 200 and all malformed ones 422" if ok else
          "UNEXPECTED status counts")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

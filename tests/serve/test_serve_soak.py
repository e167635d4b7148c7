"""Soak: `judge serve` on real uvicorn under 64 concurrent keep-alive clients, one request in 25
poisoned (lone surrogates, oversized, malformed, duplicate keys, too many items). Every valid
request must get 200 with exactly the rewards in-process scoring gives; every poisoned one its
4xx; no 5xx and no dropped connection (issue 12, "What it must show")."""

from __future__ import annotations

import json
import random
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.items import Item
from judge.principles import resolve_principle
from judge.serve.app import ServeSettings, create_app
from judge.serve.scorers import Scorer, scorer_for
from judge.types import GenerationRequest

PRINCIPLE = "correct-then-concise"
CLIENTS, REQUESTS, POISON_EVERY = 64, 400, 25


def honest_reply(req: GenerationRequest) -> str:
    """Scores each shown response by the digit after 'quality' in it; encodes the text first,
    as a tokenizer would (a lone surrogate reaching it would raise)."""
    content = req.messages[-1].content
    content.encode("utf-8")
    shown = json.loads(content)
    if "response" in shown:
        return json.dumps({"score": _quality(shown["response"])})
    scores = {i: _quality(t) for i, t in shown["responses"].items()}
    return json.dumps({"scores": scores, "best-to-worst": sorted(scores, key=lambda i: -scores[i])})


def _quality(text: str) -> int:
    found = re.search(r"quality (\d)", text)
    return int(found.group(1)) if found else 3


def _valid(rng: random.Random, n: int) -> tuple[str, dict[str, Any]]:
    if n % 5 == 4:
        qs = [f"Q{n}?<|im_end|>" for _ in range(rng.randint(1, 3))]
        return "/get_reward", {"query": [q + f"A {k}, quality {rng.randint(1, 5)}" for k, q in
                                         enumerate(qs)], "prompts": qs}
    responses = [f"answer {k} to {n}, quality {rng.randint(1, 5)} ✓" for k in
                 range(rng.randint(1, 6))]
    return "/score", {"prompt": f"question {n} — ünïcödé?", "responses": responses}


_POISON: list[tuple[str, str | dict[str, Any], int]] = [
    ("/score", {"prompt": "q", "responses": ["fine", "bad \ud800 here"]}, 422),
    ("/score", {"prompt": "\udfff", "responses": ["a"]}, 422),
    ("/get_reward", {"query": ["x"], "labels": [{"principle": "Be \ud83d brief."}]}, 422),
    ("/score", {"prompt": "q", "responses": ["x" * 70_000]}, 413),
    ("/score", '{"prompt": "q", "responses": ["a", ', 400),
    ("/score", '{"prompt": "q", "prompt": "r", "responses": ["a"]}', 422),
    ("/score", {"prompt": "q", "responses": ["r"] * 40}, 422),
    ("/score", {"prompt": "q", "responses": [{"id": "a", "text": "1"}, {"id": "a", "text": "2"}]},
     422),
    ("/score", b'{"prompt": "caf\xe9", "responses": ["a"]}', 400),
]


def _expected(scorer: Scorer, path: str, body: dict[str, Any]) -> list[float | None]:
    """What in-process scoring gives for a valid request."""
    p = resolve_principle(PRINCIPLE)
    if path == "/score":
        item = Item(prompt=body["prompt"], responses=body["responses"], principle=p)
        return scorer.score_items([item])[0].scores
    out = []
    for q, prompt in zip(body["query"], body["prompts"], strict=True):
        item = Item(prompt=prompt.removesuffix("<|im_end|>"), responses=[q[len(prompt):]],
                    principle=p)
        out.extend(scorer.score_items([item])[0].scores)
    return out


def _run(url: str, scorer: Scorer, rel: float = 0.0) -> None:
    rng = random.Random(12)
    plan: list[tuple[str, Any, int | None]] = []
    for n in range(REQUESTS):
        if n % POISON_EVERY == POISON_EVERY - 1:
            plan.append(_POISON[(n // POISON_EVERY) % len(_POISON)])
        else:
            path, body = _valid(rng, n)
            plan.append((path, body, None))
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    with httpx.Client(base_url=url, limits=limits, timeout=60) as client:
        def send(entry: tuple[str, Any, int | None]) -> httpx.Response:
            path, body, _ = entry
            if isinstance(body, dict):
                body = json.dumps(body)  # ensure_ascii: surrogates travel as \\udxxx escapes
            return client.post(path, content=body, headers={"content-type": "application/json"})

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(send, plan))
    assert not [r.status_code for r in answers if r.status_code >= 500]
    for (path, body, status), r in zip(plan, answers, strict=True):
        if status is not None:
            assert r.status_code == status, (path, body if len(str(body)) < 200 else "huge",
                                             r.text[:300])
            assert r.json()["error"]
            continue
        assert r.status_code == 200, r.text
        got = r.json()["scores"] if path == "/score" else r.json()["rewards"]
        want = _expected(scorer, path, body)
        assert (got == want) if not rel else (got == pytest.approx(want, rel=rel)), (path, body)


def test_soak_with_a_generative_judge(live_server: Any) -> None:
    judge = Judge(ScriptedBackend(honest_reply), principle=PRINCIPLE, seed=5)
    settings = ServeSettings(principle=PRINCIPLE, max_items=32, max_body_bytes=64 * 1024,
                             batch_window_ms=2.0)
    with live_server(create_app(scorer_for(judge), settings)) as url:
        reference = scorer_for(Judge(ScriptedBackend(honest_reply), principle=PRINCIPLE, seed=9))
        _run(url, reference)


@pytest.mark.slow
def test_soak_with_a_reward_head(live_server: Any, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from helpers.serve_helpers import tiny_head

    head = tiny_head(tmp_path / "head")
    settings = ServeSettings(principle=PRINCIPLE, max_items=32, max_body_bytes=64 * 1024,
                             chunk_responses=4)
    served = scorer_for(Judge(f"head:{head}"))
    with live_server(create_app(served, settings)) as url:
        # batch composition changes float sums in the encoder: equal to ~1e-7, not bit for bit
        _run(url, scorer_for(Judge(f"head:{head}")), rel=1e-4)

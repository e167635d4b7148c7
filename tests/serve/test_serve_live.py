"""A real uvicorn server on loopback: concurrent clients are micro-batched; real backends."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.serve_helpers import LengthScorer, tiny_head

from judge.serve.app import ServeSettings, create_app


async def _fire(base: str, clients: int, per_client: int, make_body: Any,
                path: str = "/score") -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        async def one(c: int) -> list[httpx.Response]:
            return [await http.post(path, json=make_body(c, n)) for n in range(per_client)]

        groups = await asyncio.gather(*(one(c) for c in range(clients)))
    return [r for g in groups for r in g]


def test_concurrent_clients_are_micro_batched(live_server: Any) -> None:
    scorer = LengthScorer(delay_s=0.01)
    app = create_app(scorer, ServeSettings(principle="correct-then-concise",
                                           batch_window_ms=5))

    def body(c: int, n: int) -> dict[str, Any]:
        if n == 3:  # a malformed request from every client
            return {"prompt": "q", "responses": "not a list"}
        return {"prompt": f"q{c}", "responses": ["a" * (c + 1), "b" * (n + 1)]}

    with live_server(app) as base:
        responses = asyncio.run(_fire(base, clients=32, per_client=8, make_body=body))
        health = httpx.get(base + "/health").json()
    good = [r for r in responses if r.status_code == 200]
    bad = [r for r in responses if r.status_code != 200]
    assert len(good) == 32 * 7 and len(bad) == 32
    assert all(r.status_code == 422 and "responses" in r.json()["error"] for r in bad)
    first = next(r for r in good)
    assert first.json()["scores"][0] < 0  # concise principle: shorter is higher
    # 224 scored requests arrived concurrently: they must have shared scoring calls.
    assert health["requests"] == 224 and health["batches"] < 224
    assert sum(scorer.batches) == 224 * 1 and max(scorer.batches) > 1


def test_head_backend_over_http(live_server: Any, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from judge.core import Judge
    from judge.serve.scorers import scorer_for

    head = tiny_head(tmp_path / "head")
    judge = Judge(f"head:{head}")
    app = create_app(scorer_for(judge), ServeSettings(principle="Be brief.", token="t"))
    auth = {"Authorization": "Bearer t"}
    with live_server(app) as base:
        short, long = "answer 99.", " ".join(["more detail here"] * 20)
        r = httpx.post(base + "/score", headers=auth,
                       json={"prompt": "question 99?", "responses": [short, long]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ranking"] == [0, 1] and len(body["uncertainty"]) == 2
        r = httpx.post(base + "/openrlhf", headers=auth, json={
            "query": ["question 99?" + short, "question 99?" + long],
            "prompts": ["question 99?"] * 2, "labels": [None, None]})
        out = r.json()
        assert out["rewards"][0] > out["rewards"][1]
        assert len(out["extra_logs"]["judge_uncertainty"]) == 2
        assert httpx.post(base + "/score", json={"prompt": "q", "responses": ["a"]}
                          ).status_code == 401


def test_generative_judge_over_http(live_server: Any) -> None:
    from judge.backends.scripted import ScriptedBackend
    from judge.core import Judge
    from judge.serve.scorers import scorer_for
    from judge.types import GenerationRequest

    def reply(req: GenerationRequest) -> str:
        shown = json.loads(req.messages[-1].content)
        if "response" in shown:  # pointwise
            return "no verdict here" if "???" in shown["response"] else '{"score": 4}'
        ids = list(shown["responses"])
        return json.dumps({"scores": {i: 5 - n for n, i in enumerate(ids)},
                           "best-to-worst": ids})

    judge = Judge(ScriptedBackend(reply), principle="no-filler")
    app = create_app(scorer_for(judge), ServeSettings(principle="no-filler",
                                                      unparsed_reward=-1.0))
    with live_server(app) as base:
        # two prompts: each sample is judged alone (pointwise)
        r = httpx.post(base + "/get_reward", json={"query": ["Q: hi A: hello", "Q: yo A: ???"],
                                                    "prompts": ["Q: hi A: ", "Q: yo A: "]})
        out = r.json()
        assert out["rewards"] == [4.0, -1.0] and out["scores"][0] == pytest.approx(0.75)
        assert out["extra_logs"] == {"judge_failed": [0.0, 1.0], "judge_exact_split": [1.0, 1.0]}
        r = httpx.post(base + "/score", json={"prompt": "q", "responses": ["a", "b", "c"]})
        body = r.json()
        assert body["scale"] == [1.0, 5.0] and sorted(body["scores"]) == [3.0, 4.0, 5.0]

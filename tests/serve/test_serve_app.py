"""The app's contract: scores, OpenRLHF bodies, and a 4xx that explains every bad request."""

from __future__ import annotations

import json
from typing import Any

import pytest


def test_health_needs_no_token(client: Any) -> None:
    r = client.get("/health", headers={"Authorization": ""})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["backend"] == "length"
    assert body["principle"] == "correct-then-concise"


def test_score(client: Any) -> None:
    r = client.post("/score", json={"prompt": "2+2?", "responses": ["4", "It is four.", "4!"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scores"] == [-1.0, -11.0, -2.0] and body["ranking"] == [0, 2, 1]
    assert body["principle"]["id"] == "correct-then-concise"
    free = client.post("/score", json={"principle": "Prefer long answers.", "prompt": "q",
                                       "responses": ["a", "bb"]}).json()
    assert free["scores"] == [1.0, 2.0] and free["principle"]["id"].startswith("text:")


def test_openrlhf_body(client: Any) -> None:
    prompt = "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    body = {"query": [prompt + "4<|im_end|>", prompt + "four, because<|im_end|>"],
            "prompts": [prompt, prompt], "labels": ["", {"principle": "Prefer long answers."}]}
    for path in ("/openrlhf", "/get_reward"):
        r = client.post(path, json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["rewards"] == [-1.0, 13.0]  # default principle, then the label's principle
        assert len(out["scores"]) == 2 and all(0 <= s <= 1 for s in out["scores"])
        assert out["extra_logs"] == {"judge_failed": [0.0, 0.0], "judge_exact_split": [1.0, 1.0]}


def test_openrlhf_principle_errors_name_the_sample(scorer: Any) -> None:
    from fastapi.testclient import TestClient

    from judge.serve.app import ServeSettings, create_app

    query = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\na"
    with TestClient(create_app(scorer, ServeSettings())) as c:
        r = c.post("/get_reward", json={"query": [query, query],
                                        "labels": ['{"principle": "Be brief."}', "Be brief."]})
        assert r.status_code == 422 and "sample 1: no principle" in r.json()["error"]
        r = c.post("/get_reward", json={"query": [query], "labels": [{"principle": "no-such-id"}]})
        assert r.status_code == 422
        assert "sample 0" in r.json()["error"] and "unknown principle id" in r.json()["error"]
        r = c.post("/get_reward", json={"query": [query], "labels": [{"principle": 3}]})
        assert r.status_code == 422 and "labels[0].principle" in r.json()["error"]
        r = c.post("/get_reward", json={"query": [query, query],
                                        "labels": ['{"principle": "Be brief."}', None],
                                        "principle": "Prefer long answers."})
        assert r.status_code == 200 and r.json()["rewards"] == [1.0, 1.0]  # request wins


def test_startup_warms_a_head_up_before_the_first_request(tmp_path: Any) -> None:
    pytest.importorskip("torch")
    from fastapi.testclient import TestClient
    from helpers.serve_helpers import tiny_head

    from judge.core import Judge
    from judge.serve.app import ServeSettings, create_app
    from judge.serve.scorers import BackendScorer, scorer_for

    judge = Judge(f"head:{tiny_head(tmp_path / 'head')}")
    scorer = scorer_for(judge)
    assert isinstance(scorer, BackendScorer)
    head = judge.backend.head  # type: ignore[union-attr]
    app = create_app(scorer, ServeSettings(principle="Be brief."))
    assert head._embedder is None  # a head loads its encoder on first use
    with TestClient(app) as c:
        assert head._embedder is not None  # loaded at startup, no request made yet
        assert c.get("/health").json()["requests"] == 0


@pytest.mark.parametrize(("kwargs", "status", "needle"), [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
     "not valid JSON"),
    ({"json": {"responses": ["a"]}}, 422, "prompt: Field required"),
    ({"json": {"prompt": "q", "responses": []}}, 422, "responses"),
    ({"json": {"prompt": "q", "responses": "one"}}, 422, "responses"),
    ({"json": {"prompt": "q", "responses": [1, 2]}}, 422, "responses.0"),
    ({"json": {"prompt": "q", "responses": ["a"], "extra": 1}}, 422, "extra"),
    ({"json": {"prompt": "q", "responses": ["a"] * 9}}, 422, "limit is 8"),
    ({"json": {"prompt": "q", "responses": ["a"], "principle": "no-such-id"}}, 422,
     "unknown principle id"),
    ({"json": {"prompt": "q", "responses": ["a"], "principle": ""}}, 422, "principle"),
    ({"json": ["not", "an", "object"]}, 422, "body"),
    ({"json": {"prompt": "x" * 5000, "responses": ["a"]}}, 413, "limit of 4096"),
])
def test_bad_score_requests_get_explained_4xx(client: Any, kwargs: dict[str, Any], status: int,
                                              needle: str) -> None:
    r = client.post("/score", **kwargs)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]


@pytest.mark.parametrize(("body", "needle"), [
    ({}, "query"),
    ({"query": ["a", "b"], "prompts": ["a"]}, "line up"),
    ({"query": ["a"], "labels": [1, 2]}, "line up"),
    ({"query": [1]}, "query.0"),
    ({"query": ["x"] * 9}, "limit is 8"),
])
def test_bad_openrlhf_requests(client: Any, body: dict[str, Any], needle: str) -> None:
    r = client.post("/get_reward", json=body)
    assert r.status_code == 422, r.text
    assert needle in r.json()["error"]


def test_openrlhf_empty_lists_get_empty_answers(client: Any) -> None:
    """With several reward endpoints OpenRLHF sends some of them empty lists."""
    r = client.post("/get_reward", json={"query": [], "prompts": [], "labels": []})
    assert r.status_code == 200, r.text
    assert r.json() == {"rewards": [], "scores": [],
                        "extra_logs": {"judge_failed": [], "judge_exact_split": []}}


def test_auth(client: Any) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer nope"},
                    {"Authorization": "s3cret"}):
        r = client.post("/score", json={"prompt": "q", "responses": ["a"]}, headers=headers)
        assert r.status_code == 401 and "bearer token" in r.json()["error"]
        assert r.headers["www-authenticate"] == "Bearer"


def test_streamed_body_over_the_limit_is_413(client: Any) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 1000

    r = client.post("/score", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_no_principle_anywhere_is_422(scorer: Any) -> None:
    from fastapi.testclient import TestClient

    from judge.serve.app import ServeSettings, create_app

    with TestClient(create_app(scorer, ServeSettings())) as c:
        r = c.post("/score", json={"prompt": "q", "responses": ["a"]})
        assert r.status_code == 422 and "no principle" in r.json()["error"]
        r = c.post("/get_reward", json={"query": ["q a"], "prompts": ["q "]})
        assert r.status_code == 422 and "labels[i]" in r.json()["error"]
        r = c.post("/get_reward", data=json.dumps({"query": ["q a"], "principle": "Be brief."}))
        assert r.status_code == 200


def test_backend_failure_is_503_not_500(scorer: Any) -> None:
    from fastapi.testclient import TestClient

    from judge.errors import BackendUnavailable
    from judge.serve.app import ServeSettings, create_app

    def broken(items: Any) -> Any:
        raise BackendUnavailable("the judge server at 127.0.0.1:1 refused the connection")

    scorer.score_items = broken
    with TestClient(create_app(scorer, ServeSettings(principle="no-filler"))) as c:
        r = c.post("/score", json={"prompt": "q", "responses": ["a"]})
        assert r.status_code == 503 and "refused" in r.json()["error"]

"""Group rewards on a real uvicorn server: per-sample calls judged listwise, one call a group."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from helpers.serve_helpers import PRINCIPLE, Judged, quality

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.serve.app import ServeSettings, create_app
from judge.serve.scorers import scorer_for


def _app(judged: Judged, **settings: Any) -> Any:
    judge = Judge(ScriptedBackend(judged.reply), principle=PRINCIPLE)
    return create_app(scorer_for(judge), ServeSettings(principle=PRINCIPLE, **settings))


async def _post_all(base: str, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return list(await asyncio.gather(*(http.post(path, json=b) for b in bodies)))


def test_a_group_of_8_is_judged_in_one_listwise_call(live_server: Any) -> None:
    judged = Judged()
    bodies = [{"prompt": "What is 2+2?", "response": f"answer {n}, quality {n % 5 + 1}",
               "group": "uid-1", "group_size": 8} for n in range(8)]
    with live_server(_app(judged, group_window_ms=60_000)) as base:
        got = asyncio.run(_post_all(base, "/group_score", bodies))
        health = httpx.get(base + "/health").json()
    assert [r.status_code for r in got] == [200] * 8
    assert len(judged.listwise) == 1 and not judged.pointwise
    assert sorted(judged.listwise[0]) == sorted(b["response"] for b in bodies)
    for body, r in zip(bodies, got, strict=True):
        out = r.json()
        assert out["score"] == quality(body["response"])
        assert (out["judge_failed"], out["fallback"], out["group_size"]) == (False, False, 8)
    assert health["groups"]["groups_judged"] == 1 and health["status"] == "ok"


def test_samples_group_by_prompt_without_an_id(live_server: Any) -> None:
    judged = Judged()
    bodies = [{"prompt": f"question {n % 2}", "response": f"r{n}, quality {n % 4 + 1}"}
              for n in range(8)]
    with live_server(_app(judged, group_size=4, group_window_ms=60_000)) as base:
        got = asyncio.run(_post_all(base, "/group_score", bodies))
    assert sorted(len(g) for g in judged.listwise) == [4, 4]
    assert [r.json()["score"] for r in got] == [quality(b["response"]) for b in bodies]


def test_an_incomplete_group_is_judged_when_the_window_passes(live_server: Any) -> None:
    judged = Judged()
    bodies = [{"prompt": "q", "response": f"r{n}, quality {n + 2}", "group": "g",
               "group_size": 8} for n in range(3)]
    with live_server(_app(judged, group_window_ms=200)) as base:
        got = asyncio.run(_post_all(base, "/group_score", bodies))
        health = httpx.get(base + "/health").json()
    assert [r.json()["score"] for r in got] == [2.0, 3.0, 4.0]
    assert [r.json()["group_size"] for r in got] == [3, 3, 3]
    assert len(judged.listwise) == 1
    assert health["groups"] == {"groups_judged": 1, "incomplete_groups": 1, "groups_open": 0}


def test_under_20_percent_judge_failures_every_sample_is_scored_or_flagged(
        live_server: Any) -> None:
    judged = Judged(fail_every=5)
    bodies = [{"prompt": f"prompt {g}", "response": f"{g}/{n}, quality {(g + n) % 5 + 1}",
               "group": f"g{g}", "group_size": 8} for g in range(10) for n in range(8)]
    with live_server(_app(judged, group_window_ms=60_000, unparsed_reward=-7.0)) as base:
        got = asyncio.run(_post_all(base, "/group_score", bodies))
        labels = [json.dumps({"uid": "rl-1", "group_size": 4}) for _ in range(4)]
        openrlhf = httpx.post(base + "/get_reward", timeout=60, json={
            "query": [f"Q A{n}, quality 3" for n in range(4)], "prompts": ["Q "] * 4,
            "labels": labels})
        health = httpx.get(base + "/health").json()
    assert [r.status_code for r in got] == [200] * 80 and openrlhf.status_code == 200
    outs = [r.json() for r in got]
    for body, out in zip(bodies, outs, strict=True):
        if out["judge_failed"]:
            assert out["score"] == -7.0 and out["fallback"]
        else:
            assert out["score"] == quality(body["response"])
    assert any(o["fallback"] for o in outs)  # failures happened and were handled
    assert health["judge"]["failures_in_window"] > 0 and health["judge"]["last_failure"]
    assert len(openrlhf.json()["rewards"]) == 4


def test_openrlhf_groups_a_request_by_prompt_and_labels_across_requests(
        live_server: Any) -> None:
    judged = Judged()
    one = {"query": [f"Q1 a{n}, quality {n + 1}" for n in range(4)] + ["Q2 b, quality 5"],
           "prompts": ["Q1 "] * 4 + ["Q2 "]}
    label = json.dumps({"uid": "u", "group_size": 6, "reference": "4"})
    split = [{"query": [f"Q3 c{k}{n}, quality {n + 2}" for n in range(2)],
              "prompts": ["Q3 "] * 2, "labels": [label] * 2} for k in range(3)]
    with live_server(_app(judged, group_window_ms=60_000)) as base:
        first = httpx.post(base + "/get_reward", json=one, timeout=60).json()
        assert [len(g) for g in judged.listwise] == [4] and len(judged.pointwise) == 1
        rest = asyncio.run(_post_all(base, "/get_reward", split))
        empty = httpx.post(base + "/get_reward", json={"query": [], "prompts": [], "labels": []})
    assert first["rewards"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [len(g) for g in judged.listwise] == [4, 6]  # three requests, one group
    assert [r.json()["rewards"] for r in rest] == [[2.0, 3.0]] * 3
    assert empty.status_code == 200 and empty.json()["rewards"] == []


def test_health_reports_the_judge_failing(live_server: Any) -> None:
    judged = Judged(down=True)
    with live_server(_app(judged, group_window_ms=60_000, unparsed_reward=0.5)) as base:
        assert httpx.get(base + "/health").json()["status"] == "ok"
        out = httpx.post(base + "/group_score", json={"prompt": "q", "response": "a",
                                                      "group_size": 1}).json()
        reward = httpx.post(base + "/get_reward", json={"query": ["q a"], "prompts": ["q "]})
        health = httpx.get(base + "/health").json()
        judged.down = False
        httpx.post(base + "/group_score", json={"prompt": "q", "response": "a, quality 4",
                                                "group_size": 1})
        after = httpx.get(base + "/health").json()
    assert (out["score"], out["judge_failed"], out["status"]) == (0.5, True, "error")
    assert reward.json()["rewards"] == [0.5]
    assert reward.json()["extra_logs"]["judge_failed"] == [1.0]
    assert health["status"] == "failing" and health["judge"]["consecutive_failures"] >= 2
    assert "refused the connection" in health["judge"]["last_failure"]["error"]
    assert after["status"] == "degraded" and after["judge"]["consecutive_failures"] == 0


@pytest.mark.parametrize(("body", "needle"), [
    ({"prompt": "q", "response": "a", "group_size": 0}, "group_size"),
    ({"prompt": "q", "response": "a", "group_size": 999}, "over the limit"),
    ({"prompt": "q", "responses": ["a"]}, "responses"),
])
def test_bad_group_requests_are_422(live_server: Any, body: dict[str, Any],
                                    needle: str) -> None:
    with live_server(_app(Judged())) as base:
        r = httpx.post(base + "/group_score", json=body)
    assert r.status_code == 422 and needle in r.json()["error"]


def test_a_failed_listwise_call_falls_back_to_pointwise(live_server: Any) -> None:
    judged = Judged()
    listwise_reply = judged.reply

    def no_listwise(req: Any) -> str:
        out = listwise_reply(req)
        return "I cannot rank these." if "responses" in json.loads(
            req.messages[-1].content) else out

    judge = Judge(ScriptedBackend(no_listwise), principle=PRINCIPLE)
    app = create_app(scorer_for(judge), ServeSettings(principle=PRINCIPLE, group_size=4,
                                                      group_window_ms=60_000))
    bodies = [{"prompt": "q", "response": f"r{n}, quality {n + 1}"} for n in range(4)]
    with live_server(app) as base:
        got = [r.json() for r in asyncio.run(_post_all(base, "/group_score", bodies))]
        bad = httpx.post(base + "/get_reward", json={
            "query": ["q a"], "labels": [{"uid": "x", "group_size": 0}]})
    assert len(judged.listwise) == 1 and len(judged.pointwise) == 4
    assert [(o["score"], o["judge_failed"], o["fallback"]) for o in got] == [
        (float(n + 1), False, True) for n in range(4)]
    assert bad.status_code == 422 and "labels[0].group_size" in bad.json()["error"]


class _Lengths:
    """A scorer that records every item it scores (score: response length)."""

    name, model, scale = "lengths", None, None

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def score_items(self, items: list[Any]) -> list[Any]:
        from judge.serve.scorers import ItemResult

        self.seen += [list(it.responses.values()) for it in items]
        return [ItemResult([float(len(t)) for t in it.responses.values()]) for it in items]

    def close(self) -> None:
        pass


def test_a_refused_openrlhf_request_leaves_nothing_in_shared_groups() -> None:
    from fastapi.testclient import TestClient

    scorer = _Lengths()
    app = create_app(scorer, ServeSettings(principle=PRINCIPLE, group_window_ms=300))
    with TestClient(app) as client:
        bad = client.post("/get_reward", json={
            "query": ["Q from-the-refused-request", "Q B"], "prompts": ["Q", "Q"],
            "labels": [{"uid": "g", "group_size": 2}, {"uid": "h", "group_size": 0}]})
        assert bad.status_code == 422 and "labels[1].group_size" in bad.json()["error"]
        mine = client.post("/group_score", json={"prompt": "Q", "response": "mine", "group": "g",
                                                 "group_size": 2})
    assert mine.status_code == 200 and mine.json()["group_size"] == 1
    assert all("from-the-refused-request" not in t for group in scorer.seen for t in group)

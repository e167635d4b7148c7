"""One bad request never takes others down (issue 12, items 9, 10 and 14): bad text is a 4xx for
that request only, failures stay with their request, a big request cannot starve a small one,
deadlines and disconnects stop work, stalled connections are closed, and the errors are in the
OpenAPI document."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from helpers.serve_helpers import EncodingScorer

from judge.serve.app import ServeSettings, create_app

PRINCIPLE = "Prefer long answers."


def _post(url: str, body: Any, **kw: Any) -> httpx.Response:
    content = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return httpx.post(url, content=content, headers={"content-type": "application/json"},
                      timeout=kw.pop("timeout", 30), **kw)


def test_a_surrogate_is_a_422_for_its_request_only(live_server: Any) -> None:
    scorer = EncodingScorer()
    app = create_app(scorer, ServeSettings(principle=PRINCIPLE, batch_window_ms=100))
    with live_server(app) as url, ThreadPoolExecutor(12) as pool:
        bodies: list[Any] = [{"prompt": f"q{n}", "responses": ["a" * n, "bb"]} for n in range(10)]
        bodies[4] = {"prompt": "q", "responses": ["fine", "bad \ud800 text"]}
        bodies[7] = {"query": ["x"], "labels": [{"principle": "\udfff"}]}
        paths = ["/get_reward" if n == 7 else "/score" for n in range(10)]
        got = list(pool.map(lambda a: _post(url + a[0], a[1]), zip(paths, bodies)))
    assert got[4].status_code == 422
    assert got[4].json()["error"].startswith("responses[1]: character 4 is a lone surrogate")
    assert got[7].status_code == 422 and "labels[0].principle" in got[7].json()["error"]
    for n, r in enumerate(got):
        if n not in (4, 7):
            assert r.status_code == 200, r.text
            assert r.json()["scores"] == [float(n), 2.0]


def test_a_scorer_failure_is_a_503_for_its_request_only(live_server: Any) -> None:
    scorer = EncodingScorer()
    app = create_app(scorer, ServeSettings(principle=PRINCIPLE, batch_window_ms=100))
    with live_server(app) as url, ThreadPoolExecutor(8) as pool:
        bodies = [{"prompt": "q", "responses": ["boom" if n == 2 else "x" * (n + 1)]}
                  for n in range(8)]
        got = list(pool.map(lambda b: _post(url + "/score", b), bodies))
        stats = httpx.get(url + "/health").json()
    assert got[2].status_code == 503 and "crashed on 'boom'" in got[2].json()["error"]
    assert [r.json()["scores"] for n, r in enumerate(got) if n != 2] == [
        [float(n + 1)] for n in range(8) if n != 2]
    assert stats["failed_requests"] == 1


def test_duplicate_ids_and_keys_are_422_and_ids_come_back(client: Any) -> None:
    r = client.post("/score", json={"prompt": "q", "responses": [
        {"id": "a", "text": "x"}, {"id": "b", "text": "yy"}, {"id": "a", "text": "z"}]})
    assert r.status_code == 422 and "responses[2]: id 'a' was already used" in r.json()["error"]
    raw = '{"prompt": "q", "responses": ["x"], "prompt": "again"}'
    r = client.post("/score", content=raw)
    assert r.status_code == 422 and "'prompt' appears twice" in r.json()["error"]
    r = client.post("/score", json={"prompt": "q", "responses": [
        {"id": "long", "text": "xxx"}, {"id": "short", "text": "x"}]})
    assert r.status_code == 200 and r.json()["ids"] == ["long", "short"]
    assert r.json()["scores"] == [-3.0, -1.0]


@pytest.mark.parametrize("header", ["Bearer s3cret", "bearer s3cret", "BEARER  s3cret "])
def test_the_bearer_scheme_is_case_insensitive(client: Any, header: str) -> None:
    r = client.post("/score", json={"prompt": "q", "responses": ["a"]},
                    headers={"Authorization": header})
    assert r.status_code == 200


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic s3cret", "s3cret", ""])
def test_a_wrong_token_or_scheme_is_401(client: Any, header: str) -> None:
    r = client.post("/score", json={"prompt": "q", "responses": ["a"]},
                    headers={"Authorization": header})
    assert r.status_code == 401


def test_error_statuses_are_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/score", "/openrlhf", "/get_reward"):
        documented = set(paths[path]["post"]["responses"])
        assert {"400", "401", "413", "422", "503", "504"} <= documented, path


def test_a_request_past_its_deadline_is_504_and_its_work_is_dropped(live_server: Any) -> None:
    scorer = EncodingScorer(delay_s=0.05)
    app = create_app(scorer, ServeSettings(principle=PRINCIPLE, request_timeout_s=0.3,
                                           max_batch_items=4, chunk_responses=4))
    with live_server(app) as url:
        r = _post(url + "/score", {"prompt": "q", "responses": [f"r{n}" for n in range(200)]})
        assert r.status_code == 504 and "--request-timeout" in r.json()["error"]
        assert _post(url + "/score", {"prompt": "q", "responses": ["ok"]}).status_code == 200
        stats = httpx.get(url + "/health").json()
    assert stats["dropped_requests"] == 1
    assert len(scorer.seen) < 201 and scorer.seen[-1] == "ok"


def test_work_for_a_client_that_left_is_dropped(live_server: Any) -> None:
    scorer = EncodingScorer(delay_s=0.05)
    app = create_app(scorer, ServeSettings(principle=PRINCIPLE, max_batch_items=4,
                                           chunk_responses=4))
    with live_server(app) as url:
        with pytest.raises(httpx.TimeoutException):
            _post(url + "/score", {"prompt": "q", "responses": [f"r{n}" for n in range(200)]},
                  timeout=0.3)
        for _ in range(200):  # the server notices the disconnect within its poll interval
            stats = httpx.get(url + "/health").json()
            if stats["dropped_requests"]:
                break
            time.sleep(0.05)
    assert stats["dropped_requests"] == 1 and len(scorer.seen) < 200


def test_a_small_request_overtakes_a_big_one(live_server: Any) -> None:
    scorer = EncodingScorer(delay_s=0.05)  # 16 calls of 2 chunks: ~0.8 s for the big one
    app = create_app(scorer, ServeSettings(principle=PRINCIPLE, max_batch_items=16,
                                           chunk_responses=8, max_items=256))
    finished: list[str] = []

    def send(name: str, n: int) -> None:
        r = _post(url + "/score", {"prompt": "q", "responses": ["x" * (k % 7 + 1)
                                                                  for k in range(n)]})
        assert r.status_code == 200 and len(r.json()["scores"]) == n
        finished.append(name)

    with live_server(app) as url:
        big = threading.Thread(target=send, args=("big", 256))
        big.start()
        deadline = time.monotonic() + 30
        while not scorer.batches and big.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert scorer.batches, "the big request never reached the scorer"
        send("small", 1)
        big.join()
    assert finished == ["small", "big"]
    assert max(scorer.batches) <= 16 // 8 + 1  # chunks of 8 responses, two per call


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=20)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_stalled_headers_and_bodies_are_closed(live_server: Any) -> None:
    app = create_app(EncodingScorer(), ServeSettings(principle=PRINCIPLE, body_timeout_s=0.3))
    with live_server(app, header_timeout_s=0.3) as url:
        idle, partial, body = _raw(url), _raw(url), _raw(url)
        partial.sendall(b"POST /score HTTP/1.1\r\nhost: x\r\ncontent-type: appl")
        body.sendall(b"POST /score HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"pro")
        assert _read_all(idle) == b""  # closed without a word: it never said anything
        assert _read_all(partial).startswith(b"HTTP/1.1 408")
        answer = _read_all(body)
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 0.3 s" in answer
        for s in (idle, partial, body):
            s.close()
        assert _post(url + "/score", {"prompt": "q", "responses": ["a"]}).status_code == 200

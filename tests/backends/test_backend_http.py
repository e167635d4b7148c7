"""The HTTP backend against a fault-injecting loopback server."""

from __future__ import annotations

import json
import math

import pytest
from helpers.fault_server import FaultServer, completion

from judge.backends import load_backend
from judge.backends.http.client import OpenAIBackend, OpenAIOptions
from judge.backends.http.retry import RetryPolicy, retry_after_seconds
from judge.backends.http.wire import parse_completion
from judge.core import Judge
from judge.errors import ConfigError
from judge.types import ChatMessage, GenerationRequest, Sampling

FAST = {"backoff_base": 0.001, "backoff_max": 0.01}


def requests(n: int, **kw: object) -> list[GenerationRequest]:
    return [GenerationRequest(messages=(ChatMessage(role="user", content=f"item-{i}"),), **kw)
            for i in range(n)]


def backend(url: str, **options: object) -> OpenAIBackend:
    return load_backend(f"openai:{url}#fake", **{**FAST, **options})  # type: ignore[return-value]


@pytest.mark.parametrize("seed", [0, 1])
def test_twenty_percent_faults_lose_no_item(seed):
    with FaultServer(fault_rate=0.2, seed=seed, slow_s=0.6) as srv:
        b = backend(srv.url, timeout=0.3, max_retries=5, max_concurrency=6)
        out = b.generate(requests(80))
        b.close()
    assert len(out) == 80
    for i, gen in enumerate(out):
        assert (gen.error is None) != (gen.text == "")   # exactly one of: answer, error
        if gen.error is None:
            assert gen.text == f"echo:item-{i}"          # input order kept
    assert sum(g.error is None for g in out) >= 76
    assert all(srv.counts[f] > 0 for f in ("429", "500", "slow", "drop", "malformed"))
    assert len(srv.bodies) > 80                          # faults were retried


def test_every_attempt_failing_becomes_an_item_error_and_the_run_goes_on():
    with FaultServer(fault_rate=1.0, faults=["500"]) as srv:
        b = backend(srv.url, max_retries=2)
        out = b.generate(requests(3))
    assert all("gave up after 3 attempt(s)" in (g.error or "") for g in out)
    assert "HTTP 500" in (out[0].error or "")
    assert len(srv.bodies) == 9


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_are_not_retried(status):
    with FaultServer(status=status) as srv:
        b = backend(srv.url, max_retries=4)
        out = b.generate(requests(2))
    assert len(srv.bodies) == 2
    assert all(f"HTTP {status}" in (g.error or "") for g in out)
    assert "not retried" in (out[0].error or "")


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_transient_statuses_are_retried(status):
    with FaultServer(status=status) as srv:
        b = backend(srv.url, max_retries=1)
        out = b.generate(requests(1))
    assert len(srv.bodies) == 2 and out[0].error is not None


def test_retry_after_is_honoured():
    with FaultServer(fault_rate=1.0, faults=["429"], retry_after="2") as srv:
        b = backend(srv.url, max_retries=2)
        waits: list[float] = []
        b._sleep = waits.append
        out = b.generate(requests(1))
    assert waits == [2.0, 2.0] and out[0].error is not None


def test_retry_after_forms():
    assert retry_after_seconds({"Retry-After": "1.5"}) == 1.5
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"},
                               now=1445412480.0) == pytest.approx(10.0)
    assert retry_after_seconds({}) is None
    policy = RetryPolicy(base=1, cap=3, retry_after_max=5)
    assert all(policy.delay(n) <= 3 for n in range(10))
    assert policy.delay(0, retry_after=100) == 5


def test_malformed_bodies_are_reported_not_raised():
    with FaultServer(fault_rate=1.0, faults=["malformed"]) as srv:
        b = backend(srv.url, max_retries=1)
        out = b.generate(requests(4))
    assert all("malformed response body" in (g.error or "") for g in out)


def test_concurrency_is_bounded():
    with FaultServer(delay_s=0.1) as srv:
        b = backend(srv.url, max_concurrency=3)
        out = b.generate(requests(12))
    assert [g.text for g in out] == [f"echo:item-{i}" for i in range(12)]
    assert 2 <= srv.peak_in_flight <= 3


def test_connection_refused_is_an_item_error():
    with FaultServer() as srv:
        url = srv.url
    b = backend(url, max_retries=1)                      # the server is gone now
    out = b.generate(requests(2))
    assert all("ConnectError" in (g.error or "") for g in out)


@pytest.mark.parametrize(("form", "check"), [
    ("json_schema", lambda body, schema: body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "verdict", "schema": schema,
                                               "strict": True}}),
    ("json_object", lambda body, schema: body["response_format"] == {
        "type": "json_object", "schema": schema}),
    ("structured_outputs", lambda body, schema: body["structured_outputs"] == {"json": schema}
     and "response_format" not in body),
])
def test_structured_request_forms(form, check):
    schema = {"type": "object", "properties": {"score": {"type": "integer"}}}
    with FaultServer() as srv:
        b = backend(srv.url, structured=form, thinking="off", extra_body='{"top_k": 5}')
        b.generate(requests(1, json_schema=schema,
                            sampling=Sampling(temperature=0.5, max_tokens=9, seed=3,
                                              top_logprobs=2)))
    body = srv.bodies[0]
    assert check(body, schema)
    assert body["model"] == "fake" and body["max_tokens"] == 9 and body["seed"] == 3
    assert body["temperature"] == 0.5 and body["logprobs"] is True and body["top_logprobs"] == 2
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["top_k"] == 5


def test_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MY_JUDGE_KEY", "sekret")
    with FaultServer() as srv:
        b = backend(srv.url, api_key_env="MY_JUDGE_KEY")
        assert b.client.headers["authorization"] == "Bearer sekret"
        assert "sekret" not in b.name
    monkeypatch.delenv("MY_JUDGE_KEY")
    with pytest.raises(ConfigError, match="MY_JUDGE_KEY"):
        backend("http://127.0.0.1:9/v1", api_key_env="MY_JUDGE_KEY")


def test_spec_and_option_errors():
    with pytest.raises(ConfigError, match="unknown option 'retries'"):
        load_backend("openai:http://127.0.0.1:9/v1", retries=3)
    with pytest.raises(ConfigError, match="not an http"):
        load_backend("openai:./model")
    with pytest.raises(ConfigError, match="model path instead of a URL"):
        load_backend("openai:http://127.0.0.1:9/v1", launch="vllm")
    with pytest.raises(ConfigError, match="max_concurrency"):
        load_backend("openai:http://127.0.0.1:9/v1", max_concurrency=0)
    assert OpenAIOptions(extra_body='{"a": 1}').extra_body == {"a": 1}


def _verdict_server_reply(body):
    """A verdict with logprobs: the score token has alternatives 4 (p=.6) and 5 (p=.4)."""
    chunks = ['{"score": ', "4", "}"]
    entries = []
    for chunk in chunks:
        top = ([{"token": "4", "logprob": math.log(0.6)}, {"token": "5", "logprob": math.log(0.4)}]
               if chunk == "4" else [])
        entries.append({"token": chunk, "logprob": math.log(0.6) if chunk == "4" else 0.0,
                        "bytes": list(chunk.encode()), "top_logprobs": top})
    return completion("".join(chunks), logprobs=entries, reasoning="short thought")


def test_judge_over_http_with_logprob_scores_and_reasoning():
    with FaultServer(reply=_verdict_server_reply, fault_rate=0.2, seed=3) as srv:
        b = backend(srv.url, max_retries=8)
        judge = Judge(b, principle="Be correct.", structured=True,
                      sampling=Sampling(top_logprobs=2))
        out = judge.score([{"id": f"r{i}", "prompt": "2+2?", "responses": ["4"]}
                           for i in range(10)])
        judge.close()
    assert [j.item_id for j in out] == [f"r{i}" for i in range(10)]
    for j in out:
        assert j.status == "ok" and j.scores == {"0": 4}
        assert j.reasoning == "short thought"
        assert j.logprob_scores is not None and j.logprob_scores["0"] == pytest.approx(4.4)
    assert all("response_format" in body for body in srv.bodies)


def test_logprobs_that_do_not_line_up_are_dropped():
    body = completion("héllo", logprobs=[
        {"token": "h", "logprob": -0.1, "bytes": [104], "top_logprobs": []},
        {"token": "\\xc3", "logprob": -0.2, "bytes": [0xC3], "top_logprobs": []},
        {"token": "\\xa9llo", "logprob": -0.3, "bytes": [0xA9, 108, 108, 111],
         "top_logprobs": []}])
    fields = parse_completion(body)
    assert [t.token for t in fields["logprobs"]] == ["h", "", "éllo"]
    body["choices"][0]["logprobs"]["content"].append(
        {"token": "<|im_end|>", "logprob": 0.0, "bytes": list(b"<|im_end|>"), "top_logprobs": []})
    assert [t.token for t in parse_completion(body)["logprobs"]] == ["h", "", "éllo"]
    body["choices"][0]["message"]["content"] = "other"
    assert parse_completion(body)["logprobs"] is None
    assert parse_completion(json.loads(json.dumps(completion("x"))))["text"] == "x"

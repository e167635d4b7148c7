"""``Reward.openrlhf``: OpenRLHF remote-RM requests answered in process and by ``judge serve``.

The protocol's parsing is tested in tests/serve/test_serve_openrlhf.py, and its parity with
the server in tests/serve/test_serve_openrlhf_parity.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from judge.errors import InputError
from judge.rl import Reward

CHATML_PROMPT = ("<|im_start|>system\nYou are helpful.<|im_end|>\n"
                 "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")


@pytest.mark.parametrize(("body", "message"), [
    ({}, "field 'query'"),
    ({"query": ["a"], "labels": ["x", "y"]}, "'labels' has 2 entries"),
    ({"query": ["a"], "labels": [{"principle": 5}]}, r"labels\[0\]\.principle"),
    ([1, 2], "JSON object"),
])
def test_bad_bodies_are_input_errors(text_judge, body, message):
    reward = Reward(text_judge, on_failure=0.0)
    with pytest.raises(InputError, match=message):
        reward.openrlhf(body)
    assert reward.stats.calls == 0  # rejected before anything was judged


def test_openrlhf_request_and_response_shape(text_judge):
    reward = Reward(text_judge, on_failure=0.0)
    prompt = CHATML_PROMPT
    body = {
        "query": [prompt + "a<|im_end|>", prompt + "a" * 30 + "<|im_end|>",
                  "<|im_start|>user\nUNPARSABLE<|im_end|>\n<|im_start|>assistant\nx<|im_end|>",
                  prompt + "a" * 12 + "<|im_end|>"],
        "prompts": [prompt, prompt, "<|im_start|>user\nUNPARSABLE", prompt],
        "labels": ['{"principle": "no-sycophancy"}', {"principle": "no-sycophancy"}, None, ""],
    }
    out = reward.openrlhf(body)
    assert out == {"rewards": [1.0, 4.0, 0.0, 2.0], "scores": [0.0, 0.75, 0.0, 0.25],
                   "extra_logs": {"judge_failed": [0.0, 0.0, 1.0, 0.0],
                                  "judge_exact_split": [1.0, 1.0, 1.0, 1.0]}}
    shown = [json.loads(r.messages[-1].content) for r in text_judge.backend.requests]
    # The two samples sharing prompt and principle were ranked together in one request.
    assert [len(s.get("responses", {"one": 1})) for s in shown] == [2, 1, 1]
    assert shown[0]["prompt"] == "What is 2+2?"
    assert json.dumps(out)  # plain JSON for the HTTP answer
    assert reward.stats.fallback == 1


def test_openrlhf_none_policy_head_scale_and_string_principles(head_judge, text_judge):
    body = {"query": [CHATML_PROMPT + "abcd<|im_end|>"], "prompts": [CHATML_PROMPT],
            "labels": ["Prefer long answers."]}
    out = Reward(head_judge, on_failure="none").openrlhf(body, labels_are_principles=True)
    assert out["rewards"] == [pytest.approx(0.4)]
    assert out["scores"] == [pytest.approx(1 / (1 + 2.718281828 ** -0.4))]  # unbounded: logistic
    assert head_judge.backend.calls[0][0][0] == "Prefer long answers."
    failed = Reward(text_judge, on_failure="none").openrlhf(
        {"query": ["<|im_start|>user\nUNPARSABLE<|im_end|>\n<|im_start|>assistant\nx"]})
    assert failed["rewards"] == [None] and failed["scores"] == [None]
    assert failed["extra_logs"]["judge_failed"] == [1.0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_openrlhf_requests_against_judge_serve(tmp_path):
    """OpenRLHF-shaped requests against a running ``judge serve`` (once serve exists)."""
    pytest.importorskip("judge.serve")
    replies = tmp_path / "r.jsonl"
    replies.write_text(json.dumps('{"score": 4}') + "\n", encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "judge", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--backend", f"scripted:{replies}", "-B", "cycle=true", "--principle",
         "correct-then-concise"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("judge serve did not become healthy")
        one = {"query": [CHATML_PROMPT + "4<|im_end|>"], "prompts": [CHATML_PROMPT],
               "labels": ["no-sycophancy"]}
        r = httpx.post(base + "/get_reward", json=one, timeout=30)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["rewards"] == [4.0] and data["scores"] == [0.75]  # 4 on 1-5 -> [0, 1]
        assert data["extra_logs"] == {"judge_failed": [0.0], "judge_exact_split": [1.0]}
        r = httpx.post(base + "/get_reward", json={"prompts": ["x"]}, timeout=30)
        assert 400 <= r.status_code < 500  # a malformed body is a client error, not a 500
    finally:
        proc.terminate()
        proc.wait(timeout=30)

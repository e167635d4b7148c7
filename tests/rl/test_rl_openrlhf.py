"""OpenRLHF's remote-RM protocol: splitting queries, labels, request/response shapes."""

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
from judge.rl.openrlhf import parse_body, parse_label, split_sample

CHATML_PROMPT = ("<|im_start|>system\nYou are helpful.<|im_end|>\n"
                 "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
LLAMA3 = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>")
GEMMA = ("<bos><start_of_turn>user\nName a colour<end_of_turn>\n<start_of_turn>model\n"
         "Blue<end_of_turn>\n<eos>")


@pytest.mark.parametrize(("query", "prompt", "judge_prompt", "response", "exact"), [
    # OpenRLHF today: prompts given, query = prompt + response + end tokens and padding.
    (CHATML_PROMPT + "4<|im_end|><|endoftext|><|endoftext|>", CHATML_PROMPT, "What is 2+2?",
     "4", True),
    # Older OpenRLHF sends only the query: the assistant header marks the response.
    (CHATML_PROMPT + "It is 4.<|im_end|>", None, "What is 2+2?", "It is 4.", False),
    (LLAMA3, None, "Hi there", "Hello!", False),
    ("<s>[INST] Tell a joke [/INST] Why did the chicken cross?</s>", None, "Tell a joke",
     "Why did the chicken cross?", False),
    (GEMMA, None, "Name a colour", "Blue", False),
    # A prompt cut from the left: the query no longer starts with it; the header still works.
    (CHATML_PROMPT[25:] + "Four.<|im_end|>", CHATML_PROMPT, "What is 2+2?", "Four.", False),
    # No chat template at all.
    ("Q: capital of France?\nA: Paris", "Q: capital of France?\nA:",
     "Q: capital of France?\nA:", "Paris", True),
    ("User: hi\nAssistant: hello there", None, "hi", "hello there", False),
    # A response that itself contains the prompt text is split at the prompt's end.
    ("say x" + " and say x", "say x", "say x", "and say x", True),
    # Nothing to go by: the judge sees the whole query as the response.
    ("just text", None, "", "just text", False),
])
def test_split_sample(query, prompt, judge_prompt, response, exact):
    assert split_sample(query, prompt) == (judge_prompt, response, exact)


@pytest.mark.parametrize(("label", "as_principle", "expected"), [
    (None, True, (None, None)),
    ("", True, (None, None)),
    ("42", False, (None, None)),  # OpenRLHF labels are usually reference answers
    ("no-sycophancy", True, ("no-sycophancy", None)),
    ('{"principle": "no-sycophancy", "prompt": "2+2?"}', False, ("no-sycophancy", "2+2?")),
    ({"principle": "Be kind."}, False, ("Be kind.", None)),
    ({"answer": 4}, True, (None, None)),
    ("{not json", True, ("{not json", None)),
    (7, True, (None, None)),
])
def test_parse_label(label, as_principle, expected):
    assert parse_label(label, labels_are_principles=as_principle) == expected


@pytest.mark.parametrize(("body", "message"), [
    ({}, "field 'query'"),
    ({"query": []}, "field 'query'"),
    ({"query": ["a", "b"], "prompts": ["a"]}, "'prompts' has 1 entries"),
    ({"query": ["a"], "labels": ["x", "y"]}, "'labels' has 2 entries"),
    ({"query": [3]}, "field 'query.0'"),
    ([1, 2], "JSON object"),
])
def test_bad_bodies_are_input_errors(body, message):
    with pytest.raises(InputError, match=message):
        parse_body(body)


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
        assert "extra_logs" in data
        r = httpx.post(base + "/get_reward", json={"prompts": ["x"]}, timeout=30)
        assert 400 <= r.status_code < 500  # a malformed body is a client error, not a 500
    finally:
        proc.terminate()
        proc.wait(timeout=30)

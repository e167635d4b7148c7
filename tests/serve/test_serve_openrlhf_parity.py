"""``judge serve``'s /get_reward and ``Reward.openrlhf`` answer the same body the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.serve_helpers import tiny_head

from judge.backends.base import ScoringBackend
from judge.core import Judge
from judge.items import Item
from judge.principles import resolve_principle
from judge.rl import Reward
from judge.serve.app import ServeSettings, create_app
from judge.serve.scorers import scorer_for
from judge.types import GenerationRequest

PROMPT = ("<|im_start|>system\nYou are helpful.<|im_end|>\n"
          "<|im_start|>user\nquestion 3?<|im_end|>\n<|im_start|>assistant\n")
SHORT = "answer 3."
LONG = " ".join(["more detail here"] * 20) + " 3."
END = "<|im_end|><|endoftext|>"

# (body, labels_are_principles, what each sample must be scored as:
#  (principle, prompt, response, exact split))
CASES: dict[str, tuple[dict[str, Any], bool, list[tuple[str, str, str, bool]]]] = {
    "chatml prompt present": (
        {"query": [PROMPT + SHORT + END, PROMPT + LONG + END], "prompts": [PROMPT, PROMPT]},
        False, [("Be brief.", "question 3?", SHORT, True),
                ("Be brief.", "question 3?", LONG, True)]),
    "prompt missing: assistant-header fallback": (
        {"query": [PROMPT + LONG + END]},
        False, [("Be brief.", "question 3?", LONG, False)]),
    "prompt cut from the left: assistant-header fallback": (
        {"query": [PROMPT[40:] + SHORT + END], "prompts": [PROMPT]},
        False, [("Be brief.", "question 3?", SHORT, False)]),
    "JSON-string label with a principle": (
        {"query": [PROMPT + SHORT + END, PROMPT + LONG + END], "prompts": [PROMPT, PROMPT],
         "labels": ['{"principle": "Be thorough."}', '{"principle": "Be thorough."}']},
        False, [("Be thorough.", "question 3?", SHORT, True),
                ("Be thorough.", "question 3?", LONG, True)]),
    "label dict with a prompt override": (
        {"query": [PROMPT + LONG + END], "prompts": [PROMPT],
         "labels": [{"principle": "Be thorough.", "prompt": "question 7?"}]},
        False, [("Be thorough.", "question 7?", LONG, True)]),
    "plain string labels: answers, or principles when told": (
        {"query": [PROMPT + SHORT + END], "prompts": [PROMPT], "labels": ["Be thorough."]},
        True, [("Be thorough.", "question 3?", SHORT, True)]),
    "request principle over the label's": (
        {"query": [PROMPT + LONG + END], "prompts": [PROMPT], "principle": "Be thorough.",
         "labels": [{"principle": "Be brief."}]},
        False, [("Be thorough.", "question 3?", LONG, True)]),
}


@pytest.fixture(scope="module")
def head_judge(tmp_path_factory: pytest.TempPathFactory) -> Judge:
    pytest.importorskip("torch")
    return Judge(f"head:{tiny_head(tmp_path_factory.mktemp('head'))}")


def _item(principle: str, prompt: str, responses: list[str]) -> Item:
    return Item(prompt=prompt, responses=responses, principle=resolve_principle(principle))


def _head(judge: Judge) -> ScoringBackend:
    assert isinstance(judge.backend, ScoringBackend)
    return judge.backend


def _both(judge: Judge, body: dict[str, Any], labels_are_principles: bool,
          **server: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The server's answer over HTTP and ``Reward.openrlhf``'s, from one judge."""
    from fastapi.testclient import TestClient

    settings = ServeSettings(principle="Be brief.", labels_are_principles=labels_are_principles,
                             **server)
    with TestClient(create_app(scorer_for(judge), settings)) as client:
        r = client.post("/get_reward", json=body)
    assert r.status_code == 200, r.text
    reward = Reward(judge, principle="Be brief.", on_failure=settings.unparsed_reward)
    return r.json(), reward.openrlhf(body, labels_are_principles=labels_are_principles)


@pytest.mark.parametrize("case", list(CASES))
def test_head_rewards_match(head_judge: Judge, case: str) -> None:
    body, as_principles, expected = CASES[case]
    served, local = _both(head_judge, body, as_principles)
    head = _head(head_judge)
    want = [head.score_batch([_item(p, q, [r])])[0][0] for p, q, r, _ in expected]
    assert served["rewards"] == pytest.approx(want, abs=1e-5)
    assert local["rewards"] == pytest.approx(want, abs=1e-5)
    assert served["scores"] == pytest.approx(local["scores"], abs=1e-5)
    logs = {"judge_exact_split": [1.0 if e else 0.0 for *_, e in expected],
            "judge_failed": [0.0] * len(expected)}
    assert local["extra_logs"] == logs
    # The server adds the ensemble's spread; the shared keys agree.
    assert {k: v for k, v in served["extra_logs"].items() if k != "judge_uncertainty"} == logs


def test_the_head_tells_the_principles_apart(head_judge: Judge) -> None:
    """Otherwise the parity above would not show that both paths chose the same principle."""
    head = _head(head_judge)
    brief = head.score_batch([_item("Be brief.", "question 3?", [SHORT, LONG])])[0]
    thorough = head.score_batch([_item("Be thorough.", "question 3?", [SHORT, LONG])])[0]
    assert brief[0] > brief[1] and thorough[0] < thorough[1]


def _recording_judge(shown: list[Any]) -> Judge:
    """A generative judge that records every request and scores by response length; a
    response containing ``???`` gets prose instead of a verdict."""
    from judge.backends.scripted import ScriptedBackend

    def reply(request: GenerationRequest) -> str:
        shown.append([(m.role, m.content) for m in request.messages])
        response = json.loads(request.messages[-1].content)["response"]
        if "???" in response:
            return "I cannot decide."
        return json.dumps({"score": min(5, 1 + len(response) // 20)})

    return Judge(ScriptedBackend(reply), principle="no-filler")


@pytest.mark.parametrize("case", list(CASES))
def test_generative_judge_sees_the_same_requests(case: str) -> None:
    body, as_principles, expected = CASES[case]
    for n in range(len(body["query"])):  # one sample per request, as OpenRLHF sends them
        one = {k: (v[n:n + 1] if isinstance(v, list) else v) for k, v in body.items()}
        shown: list[Any] = []
        served, local = _both(_recording_judge(shown), one, as_principles)
        assert served == local
        assert len(shown) == 2 and shown[0] == shown[1]
        principle, prompt, response, exact = expected[n]
        assert json.loads(shown[0][-1][1])["response"] == response
        assert json.loads(shown[0][-1][1])["prompt"] == prompt
        assert any(principle in text for _, text in shown[0])
        assert served["extra_logs"]["judge_exact_split"] == [1.0 if exact else 0.0]


def test_failed_verdicts_get_the_same_number_and_log() -> None:
    body = {"query": [PROMPT + "???" + END], "prompts": [PROMPT]}
    served, local = _both(_recording_judge([]), body, False, unparsed_reward=-1.0)
    assert served == local
    assert served["rewards"] == [-1.0] and served["extra_logs"]["judge_failed"] == [1.0]


def test_reward_reads_the_protocol_without_the_web_stack(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, judge.rl; judge.rl.Reward; "
            "assert 'fastapi' not in sys.modules and 'torch' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'torch'))")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)

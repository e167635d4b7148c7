"""OpenRLHF's protocol as pure functions: splitting queries, labels, bodies, the answer."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from judge.errors import InputError
from judge.serve.openrlhf import (
    OpenRLHFRequest,
    format_response,
    parse_body,
    parse_label,
    parse_request,
    split_query,
    strip_end_tokens,
    to_unit_interval,
    user_prompt,
)

CHATML = "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n" \
         "<|im_start|>assistant\n"
LLAMA3 = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" \
         "<|start_header_id|>assistant<|end_header_id|>\n\n"
GEMMA = "<bos><start_of_turn>user\nName a colour<end_of_turn>\n<start_of_turn>model\n" \
        "Blue<end_of_turn>\n<eos>"


@pytest.mark.parametrize(("query", "prompt", "asked", "response", "exact"), [
    # OpenRLHF today: prompts given, query = prompt + response + end tokens and padding.
    (CHATML + "It is 4.<|im_end|>", CHATML, "What is 2+2?", "It is 4.", True),
    (CHATML + "It is 4.<|im_end|><|endoftext|><|endoftext|>", CHATML, "What is 2+2?",
     "It is 4.", True),
    (LLAMA3 + "Four.<|eot_id|>", LLAMA3, "What is 2+2?", "Four.", True),
    (LLAMA3.replace("<|begin_of_text|>", "") + "Four.<|eot_id|>", LLAMA3, "What is 2+2?",
     "Four.", True),
    ("<s>[INST] What is 2+2? [/INST] 4</s>", "[INST] What is 2+2? [/INST]", "What is 2+2?",
     "4", True),
    ("Q: 2+2?\nA: 4", "Q: 2+2?\nA:", "Q: 2+2?\nA:", "4", True),
    # A response that itself contains the prompt text is split at the prompt's end.
    ("say x and say x", "say x", "say x", "and say x", True),
    # Older OpenRLHF sends only the query: the last assistant header marks the response.
    (CHATML + "It is 4.<|im_end|>", None, "What is 2+2?", "It is 4.", False),
    (LLAMA3 + "Hello!<|eot_id|>", None, "What is 2+2?", "Hello!", False),
    ("<s>[INST] Tell a joke [/INST] Why did the chicken cross?</s>", None, "Tell a joke",
     "Why did the chicken cross?", False),
    (GEMMA, None, "Name a colour", "Blue", False),
    ("User: hi\nAssistant: hello there", None, "hi", "hello there", False),
    # A prompt cut from the left: the query no longer contains it; the header still works.
    (CHATML[25:] + "Four.<|im_end|>", CHATML, "What is 2+2?", "Four.", False),
    # Neither the prompt nor a header: the longest common prefix, else the whole query.
    ("Q: 2+2?  A: 4", "Q: 2+2? A:", "Q: 2+2? A:", "A: 4", False),
    ("<s>just text</s>", None, "", "just text", False),
])
def test_split_query(query: str, prompt: str | None, asked: str, response: str,
                     exact: bool) -> None:
    sample = split_query(query, prompt)
    assert (sample.prompt, sample.response, sample.exact_split) == (asked, response, exact)
    assert sample.principle is None


def test_user_prompt_extraction() -> None:
    assert user_prompt(CHATML) == "What is 2+2?"
    assert user_prompt(LLAMA3) == "What is 2+2?"
    assert user_prompt("<s>[INST] Hi there [/INST]") == "Hi there"
    assert user_prompt("<start_of_turn>user\nHey<end_of_turn>\n<start_of_turn>model\n") == "Hey"
    assert user_prompt("plain question?") == "plain question?"
    two_turns = CHATML + "4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n"
    assert user_prompt(two_turns) == "And 3+3?"  # the last user turn
    assert strip_end_tokens("ok </s> ") == "ok"


@pytest.mark.parametrize(("label", "as_principle", "expected"), [
    (None, True, (None, None)),
    ("", True, (None, None)),
    ("42", False, (None, None)),  # OpenRLHF labels are usually reference answers
    ("no-sycophancy", True, ("no-sycophancy", None)),
    (" Be brief. ", True, ("Be brief.", None)),
    ('{"principle": "no-sycophancy", "prompt": "2+2?"}', False, ("no-sycophancy", "2+2?")),
    ('{"answer": 4}', True, (None, None)),  # a JSON object never counts as a principle itself
    ({"principle": "Be kind."}, False, ("Be kind.", None)),
    ({"principle": "  ", "prompt": ""}, False, (None, None)),
    ({"answer": 4}, True, (None, None)),
    ("{not json", True, ("{not json", None)),
    (7, True, (None, None)),
])
def test_parse_label(label: Any, as_principle: bool, expected: tuple[str | None, str | None]
                     ) -> None:
    assert parse_label(label, labels_are_principles=as_principle) == expected


def test_a_principle_that_is_not_text_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"labels\[1\]\.principle.*not int"):
        parse_body({"query": ["a", "b"], "labels": [None, {"principle": 5}]})


def test_a_label_prompt_that_is_not_text_is_ignored() -> None:
    # a dataset's own label fields (a prompt kept as a message list) must not fail a batch
    [sample] = parse_body({"query": ["User: hi\nAssistant: hello"],
                           "labels": ['{"prompt": [{"role": "user"}], "principle": "Be kind."}']})
    assert (sample.prompt, sample.response, sample.principle) == ("hi", "hello", "Be kind.")


def test_end_tokens_on_a_degenerate_whitespace_run() -> None:
    # 200k newlines: the old regex backtracked quadratically (minutes); no timing is asserted,
    # but a regression makes this test hang rather than pass quietly
    text = strip_end_tokens("answer" + "\n" * 200_000 + "<|im_end|>" + " " * 200_000 + "x")
    assert text.endswith("x") and len(text) == 6 + 200_000 + 10 + 200_000 + 1
    assert strip_end_tokens("answer" + "\n" * 200_000 + "<|im_end|>") == "answer"
    assert strip_end_tokens("ok \n<|im_end|>\n<pad><pad>  ") == "ok"


def test_principle_and_prompt_come_from_request_then_label() -> None:
    body = {"query": [CHATML + "4", CHATML + "4", CHATML + "4"], "prompts": [CHATML] * 3,
            "labels": [{"principle": "Be kind.", "prompt": "Two plus two?"}, "Be brief.", None]}
    samples = parse_body(body)
    assert [(s.principle, s.prompt) for s in samples] == [
        ("Be kind.", "Two plus two?"), (None, "What is 2+2?"), (None, "What is 2+2?")]
    assert parse_body(body, labels_are_principles=True)[1].principle == "Be brief."
    request = OpenRLHFRequest.model_validate({**body, "principle": "no-filler"})
    assert {s.principle for s in parse_request(request)} == {"no-filler"}
    assert [s.response for s in samples] == ["4"] * 3


def test_empty_lists_are_answered_empty_in_process_too() -> None:
    from judge.backends.scripted import ScriptedBackend
    from judge.core import Judge
    from judge.rl import Reward

    backend = ScriptedBackend([])
    reward = Reward(Judge(backend), on_failure=0.0, principle="Be brief.")
    assert reward.openrlhf({"query": [], "prompts": [], "labels": []}) == {
        "rewards": [], "scores": [], "extra_logs": {"judge_failed": [], "judge_exact_split": []}}
    assert backend.requests == []


def test_request_validation() -> None:
    assert OpenRLHFRequest.model_validate({"query": "single"}).query == ["single"]
    with pytest.raises(ValidationError, match="line up"):
        OpenRLHFRequest.model_validate({"query": ["a", "b"], "prompts": ["a"]})
    assert OpenRLHFRequest.model_validate({"query": [], "labels": []}).query == []


@pytest.mark.parametrize(("body", "message"), [
    ({}, "field 'query'"),
    ({"query": ["a", "b"], "prompts": ["a"]}, "'prompts' has 1 entries"),
    ({"query": ["a"], "labels": ["x", "y"]}, "'labels' has 2 entries"),
    ({"query": [3]}, "field 'query.0'"),
    ([1, 2], "JSON object"),
])
def test_bad_bodies_are_input_errors(body: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_body(body)


def test_response_format() -> None:
    samples = [split_query("q a", "q "), split_query("x", None), split_query("q b", "q ")]
    out = format_response(samples, [2.0, -2.0, None], failed=[False, False, True],
                          scales=[None, None, None], extra_logs={"judge_uncertainty": [1, 0, 0]})
    assert out["rewards"] == [2.0, -2.0, None]
    assert out["extra_logs"] == {"judge_failed": [0.0, 0.0, 1.0],
                                 "judge_exact_split": [1.0, 0.0, 1.0],
                                 "judge_uncertainty": [1.0, 0.0, 0.0]}
    assert out["scores"][0] == pytest.approx(0.8808, abs=1e-4)
    assert out["scores"][0] + out["scores"][1] == pytest.approx(1.0)
    assert out["scores"][2] is None
    bounded = format_response(samples[:1], [3.0], failed=[False], scales=[(1.0, 5.0)])
    assert bounded["scores"] == [0.5]
    assert to_unit_interval(5.0, (1.0, 5.0)) == 1.0 and to_unit_interval(9.0, (1.0, 5.0)) == 1.0
    assert to_unit_interval(1e9, None) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one entry per sample"):
        format_response(samples, [1.0], failed=[False] * 3, scales=[None] * 3)

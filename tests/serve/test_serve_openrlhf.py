"""OpenRLHF request handling as pure functions: splitting queries, principles, formatting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from judge.errors import InputError
from judge.serve.openrlhf import (
    OpenRLHFRequest,
    format_response,
    principle_for_sample,
    split_query,
    strip_end_tokens,
    to_unit_interval,
    user_prompt,
)

CHATML = "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n" \
         "<|im_start|>assistant\n"
LLAMA3 = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" \
         "<|start_header_id|>assistant<|end_header_id|>\n\n"


@pytest.mark.parametrize(("prompt", "query", "response", "exact"), [
    (CHATML, CHATML + "It is 4.<|im_end|>", "It is 4.", True),
    (CHATML, CHATML + "It is 4.<|im_end|><|endoftext|><|endoftext|>", "It is 4.", True),
    (LLAMA3, LLAMA3 + "Four.<|eot_id|>", "Four.", True),
    (LLAMA3, LLAMA3.replace("<|begin_of_text|>", "") + "Four.<|eot_id|>", "Four.", True),
    ("[INST] What is 2+2? [/INST]", "<s>[INST] What is 2+2? [/INST] 4</s>", "4", True),
    ("Q: 2+2?\nA:", "Q: 2+2?\nA: 4", "4", True),
    ("Q: 2+2? A:", "Q: 2+2?  A: 4", "A: 4", False),  # not a prefix: longest common prefix
])
def test_split_query(prompt: str, query: str, response: str, exact: bool) -> None:
    sample = split_query(query, prompt)
    assert sample.response == response and sample.exact_split is exact


def test_user_prompt_extraction() -> None:
    assert user_prompt(CHATML) == "What is 2+2?"
    assert user_prompt(LLAMA3) == "What is 2+2?"
    assert user_prompt("<s>[INST] Hi there [/INST]") == "Hi there"
    assert user_prompt("<start_of_turn>user\nHey<end_of_turn>\n<start_of_turn>model\n") == "Hey"
    assert user_prompt("plain question?") == "plain question?"
    two_turns = CHATML + "4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n"
    assert user_prompt(two_turns) == "And 3+3?"  # the last user turn


def test_without_prompts_the_query_is_the_response() -> None:
    assert split_query("<s>hello</s>", None).response == "hello"
    assert strip_end_tokens("ok </s> ") == "ok"


def test_request_validation() -> None:
    assert OpenRLHFRequest.model_validate({"query": "single"}).query == ["single"]
    with pytest.raises(ValidationError, match="line up"):
        OpenRLHFRequest.model_validate({"query": ["a", "b"], "prompts": ["a"]})
    with pytest.raises(ValidationError):
        OpenRLHFRequest.model_validate({"query": []})


def test_principle_order() -> None:
    kw = {"default_principle": "server", "labels_are_principles": False, "index": 0}
    assert principle_for_sample("x", request_principle="req", **kw) == "req"
    assert principle_for_sample({"principle": "lab"}, request_principle=None, **kw) == "lab"
    assert principle_for_sample("a gold answer", request_principle=None, **kw) == "server"
    kw["labels_are_principles"] = True
    assert principle_for_sample("Be brief.", request_principle=None, **kw) == "Be brief."
    with pytest.raises(InputError, match="sample 3: no principle"):
        principle_for_sample(None, request_principle=None, default_principle=None,
                             labels_are_principles=True, index=3)


def test_response_format() -> None:
    out = format_response([2.0, -2.0], extra_logs={"x": [1, 0]})
    assert out["rewards"] == [2.0, -2.0] and out["extra_logs"] == {"x": [1.0, 0.0]}
    assert out["scores"][0] == pytest.approx(0.8808, abs=1e-4)
    assert out["scores"][0] + out["scores"][1] == pytest.approx(1.0)
    assert to_unit_interval(5.0, (1.0, 5.0)) == 1.0 and to_unit_interval(9.0, (1.0, 5.0)) == 1.0
    assert to_unit_interval(1e9, None) == pytest.approx(1.0)

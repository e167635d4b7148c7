"""The vLLM backend's mapping onto vLLM's API, with a recording fake `vllm` module."""

from __future__ import annotations

import json
import math
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from judge.backends import load_backend
from judge.core import Judge
from judge.errors import ConfigError, MissingDependency
from judge.types import ChatMessage, GenerationRequest, Sampling
from judge.verdict.schema import verdict_schema

ANSWER = '{"score": 3}'


@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class Completion:
    text: str
    token_ids: list[int]
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str = "stop"


@dataclass
class RequestOutput:
    prompt_token_ids: list[int]
    outputs: list[Completion] = field(default_factory=list)


class Params:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


def make_fake_vllm(tokenizer: Any, max_model_len: int = 4096) -> types.ModuleType:
    calls: dict[str, list[Any]] = {"llm": [], "generate": []}

    class LLM:
        def __init__(self, **kwargs: Any) -> None:
            calls["llm"].append(kwargs)
            self.model_config = types.SimpleNamespace(max_model_len=max_model_len)

        def get_tokenizer(self) -> Any:
            return tokenizer

        def generate(self, prompts: list[dict[str, Any]], params: list[Params],
                     use_tqdm: bool = True) -> list[RequestOutput]:
            calls["generate"].append((prompts, params))
            out = []
            for prompt, p in zip(prompts, params, strict=True):
                ids = tokenizer(ANSWER, add_special_tokens=False)["input_ids"]
                logprobs = None
                if p.kwargs.get("logprobs"):
                    logprobs = []
                    for t in ids:
                        text = tokenizer.decode([t])
                        step = {t: Logprob(math.log(0.5), 1, text)}
                        if text == "3":
                            four = tokenizer("4", add_special_tokens=False)["input_ids"][0]
                            step[four] = Logprob(math.log(0.5), 2, "4")
                        logprobs.append(step)
                completion = Completion(ANSWER, [*ids, tokenizer.eos_token_id], logprobs)
                out.append(RequestOutput(prompt["prompt_token_ids"], [completion]))
            return out

    module = types.ModuleType("vllm")
    module.LLM = LLM  # type: ignore[attr-defined]
    module.SamplingParams = Params  # type: ignore[attr-defined]
    sampling = types.ModuleType("vllm.sampling_params")
    sampling.StructuredOutputsParams = Params  # type: ignore[attr-defined]
    module.sampling_params = sampling  # type: ignore[attr-defined]
    module.calls = calls  # type: ignore[attr-defined]
    return module


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch, tiny_tokenizer: Any) -> types.ModuleType:
    module = make_fake_vllm(tiny_tokenizer)
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", module.sampling_params)
    return module


def chat(text: str, **sampling: Any) -> GenerationRequest:
    return GenerationRequest(messages=(ChatMessage(role="system", content="judge"),
                                       ChatMessage(role="user", content=text)),
                             sampling=Sampling(**sampling))


def test_engine_arguments(fake_vllm, tiny_model_dir):
    load_backend(f"vllm:{tiny_model_dir}", tensor_parallel_size=2, max_model_len=512,
                 dtype="float32", engine_kwargs='{"swap_space": 1}')
    kwargs = fake_vllm.calls["llm"][-1]
    assert kwargs["model"] == str(tiny_model_dir)
    assert kwargs["tensor_parallel_size"] == 2 and kwargs["max_model_len"] == 512
    assert kwargs["enable_prefix_caching"] is True and kwargs["seed"] == 0
    assert kwargs["dtype"] == "float32" and kwargs["swap_space"] == 1
    assert kwargs["structured_outputs_config"] == {"backend": "guidance",
                                                   "disable_any_whitespace": True}
    load_backend(f"vllm:{tiny_model_dir}", reasoning_parser="qwen3", compact_json=False,
                 structured_backend="xgrammar")
    assert fake_vllm.calls["llm"][-1]["structured_outputs_config"] == {
        "reasoning_parser": "qwen3", "backend": "xgrammar", "disable_any_whitespace": False}
    load_backend(f"vllm:{tiny_model_dir}", structured_backend="auto")
    assert "structured_outputs_config" not in fake_vllm.calls["llm"][-1]


def test_requests_map_to_token_prompts_and_sampling_params(fake_vllm, tiny_model_dir,
                                                           tiny_tokenizer):
    backend = load_backend(f"vllm:{tiny_model_dir}")
    schema = verdict_schema("scores-ranking", ["model-1", "model-2"], (1, 5))
    reqs = [chat("a", max_tokens=30),
            chat("b", temperature=0.7, top_p=0.9, seed=5, top_logprobs=3),
            GenerationRequest(messages=chat("c").messages, json_schema=schema)]
    out = backend.generate(reqs)
    prompts, params = fake_vllm.calls["generate"][-1]
    for req, prompt in zip(reqs, prompts, strict=True):
        text = tiny_tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in req.messages],
            add_generation_prompt=True, tokenize=False)
        assert prompt == {"prompt_token_ids": tiny_tokenizer(text, add_special_tokens=False)
                          ["input_ids"]}
    assert params[0].kwargs == {"temperature": 0.0, "top_p": 1.0, "max_tokens": 30,
                                "skip_special_tokens": False}
    assert params[1].kwargs["seed"] == 5 and params[1].kwargs["logprobs"] == 3
    assert params[1].kwargs["temperature"] == 0.7 and params[1].kwargs["top_p"] == 0.9
    structured = params[2].kwargs["structured_outputs"].kwargs["json"]
    assert structured["properties"]["best-to-worst"] == {
        "enum": [["model-1", "model-2"], ["model-2", "model-1"]]}
    assert [g.text for g in out] == [ANSWER] * 3
    assert all(g.finish_reason == "stop" for g in out)
    assert out[0].usage.completion_tokens == len(tiny_tokenizer(ANSWER)["input_ids"]) + 1


def test_thinking_uses_the_lark_grammar(fake_vllm, tiny_model_dir):
    backend = load_backend(f"vllm:{tiny_model_dir}", thinking="on")
    schema = verdict_schema("score", ["model-1"], (1, 5))
    backend.generate([GenerationRequest(messages=chat("a").messages, json_schema=schema)])
    _, params = fake_vllm.calls["generate"][-1]
    grammar = params[0].kwargs["structured_outputs"].kwargs["grammar"]
    assert grammar.startswith("start: think? verdict") and "%json" in grammar
    # the tiny template has no <think>: in auto mode the answer is plain JSON
    load_backend(f"vllm:{tiny_model_dir}").generate(
        [GenerationRequest(messages=chat("a").messages, json_schema=schema)])
    _, params = fake_vllm.calls["generate"][-1]
    assert params[0].kwargs["structured_outputs"].kwargs == {"json": schema}


def test_too_long_prompts_fail_alone(fake_vllm, tiny_model_dir, monkeypatch, tiny_tokenizer):
    monkeypatch.setitem(sys.modules, "vllm", make_fake_vllm(tiny_tokenizer, max_model_len=60))
    backend = load_backend(f"vllm:{tiny_model_dir}")
    out = backend.generate([chat("ok"), chat("long " * 100), chat("fine")])
    prompts, _ = sys.modules["vllm"].calls["generate"][-1]  # type: ignore[attr-defined]
    assert len(prompts) == 2
    assert out[1].error is not None and "never truncated" in out[1].error
    assert out[0].text == out[2].text == ANSWER


def test_logprob_scores_through_the_judge(fake_vllm, tiny_model_dir):
    judge = Judge(f"vllm:{tiny_model_dir}", principle="Be correct.", structured=True,
                  sampling=Sampling(top_logprobs=2))
    judgment = judge.score_one(prompt="2+2?", response="4")
    assert judgment.status == "ok" and judgment.scores == {"0": 3}
    assert judgment.logprob_scores == {"0": pytest.approx(3.5)}
    assert json.loads(judgment.raw) == {"score": 3}


def test_missing_vllm_names_the_extra(monkeypatch, tiny_model_dir):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingDependency, match=r"pip install 'judge\[vllm\]'"):
        load_backend(f"vllm:{tiny_model_dir}")


def test_option_errors(fake_vllm, tiny_model_dir):
    with pytest.raises(ConfigError, match="unknown option 'tp'"):
        load_backend(f"vllm:{tiny_model_dir}", tp=2)
    with pytest.raises(ConfigError, match="engine_kwargs"):
        load_backend(f"vllm:{tiny_model_dir}", engine_kwargs="{not json")
    with pytest.raises(ConfigError, match="needs a model"):
        load_backend("vllm:")

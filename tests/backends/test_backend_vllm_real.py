"""The vLLM backend and `vllm serve` against a real engine (CPU build; run scripts/test-vllm.sh)."""

from __future__ import annotations

import json
import sys

import pytest

from judge.backends import load_backend
from judge.core import Judge
from judge.types import ChatMessage, GenerationRequest, Sampling

pytestmark = pytest.mark.vllm
vllm = pytest.importorskip("vllm")

ENGINE = {"max_model_len": 4096, "dtype": "float32"}


def items(n: int) -> list[dict[str, object]]:
    return [{"id": f"q{i}", "prompt": f"What is {i} times 7?",
             "responses": [f"It is {i * 7 + d}." for d in range(1 + i % 3)]} for i in range(n)]


def chat(text: str, **sampling: object) -> GenerationRequest:
    return GenerationRequest(messages=(ChatMessage(role="user", content=text),),
                             sampling=Sampling(**{"max_tokens": 16, **sampling}))


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    backend = load_backend(f"vllm:{tiny_model_dir}", **ENGINE)
    yield backend
    backend.close()


def test_offline_generation_keeps_order_and_counts(engine, tiny_tokenizer):
    prompts = ["short", "a longer prompt " * 5, "x " * 30]
    out = engine.generate([chat(p) for p in prompts])
    for p, gen in zip(prompts, out, strict=True):
        text = tiny_tokenizer.apply_chat_template([{"role": "user", "content": p}],
                                                  add_generation_prompt=True, tokenize=False)
        assert gen.error is None and gen.finish_reason in ("stop", "length")
        assert gen.usage.prompt_tokens == len(tiny_tokenizer(text, add_special_tokens=False)
                                              ["input_ids"])
        assert 0 < gen.usage.completion_tokens <= 16


def test_offline_structured_verdicts_and_logprob_scores(engine):
    judge = Judge(engine, principle="correct-then-concise", structured=True,
                  sampling=Sampling(max_tokens=200, top_logprobs=5))
    out = judge.rank(items(8))
    assert [j.item_id for j in out] == [f"q{i}" for i in range(8)]
    for j in out:
        assert j.status == "ok", (j.problems, j.raw)
        assert isinstance(json.loads(j.raw), dict)
        assert j.logprob_scores is not None
        assert all(1 <= v <= 5 for v in j.logprob_scores.values())


def test_offline_logprob_pieces_and_seeds(engine):
    reqs = [chat(p, temperature=1.0, seed=11, top_logprobs=3) for p in ("a", "b")]
    first, again = engine.generate(reqs), engine.generate(reqs)
    assert [g.text for g in first] == [g.text for g in again]
    for gen in first:
        if gen.logprobs is not None:   # None only when pieces cannot line up
            assert "".join(t.token for t in gen.logprobs) == gen.text
            assert all(t.logprob <= 0 for t in gen.logprobs)


def test_offline_thinking_then_constrained_json(engine):
    """The Lark grammar (optional <think> block, then JSON) on vLLM's guidance backend."""
    schema = {"type": "object", "properties": {"score": {"type": "integer", "minimum": 1,
                                                         "maximum": 5}},
              "required": ["score"], "additionalProperties": False}
    saved = engine._lark, engine.renderer.thinking_allowed
    engine._lark, engine.renderer.thinking_allowed = True, True   # as for a thinking model
    try:
        out = engine.generate([GenerationRequest(
            messages=chat(p).messages, json_schema=schema,
            sampling=Sampling(max_tokens=48, temperature=1.0, seed=s))
            for s, p in enumerate(["a", "b", "c", "d"])])
    finally:
        engine._lark, engine.renderer.thinking_allowed = saved
    for gen in out:
        assert gen.error is None
        assert gen.text.startswith("<think>") or set(json.loads(gen.text)) == {"score"}


def test_offline_too_long_prompt_is_an_item_error(engine):
    out = engine.generate([chat("ok"), chat("long " * 5000), chat("fine")])
    assert out[1].error is not None and "never truncated" in out[1].error
    assert out[0].error is None and out[2].error is None


def test_vllm_serve_through_the_http_backend(tiny_model_dir):
    backend = load_backend(
        f"openai:{tiny_model_dir}#tiny", launch="vllm", launch_python=sys.executable,
        launch_args="--max-model-len 4096 --dtype float32 "
                    "--structured-outputs-config "
                    "'{\"backend\": \"guidance\", \"disable_any_whitespace\": true}'",
        launch_timeout=300, max_concurrency=4)
    try:
        judge = Judge(backend, principle="Be correct.", structured=True,
                      sampling=Sampling(max_tokens=64, top_logprobs=5))
        out = judge.score([{"id": f"s{i}", "prompt": f"{i}+{i}?", "responses": [str(2 * i)]}
                           for i in range(4)])
        assert [j.item_id for j in out] == ["s0", "s1", "s2", "s3"]
        for j in out:
            assert j.status == "ok", (j.problems, j.raw)
            assert j.logprob_scores is not None and 1 <= j.logprob_scores["0"] <= 5
        backend.options = backend.options.model_copy(update={"structured": "structured_outputs"})
        gens = backend.generate([GenerationRequest(
            messages=chat("x").messages, sampling=Sampling(max_tokens=64),
            json_schema={"type": "object", "properties": {"score": {"enum": [1, 2, 3]}},
                         "required": ["score"], "additionalProperties": False})])
        assert json.loads(gens[0].text)["score"] in (1, 2, 3)
    finally:
        backend.close()

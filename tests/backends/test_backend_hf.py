"""The transformers backend against the real tiny model (CPU)."""

from __future__ import annotations

import copy
import json
import math

import pytest

from judge.backends import load_backend
from judge.backends.shared.chat import ChatRenderer
from judge.core import Judge
from judge.errors import ConfigError
from judge.types import ChatMessage, GenerationRequest, Sampling
from judge.verdict.schema import verdict_schema

pytest.importorskip("transformers")

SYSTEM = ChatMessage(role="system", content="You are a careful judge.")


def request(text: str, **sampling: object) -> GenerationRequest:
    return GenerationRequest(messages=(SYSTEM, ChatMessage(role="user", content=text)),
                             sampling=Sampling(**{"max_tokens": 24, **sampling}))


PROMPTS = ["short", "a somewhat longer prompt " * 3, "x " * 40, "What is 12 times 7?",
           "tiny", "Prefer concise answers. " * 6, "{\"scores\": 1}"]


def items(n: int) -> list[dict[str, object]]:
    return [{"id": f"q{i}", "prompt": f"What is {i} times 7?",
             "responses": [f"It is {i * 7 + d}." for d in range(1 + i % 4)]} for i in range(n)]


def test_batched_greedy_equals_one_at_a_time(hf_backend):
    reqs = [request(p, top_logprobs=3, max_tokens=12) for p in PROMPTS[:5]]
    batched = hf_backend.generate(reqs)
    single = [hf_backend.generate([r])[0] for r in reqs]
    assert [g.text for g in batched] == [g.text for g in single]
    assert [g.finish_reason for g in batched] == [g.finish_reason for g in single]
    for a, b in zip(batched, single, strict=True):
        assert a.usage == b.usage
        assert a.logprobs is not None and b.logprobs is not None
        assert [t.token for t in a.logprobs] == [t.token for t in b.logprobs]
        assert all(math.isclose(x.logprob, y.logprob, abs_tol=1e-4)
                   for x, y in zip(a.logprobs, b.logprobs, strict=True))


def test_prompt_uses_the_models_chat_template(hf_backend, tiny_tokenizer):
    reqs = [request(p) for p in PROMPTS]
    out = hf_backend.generate(reqs)
    for req, gen in zip(reqs, out, strict=True):
        text = tiny_tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in req.messages],
            add_generation_prompt=True, tokenize=False)
        assert text.endswith("<|im_start|>assistant\n")
        expected = len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"])
        assert gen.usage.prompt_tokens == expected  # also proves results are in input order


def test_seeded_sampling_is_reproducible_and_batch_independent(hf_backend):
    reqs = [request(p, temperature=1.0, seed=7) for p in PROMPTS[:4]]
    first = [g.text for g in hf_backend.generate(reqs)]
    again = [g.text for g in hf_backend.generate(reqs)]
    alone = [hf_backend.generate([r])[0].text for r in reqs]
    assert first == again == alone
    other = [g.text for g in hf_backend.generate(
        [request(p, temperature=1.0, seed=8) for p in PROMPTS[:4]])]
    assert other != first
    greedy = [g.text for g in hf_backend.generate([request(p) for p in PROMPTS[:4]])]
    assert greedy != first


def test_logprob_pieces_concatenate_to_the_text(hf_backend):
    out = hf_backend.generate([request(p, temperature=1.0, seed=s, top_logprobs=5, max_tokens=40)
                               for s, p in enumerate(PROMPTS)])
    for gen in out:
        assert gen.logprobs is not None
        assert "".join(t.token for t in gen.logprobs) == gen.text
        for t in gen.logprobs:
            assert t.logprob <= 0 and 1 <= len(t.top) <= 6  # partial bytes share "\ufffd"
            assert max(t.top.values()) >= t.logprob - 1e-6


def test_structured_verdicts_are_schema_valid_for_16_items(hf_backend):
    from judge.backends.hf.engine import HFBackend

    one_batch = HFBackend(hf_backend.engine, hf_backend.tokenizer, batch_size=16)
    judge = Judge(one_batch, principle="correct-then-concise", structured=True,
                  sampling=Sampling(max_tokens=200))
    judgments = judge.rank(items(16))
    assert [j.item_id for j in judgments] == [f"q{i}" for i in range(16)]
    for j in judgments:
        assert j.status == "ok", (j.problems, j.raw)
        assert j.provenance.structured
        verdict = json.loads(j.raw)
        if j.mode == "pointwise":
            assert set(verdict) == {"score"} and 1 <= verdict["score"] <= 5
            continue
        shown = [f"model-{n + 1}" for n in range(len(j.ids))]
        assert set(verdict) == {"scores", "best-to-worst"}
        assert sorted(verdict["scores"]) == shown
        assert all(isinstance(v, int) and 1 <= v <= 5 for v in verdict["scores"].values())
        assert sorted(verdict["best-to-worst"]) == shown   # a permutation: no repeats


def test_structured_answer_stops_at_the_end_of_the_json(hf_backend):
    schema = verdict_schema("score", ["model-1"], (1, 5))
    reqs = [GenerationRequest(messages=r.messages, sampling=Sampling(max_tokens=64),
                              json_schema=schema) for r in map(request, PROMPTS[:3])]
    for gen in hf_backend.generate(reqs):
        assert gen.finish_reason == "stop"
        assert set(json.loads(gen.text)) == {"score"}


def test_logprob_score_equals_a_hand_computation(hf_backend, tiny_tokenizer):
    torch = pytest.importorskip("torch")
    k = 20
    judge = Judge(hf_backend, principle="Be correct.", structured=True,
                  sampling=Sampling(max_tokens=64, top_logprobs=k))
    item = {"prompt": "What is 2 + 2?", "responses": ["4"]}
    judgment = judge.score([item])[0]
    assert judgment.status == "ok"
    assert judgment.logprob_scores is not None
    got = judgment.logprob_scores["0"]
    assert 1 <= got <= 5

    # Redo the judge's request and find the token that holds the score digit.
    messages = judge.render(item)[0]
    gen = hf_backend.generate([GenerationRequest(
        messages=tuple(messages), sampling=Sampling(max_tokens=64, top_logprobs=k),
        json_schema=verdict_schema("score", ["model-1"], (1, 5)))])[0]
    assert gen.text == judgment.raw and gen.logprobs is not None
    digit_at = gen.text.index(str(json.loads(gen.text)["score"]), gen.text.index(":"))
    offset, position = 0, None
    for n, tok in enumerate(gen.logprobs):
        if offset <= digit_at < offset + len(tok.token):
            position, lead = n, digit_at - offset
            break
        offset += len(tok.token)
    assert position is not None
    generated = []
    for tok in gen.logprobs[:position + 1]:
        ids = tiny_tokenizer(tok.token, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1, tok.token
        generated.extend(ids)
    prompt = tiny_tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in messages],
        add_generation_prompt=True, tokenize=False)
    prompt_ids = tiny_tokenizer(prompt, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logits = hf_backend.engine(torch.tensor([prompt_ids + generated[:-1]])).logits[0, -1]
    probs = torch.softmax(logits.float(), dim=-1)
    # the grammar allows exactly the tokens "1".."5" here; the model's softmax over them:
    digits = {v: tiny_tokenizer(str(v), add_special_tokens=False)["input_ids"] for v in range(1, 6)}
    assert all(len(ids) == 1 for ids in digits.values())
    weights = {v: float(probs[ids[0]]) for v, ids in digits.items()}
    expected = sum(v * p for v, p in weights.items()) / sum(weights.values())
    assert got == pytest.approx(expected, abs=1e-4)
    assert 1.5 < got < 4.5          # a spread over scores, not just the sampled one
    assert lead == 0 and set(gen.logprobs[position].top) == {"1", "2", "3", "4", "5"}
    chosen = int(gen.logprobs[position].token)
    assert gen.logprobs[position].logprob == pytest.approx(
        math.log(weights[chosen] / sum(weights.values())), abs=1e-4)


def test_prompt_longer_than_the_context_is_an_item_error(hf_backend):
    from judge.backends.hf.engine import HFBackend

    small = HFBackend(hf_backend.engine, hf_backend.tokenizer, context_length=60)
    out = small.generate([request("ok"), request("long " * 200), request("fine")])
    assert out[1].error is not None and "never truncated" in out[1].error
    assert "context is 60" in out[1].error
    assert out[0].error is None and out[2].error is None
    # a budget that overflows the context is lowered to what fits
    assert out[0].usage.prompt_tokens + out[0].usage.completion_tokens <= 60


def test_verdict_cut_by_the_token_limit_is_reported(hf_backend):
    gen = hf_backend.generate([request("anything", max_tokens=3)])[0]
    assert gen.finish_reason == "length" and gen.usage.completion_tokens == 3
    judge = Judge(hf_backend, principle="Be correct.", sampling=Sampling(max_tokens=3))
    judgment = judge.score_one(prompt="2+2?", response="4")
    assert judgment.status == "unparsed"
    assert "truncated" in judgment.flags


def test_thinking_before_structured_answer(hf_backend):
    from judge.backends.hf.engine import HFBackend

    thinker = HFBackend(hf_backend.engine, hf_backend.tokenizer, thinking="on")
    schema = verdict_schema("score", ["model-1"], (1, 5))
    out = thinker.generate([GenerationRequest(
        messages=request(p).messages, json_schema=schema,
        sampling=Sampling(max_tokens=48, temperature=1.0, seed=s)) for s, p in enumerate(PROMPTS[:4])])
    for gen in out:
        # either a thought (random weights never close it) or the JSON verdict directly
        assert gen.text.startswith("<think>") or set(json.loads(gen.text)) == {"score"}
        if gen.text.startswith("{"):
            assert gen.finish_reason == "stop"


QWEN3_LIKE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n"
    "{% endif %}{% endif %}")
OPENS_THOUGHT = ("{% for m in messages %}{{ m.content }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<think>\n{% endif %}")
NO_SYSTEM = ("{% for m in messages %}{% if m.role == 'system' %}"
             "{{ raise_exception('System role not supported') }}{% endif %}"
             "[{{ m.role }}] {{ m.content }}\n{% endfor %}")


@pytest.mark.parametrize(("template", "thinking", "mode"), [
    (None, "auto", "off"),             # the tiny model's template has no thinking
    (QWEN3_LIKE, "auto", "optional"),
    (QWEN3_LIKE, "on", "optional"),
    (QWEN3_LIKE, "off", "off"),
    (OPENS_THOUGHT, "auto", "open"),
])
def test_thinking_modes(tiny_tokenizer, template, thinking, mode):
    tok = copy.deepcopy(tiny_tokenizer)
    if template:
        tok.chat_template = template
    renderer = ChatRenderer(tok, thinking=thinking, context_length=4096)
    plan = renderer.plan(request("hello"))
    assert plan.think == mode
    if thinking == "off" and template:
        assert tok.decode(plan.ids).endswith("</think>\n\n")


def test_system_turn_is_merged_when_the_template_refuses_it(tiny_tokenizer):
    tok = copy.deepcopy(tiny_tokenizer)
    tok.chat_template = NO_SYSTEM
    text, flags = ChatRenderer(tok, context_length=4096).render(request("hello").messages)
    assert flags == ["system_merged_into_user"]
    assert text.startswith("[user] You are a careful judge.\n\nhello")


def test_unknown_option_and_missing_model_are_config_errors(tiny_model_dir, tmp_path):
    with pytest.raises(ConfigError, match="unknown option 'bogus'"):
        load_backend(f"transformers:{tiny_model_dir}", bogus=1)
    with pytest.raises(ConfigError, match="does not exist"):
        load_backend(f"transformers:{tmp_path}/nope")
    with pytest.raises(ConfigError, match="needs a model"):
        load_backend("transformers:")


def test_loading_prints_no_library_progress_bars(tiny_model_dir, tmp_path):
    import subprocess
    import sys

    rows = tmp_path / "in.jsonl"
    rows.write_text(json.dumps({"prompt": "q", "responses": ["a", "b"]}) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "judge", "rank", "-i", str(rows), "-o", str(tmp_path / "o.jsonl"),
         "--backend", f"transformers:{tiny_model_dir}", "--principle", "correct-then-concise",
         "--max-tokens", "8", "-q"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 3), done.stderr[-2000:]
    assert "Loading weights" not in done.stderr and "it/s" not in done.stderr, done.stderr

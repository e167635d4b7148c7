"""The transformers backend's batch plan: token budget, shared prefix, static cache (tiny model)."""

from __future__ import annotations

from typing import Any

import pytest

from judge.backends.hf.batching import plan_batches, shared_prefix
from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.errors import ConfigError
from judge.types import ChatMessage, GenerationRequest, Sampling

pytest.importorskip("transformers")

SYSTEM = ChatMessage(role="system", content="You are a careful judge. " * 4)


def judge_requests(max_tokens: int = 24) -> list[GenerationRequest]:
    """Rendered judge prompts of mixed length: 1 to 4 responses, two principles."""
    out = []
    for n, principle in enumerate(["correct-then-concise", "Prefer the shortest answer."]):
        judge = Judge(ScriptedBackend(["{}"], cycle=True), principle=principle)
        for i in range(6):
            k = 1 + (i + n) % 4
            item = {"prompt": f"What is {i} times 7?" + " Explain." * i,
                    "responses": [f"It is {i * 7 + d}." + " Sure." * d for d in range(k)]}
            out.append(GenerationRequest(messages=tuple(judge.render(item)[0]),
                                         sampling=Sampling(max_tokens=max_tokens)))
    return out


def one_by_one(engine: Any, tokenizer: Any, requests: list[GenerationRequest]) -> list[str]:
    """RewardAnything's loop: template, one ``generate`` per prompt, decode."""
    import torch

    texts = []
    for req in requests:
        prompt = tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in req.messages],
            add_generation_prompt=True, tokenize=False)
        ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
        with torch.inference_mode():
            out = engine.generate(**ids, max_new_tokens=req.sampling.max_tokens,
                                  do_sample=False, pad_token_id=tokenizer.pad_token_id)
        texts.append(tokenizer.decode(out[0, ids["input_ids"].shape[1]:],
                                      skip_special_tokens=True))
    return texts


def prefix_forwards(engine: Any) -> tuple[list[tuple[int, int]], Any]:
    """Record the (rows, tokens) of every forward pass of ``engine`` (a real forward hook)."""
    shapes: list[tuple[int, int]] = []

    def hook(module: Any, args: Any, kwargs: Any) -> None:
        ids = kwargs.get("input_ids")
        if ids is not None:
            shapes.append((int(ids.shape[0]), int(ids.shape[1])))

    return shapes, engine.register_forward_pre_hook(hook, with_kwargs=True)


def sharp_model(hf_backend: Any, **changes: Any) -> Any:
    """The tiny model's shape with weights drawn 3x wider: the default tiny model answers every
    judge prompt with the same newlines, which would let wrong positions or masks go unseen;
    this one gives a different text for each prompt."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = {**hf_backend.engine.config.to_dict(), "initializer_range": 0.3, **changes}
    torch.manual_seed(0)
    return Qwen2ForCausalLM(Qwen2Config(**config)).eval()


@pytest.fixture(scope="module")
def sharp(hf_backend) -> Any:
    from judge.backends.hf.engine import HFBackend

    return HFBackend(sharp_model(hf_backend), hf_backend.tokenizer)


@pytest.fixture(scope="module")
def reference(sharp) -> tuple[list[GenerationRequest], list[str]]:
    reqs = judge_requests()
    texts = one_by_one(sharp.engine, sharp.tokenizer, reqs)
    assert len(set(texts)) == len(texts)          # every prompt gets its own text
    return reqs, texts


def test_batched_texts_equal_one_generate_per_item(sharp, reference):
    from judge.backends.hf.engine import HFBackend

    reqs, expected = reference
    lengths = [len(sharp.renderer.plan(r).ids) for r in reqs]
    assert len(set(lengths)) > 6                     # mixed lengths, so rows are padded
    # a budget that makes several batches of several rows each
    backend = HFBackend(sharp.engine, sharp.tokenizer,
                        batch_tokens=4 * (max(lengths) + 24))
    assert backend.cache.kind == "static"
    shapes, handle = prefix_forwards(backend.engine)
    try:
        out = backend.generate(reqs)
    finally:
        handle.remove()
    assert [g.text for g in out] == expected
    assert [g.usage.prompt_tokens for g in out] == lengths       # input order kept
    # per batch: the shared opening ran on one row (or was reused), and the first generate
    # step read only the rows' own tails
    ids = [sharp.renderer.plan(r).ids for r in reqs]
    batches = plan_batches(lengths, 24, max_rows=64, max_tokens=4 * (max(lengths) + 24))
    assert len(batches) >= 3 and all(len(b) > 1 for b in batches)
    common = [shared_prefix([ids[i] for i in b]) for b in batches]
    widths = [max(lengths[i] for i in b) for b in batches]
    assert sum(common) > 0.3 * sum(widths)
    assert [n for rows, n in shapes if rows > 1 and n > 1] == [
        w - c for w, c in zip(widths, common, strict=True)]
    prefix_passes = [n for rows, n in shapes if rows == 1]
    assert 1 <= len(prefix_passes) <= len(batches) and set(prefix_passes) <= set(common)


@pytest.mark.parametrize(("kv_cache", "share"), [("dynamic", True), ("static", False),
                                                 ("dynamic", False)])
def test_cache_kinds_and_prefix_sharing_give_the_same_texts(sharp, reference, kv_cache, share):
    from judge.backends.hf.engine import HFBackend

    reqs, expected = reference
    backend = HFBackend(sharp.engine, sharp.tokenizer, kv_cache=kv_cache,
                        share_prefix=share, batch_size=5)
    assert backend.cache.kind == kv_cache
    assert [g.text for g in backend.generate(reqs)] == expected


def test_a_prefix_is_computed_once_for_batches_that_share_it(sharp):
    from judge.backends.hf.engine import HFBackend

    backend = HFBackend(sharp.engine, sharp.tokenizer, batch_size=2)
    reqs = [GenerationRequest(messages=(SYSTEM, ChatMessage(role="user", content=f"{c} ok " * n)),
                              sampling=Sampling(max_tokens=8))
            for n, c in enumerate("ABCDEF", start=1)]
    shapes, handle = prefix_forwards(backend.engine)
    try:
        out = backend.generate(reqs)
    finally:
        handle.remove()
    assert all(g.error is None for g in out)
    assert len([1 for rows, _ in shapes if rows == 1]) == 1          # 3 batches, 1 prefix pass
    assert [g.text for g in out] == one_by_one(backend.engine, backend.tokenizer, reqs)


def test_a_failing_batch_is_retried_in_halves(sharp, reference, monkeypatch):
    from judge.backends.hf.engine import HFBackend

    reqs, expected = reference
    backend = HFBackend(sharp.engine, sharp.tokenizer)
    real = backend._run_batch
    sizes: list[int] = []

    def out_of_memory_above_3_rows(chunk: Any, requests: Any, max_new: int) -> Any:
        # stands in for a CUDA out-of-memory error, which this CPU machine cannot raise
        sizes.append(len(chunk))
        if len(chunk) > 3:
            raise RuntimeError("CUDA out of memory (simulated)")
        return real(chunk, requests, max_new)

    monkeypatch.setattr(backend, "_run_batch", out_of_memory_above_3_rows)
    out = backend.generate(reqs)
    assert [g.text for g in out] == expected
    assert sizes[0] == len(reqs) and 1 not in sizes                  # halves, not singles


def test_sliding_window_model_generates_without_the_shared_cache(hf_backend, reference):
    from judge.backends.hf.engine import HFBackend

    model = sharp_model(hf_backend, use_sliding_window=True, sliding_window=64,
                        max_window_layers=0, layer_types=None)
    backend = HFBackend(model, hf_backend.tokenizer, batch_size=5)
    assert backend.cache.prefix_length(500) == 0
    assert backend.cache.build([1, 2, 3], 2, 16) is None
    reqs = reference[0][:6]
    assert [g.text for g in backend.generate(reqs)] == one_by_one(model, backend.tokenizer, reqs)


def test_a_model_that_names_its_own_cache_keeps_it(hf_backend, reference):
    from judge.backends.hf.engine import HFBackend

    model = sharp_model(hf_backend)
    model.generation_config.cache_implementation = "dynamic"
    backend = HFBackend(model, hf_backend.tokenizer, batch_size=5)
    assert backend.cache.build([1, 2, 3], 2, 16) is None
    reqs, expected = reference
    assert [g.text for g in backend.generate(reqs[:6])] == expected[:6]


def test_plan_batches_respects_rows_and_token_budget():
    lengths = [5, 40, 12, 33, 7, 100, 20, 20, 3]
    batches = plan_batches(lengths, 10, max_rows=3, max_tokens=130)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)   # longest first
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * (max(lengths[i] for i in b) + 10) <= 130
    assert batches[0] == [5]                     # 110 slots: over the budget with a second row
    assert plan_batches([], 4, max_rows=2, max_tokens=10) == []


def test_shared_prefix_leaves_every_row_a_token():
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert shared_prefix([[1, 2, 3], [1, 2, 3]]) == 2
    assert shared_prefix([[1, 2, 3]]) == 2
    assert shared_prefix([[7], [7, 8]]) == 0
    assert shared_prefix([[1, 2], [3, 4]]) == 0
    assert shared_prefix([]) == 0


@pytest.mark.parametrize(("option", "value", "message"), [
    ("kv_cache", "paged", "option 'kv_cache'"),
    ("batch_tokens", 0, "option 'batch_tokens'"),
])
def test_bad_batching_options_are_config_errors(tiny_model_dir, option, value, message):
    from judge.backends import load_backend

    with pytest.raises(ConfigError, match=message):
        load_backend(f"transformers:{tiny_model_dir}", **{option: value})

"""Judge throughput: the batched transformers backend against a one-item-at-a-time loop.

The baseline is what RewardAnything's local mode does: for each item, apply the chat template,
call ``model.generate`` on that one prompt, decode. The toolkit's backend renders the same
messages and generates in left-padded batches. Same tiny model, same inputs (rendered listwise
judge prompts), same greedy decoding and token budget; both are timed in this run and the
ratio is printed.

    .venv/bin/python benchmarks/bench_backends.py [--items 32] [--max-tokens 64] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def build_requests(n: int, max_tokens: int) -> list:
    from judge.backends.scripted import ScriptedBackend
    from judge.core import Judge
    from judge.types import GenerationRequest, Sampling

    judge = Judge(ScriptedBackend(["{}"], cycle=True), principle="correct-then-concise")
    out = []
    for i in range(n):
        item = {"prompt": f"What is {i} times 7? Explain briefly.",
                "responses": [f"It is {i * 7 + d}." for d in range(2 + i % 3)]}
        out.append(GenerationRequest(messages=tuple(judge.render(item)[0]),
                                     sampling=Sampling(max_tokens=max_tokens)))
    return out


def sequential(model, tokenizer, requests, max_tokens: int) -> list[str]:
    """One ``generate`` call per item (the baseline)."""
    import torch

    texts = []
    for req in requests:
        messages = [{"role": m.role, "content": m.content} for m in req.messages]
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                               tokenize=False)
        ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=max_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        texts.append(tokenizer.decode(out[0, ids["input_ids"].shape[1]:],
                                      skip_special_tokens=True))
    return texts


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--model", help="a model folder (default: build the tiny random model)")
    a = ap.parse_args(argv)

    import torch

    from judge.backends.hf.engine import HFBackend
    from judge.testing.tiny_model import build_tiny_model
    from judge.verdict.schema import verdict_schema

    tmp = tempfile.TemporaryDirectory()
    path = a.model or str(build_tiny_model(tmp.name))
    backend = HFBackend.load(path, device="cpu", batch_size=a.batch_size)
    model, tokenizer = backend.engine, backend.tokenizer
    requests = build_requests(a.items, a.max_tokens)
    prompt_len = statistics.mean(len(backend.renderer.plan(r).ids) for r in requests)
    print(f"model: {path} ({sum(p.numel() for p in model.parameters()):,} parameters), "
          f"torch threads: {torch.get_num_threads()}")
    print(f"{a.items} listwise judge prompts, mean {prompt_len:.0f} prompt tokens, "
          f"greedy, max {a.max_tokens} new tokens, median of {a.repeats} runs\n")

    sequential(model, tokenizer, requests[:2], a.max_tokens)   # warm up both paths
    backend.generate(requests[:2])
    t_seq, seq_texts = timed(lambda: sequential(model, tokenizer, requests, a.max_tokens),
                             a.repeats)
    t_bat, gens = timed(lambda: backend.generate(requests), a.repeats)
    same = sum(s == g.text for s, g in zip(seq_texts, gens, strict=True))  # type: ignore[arg-type]
    tokens = sum(g.usage.completion_tokens for g in gens)  # type: ignore[union-attr]

    def schema_for(req):
        k = req.messages[-1].content.count('"model-')
        return verdict_schema("scores-ranking", [f"model-{n + 1}" for n in range(k)], (1, 5))

    structured = [r.model_copy(update={"json_schema": schema_for(r)}) for r in requests]
    backend.generate(structured[:2])
    t_str, _ = timed(lambda: backend.generate(structured), a.repeats)

    rows = [("sequential generate loop (baseline)", t_seq),
            (f"batched backend, batch {a.batch_size}", t_bat),
            ("batched backend + structured (llguidance)", t_str)]
    for name, t in rows:
        print(f"{name:<44} {a.items / t:8.2f} items/s  ({t:.2f} s)")
    print(f"\nratio batched / sequential: {t_seq / t_bat:.2f}x  "
          f"(identical texts: {same}/{a.items}, {tokens} generated tokens)")
    print(f"ratio batched+structured / sequential: {t_seq / t_str:.2f}x")
    backend.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

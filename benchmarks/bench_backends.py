"""Judge throughput: the batched transformers backend against a one-item-at-a-time loop.

The baseline is what RewardAnything's local mode does: for each item, apply the chat template,
call ``model.generate`` on that one prompt, decode. The toolkit's backend renders the same
messages and generates in batches packed by a token budget, with the prompts' shared opening
computed once and a static key/value cache; the row "left-padded 16 rows" is the backend's
previous plan (16 rows per batch, no shared prefix, growing cache), kept for comparison. Same
tiny model, same inputs (rendered listwise judge prompts, 4 responses each by default), same
greedy decoding and token budget, same torch threads; every variant is timed in each repeat
(interleaved, so load from other processes hits them alike), the median is printed with the
ratios.

    .venv/bin/python benchmarks/bench_backends.py [--items 64] [--responses 4] [--max-tokens 64]
        [--repeats 3] [--threads 1] [--batch-size 64] [--batch-tokens 65536]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def build_requests(n: int, max_tokens: int, responses: int = 4) -> list:
    from judge.backends.scripted import ScriptedBackend
    from judge.core import Judge
    from judge.types import GenerationRequest, Sampling

    judge = Judge(ScriptedBackend(["{}"], cycle=True), principle="correct-then-concise")
    out = []
    for i in range(n):
        item = {"prompt": f"What is {i} times 7? Explain briefly.",
                "responses": [f"It is {i * 7 + d}." for d in range(responses)]}
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


def timed(variants: dict[str, Callable[[], object]], repeats: int
          ) -> dict[str, tuple[float, float, object]]:
    """Median wall seconds, median CPU seconds of this process and the last result of each
    variant; each repeat runs every variant once."""
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, object] = {}
    for _ in range(repeats):
        for name, fn in variants.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            results[name] = fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name]), results[name])
            for name in variants}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=64)
    ap.add_argument("--responses", type=int, default=4, help="responses per item (default 4)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=64, help="rows cap per batch")
    ap.add_argument("--batch-tokens", type=int, default=65536,
                    help="cache slots per batch: rows x (longest prompt + max tokens)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for every variant")
    ap.add_argument("--model", help="a model folder (default: build the tiny random model)")
    a = ap.parse_args(argv)

    import torch

    from judge.backends.hf.engine import HFBackend
    from judge.testing.tiny_model import build_tiny_model
    from judge.verdict.schema import verdict_schema

    torch.set_num_threads(a.threads)
    tmp = tempfile.TemporaryDirectory()
    path = a.model or str(build_tiny_model(tmp.name))
    backend = HFBackend.load(path, device="cpu", batch_size=a.batch_size,
                             batch_tokens=a.batch_tokens)
    model, tokenizer = backend.engine, backend.tokenizer
    before = HFBackend(model, tokenizer, batch_size=16, batch_tokens=10**9,
                       kv_cache="dynamic", share_prefix=False)
    requests = build_requests(a.items, a.max_tokens, a.responses)
    prompt_len = statistics.mean(len(backend.renderer.plan(r).ids) for r in requests)
    print(f"model: {path} ({sum(p.numel() for p in model.parameters()):,} parameters), "
          f"torch threads: {torch.get_num_threads()}")
    print(f"{a.items} listwise judge prompts x {a.responses} responses, mean {prompt_len:.0f} "
          f"prompt tokens, greedy, max {a.max_tokens} new tokens, median of {a.repeats} runs\n")

    def schema_for(req):
        k = req.messages[-1].content.count('"model-')
        return verdict_schema("scores-ranking", [f"model-{n + 1}" for n in range(k)], (1, 5))

    structured = [r.model_copy(update={"json_schema": schema_for(r)}) for r in requests]
    sequential(model, tokenizer, requests[:2], a.max_tokens)   # warm up every path
    before.generate(requests[:2])
    backend.generate(requests[:2])
    backend.generate(structured[:2])
    names = {"seq": "sequential generate loop (baseline)",
             "before": "backend, left-padded 16 rows (previous)",
             "batched": f"backend, {a.batch_tokens} tokens / {a.batch_size} rows",
             "structured": "  same + structured (llguidance)"}
    runs = timed({"seq": lambda: sequential(model, tokenizer, requests, a.max_tokens),
                  "before": lambda: before.generate(requests),
                  "batched": lambda: backend.generate(requests),
                  "structured": lambda: backend.generate(structured)}, a.repeats)
    t_seq, c_seq, seq_texts = runs["seq"]
    print(f"{'':<44} {'items/s':>8}  {'wall s':>7} {'ratio':>7}  {'CPU s':>7} {'ratio':>7}")
    for key, label in names.items():
        t, c, out = runs[key]
        line = f"{label:<44} {a.items / t:8.2f}  {t:7.2f} {t_seq / t:6.2f}x  {c:7.2f} {c_seq / c:6.2f}x"
        if key in ("before", "batched"):
            same = sum(s == g.text for s, g in zip(seq_texts, out, strict=True))  # type: ignore
            line += f"  identical texts {same}/{a.items} ({len(set(seq_texts))} distinct)"
        print(line)
    tokens = sum(g.usage.completion_tokens for g in runs["batched"][2])  # type: ignore
    print(f"\nratio batched / sequential: {t_seq / runs['batched'][0]:.2f}x wall, "
          f"{c_seq / runs['batched'][1]:.2f}x CPU (previous plan {t_seq / runs['before'][0]:.2f}x "
          f"wall; {tokens} generated tokens)")
    print(f"ratio batched+structured / sequential: {t_seq / runs['structured'][0]:.2f}x wall, "
          f"{c_seq / runs['structured'][1]:.2f}x CPU")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} CPUs; a busy machine inflates the wall ratio)")
    backend.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

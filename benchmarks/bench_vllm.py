"""The vLLM backend's overhead: ``VLLMBackend.generate`` against the raw engine's ``LLM.chat``.

Run it in the vLLM virtualenv built by ``scripts/test-vllm.sh``::

    PYTHONPATH=. VLLM_CPU_KVCACHE_SPACE=1 .venv-vllm/bin/python benchmarks/bench_vllm.py

Both arms use the same engine instance, the same rendered judge prompts and the same greedy
settings and token budget; the toolkit's arm adds chat-template rendering, the context check,
token-id prompts and the conversion to ``Generation`` objects. Median of a few runs each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", help="a model folder (default: build the tiny random model)")
    a = ap.parse_args(argv)

    from vllm import SamplingParams

    sys.path.insert(0, os.path.dirname(__file__))
    from bench_backends import build_requests

    from judge.backends import load_backend
    from judge.testing.tiny_model import build_tiny_model

    tmp = tempfile.TemporaryDirectory()
    path = a.model or str(build_tiny_model(tmp.name))
    backend = load_backend(f"vllm:{path}", max_model_len=4096, dtype="float32")
    llm = backend.llm  # type: ignore[attr-defined]
    requests = build_requests(a.items, a.max_tokens)
    conversations = [[{"role": m.role, "content": m.content} for m in r.messages]
                     for r in requests]
    params = SamplingParams(temperature=0.0, max_tokens=a.max_tokens)

    def raw() -> list[str]:
        return [o.outputs[0].text for o in llm.chat(conversations, params, use_tqdm=False)]

    def toolkit() -> list[str]:
        return [g.text for g in backend.generate(requests)]

    def timed(fn) -> tuple[float, list[str]]:
        fn()  # warm up (prefix cache filled for both arms alike)
        times, out = [], []
        for _ in range(a.repeats):
            start = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times), out

    t_raw, raw_texts = timed(raw)
    t_kit, kit_texts = timed(toolkit)
    same = sum(x == y for x, y in zip(raw_texts, kit_texts, strict=True))
    print(f"model: {path}; {a.items} judge prompts, greedy, max {a.max_tokens} new tokens, "
          f"median of {a.repeats}")
    print(f"raw vLLM LLM.chat            {a.items / t_raw:8.2f} items/s  ({t_raw:.3f} s)")
    print(f"judge VLLMBackend.generate   {a.items / t_kit:8.2f} items/s  ({t_kit:.3f} s)")
    print(f"overhead ratio backend / raw: {t_kit / t_raw:.3f}x  (identical texts: {same}/{a.items})")
    backend.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

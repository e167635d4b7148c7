"""The offline tiny-model builder: tokenizer corpora, context length, bad options."""

from __future__ import annotations

import json

import pytest

from judge.errors import ConfigError
from judge.testing.tiny_model import build_tiny_model

ENGLISH = ("The response explains the algorithm clearly and cites the documentation, but the "
           "second answer is more concise and still correct. Both responses mention the time "
           "complexity of the function and give an example of how to call it from Python.")


def test_english_corpus_cuts_tokens_and_keeps_the_context_length(tmp_path) -> None:
    from transformers import AutoTokenizer

    small = build_tiny_model(tmp_path / "tests")
    big = build_tiny_model(tmp_path / "english", corpus="english", vocab_size=4096,
                           max_positions=16384)
    n_small = len(AutoTokenizer.from_pretrained(small)(ENGLISH)["input_ids"])
    tok = AutoTokenizer.from_pretrained(big)
    n_big = len(tok(ENGLISH)["input_ids"])
    assert n_big * 1.8 < n_small, (n_big, n_small)
    assert tok.decode(tok(ENGLISH)["input_ids"]) == ENGLISH  # byte-level: lossless
    assert tok.model_max_length == 16384
    config = json.loads((big / "config.json").read_text())
    assert config["max_position_embeddings"] == 16384
    assert config["vocab_size"] == len(tok) > 4000


def test_unknown_corpus_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown tokenizer corpus 'klingon'"):
        build_tiny_model(tmp_path / "x", corpus="klingon")

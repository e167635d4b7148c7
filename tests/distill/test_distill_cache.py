"""The on-disk embedding cache: re-embedding never happens for a text already stored."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from judge.distill.cache import EmbeddingCache, embed_with
from judge.distill.embedders import HashEmbedder


class Counting(HashEmbedder):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed(texts)


def test_second_pass_embeds_nothing(tmp_path: Path) -> None:
    emb = Counting(32)
    cache = EmbeddingCache(tmp_path, emb)
    first = cache.embed(["a b", "c d", "a b"])
    assert emb.seen == ["a b", "c d"]  # duplicates embedded once
    cache.close()
    again = EmbeddingCache(tmp_path, emb)  # a new process would open the same file
    second = again.embed(["c d", "a b"])
    assert emb.seen == ["a b", "c d"]
    assert np.array_equal(second, first[[1, 0]])
    assert again.hits == 2 and again.misses == 0 and len(again) == 2


def test_cache_is_keyed_by_embedder(tmp_path: Path) -> None:
    a, b = EmbeddingCache(tmp_path, Counting(32)), EmbeddingCache(tmp_path, Counting(48))
    assert a.path != b.path
    assert a.embed(["x"]).shape == (1, 32) and b.embed(["x"]).shape == (1, 48)


def test_embed_with_no_cache_dedupes() -> None:
    emb = Counting(16)
    out = embed_with(emb, ["p", "q", "p"])
    assert emb.seen == ["p", "q"] and np.array_equal(out[0], out[2])

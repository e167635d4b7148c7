"""Scoring with a loaded head: batches, embedding reuse, principles, uncertainty."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from helpers.distill_data import LONG, SHORT

from judge.distill.embedders import HashEmbedder
from judge.distill.head import load_head, principle_text
from judge.errors import ConfigError, PrincipleError
from judge.principles import resolve_principle


class Recording(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed(texts)


def test_k_responses_reuse_principle_and_prompt_embeddings(head_dir: Path) -> None:
    emb = Recording()
    head = load_head(head_dir, embedder=emb)
    responses = ["one", "two words", "three more words"]
    head.score_batch([(SHORT, "Why?", responses), (SHORT, "Why?", responses[:2])])
    assert len(emb.calls) == 1  # one encoder call per batch
    assert emb.calls[0].count(SHORT) == 1 and emb.calls[0].count("Why?") == 1
    head.score_batch([(SHORT, "Why?", ["four"])])
    assert emb.calls[1] == ["four"]  # principle and prompt came from memory


def test_head_follows_the_principle(head_dir: Path) -> None:
    head = load_head(head_dir)
    short, long = "golf hotel.", " ".join(["delta echo foxtrot kilo"] * 15) + "."
    s_short = head.score(SHORT, "Question: tell me about lima?", [short, long])
    s_long = head.score(LONG, "Question: tell me about lima?", [short, long])
    assert s_short[0] > s_short[1] and s_long[1] > s_long[0]


def test_ensemble_reports_uncertainty(head_dir: Path) -> None:
    out = load_head(head_dir).score_batch_detailed([(SHORT, "q", ["a", "b"]), (SHORT, "q", [])])
    assert out[0].uncertainty is not None and len(out[0].uncertainty) == 2
    assert all(u >= 0 for u in out[0].uncertainty) and out[1].scores == []


def test_principles_by_id_or_text() -> None:
    assert principle_text("correct-then-concise") == resolve_principle("correct-then-concise").text
    assert principle_text("Be brief.\nReally.") == "Be brief.\nReally."  # free text verbatim
    with pytest.raises(PrincipleError):
        principle_text("no-such-principle-id")


def test_bad_items_are_config_errors(head_dir: Path) -> None:
    head = load_head(head_dir)
    with pytest.raises(ConfigError):
        head.score_batch([(SHORT, "q", "not a list")])  # type: ignore[list-item]

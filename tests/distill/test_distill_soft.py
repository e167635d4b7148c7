"""Soft teacher targets, head flags (truncated / empty / out of distribution), soft figures."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from judge.core import Judge
from judge.distill.backend import HeadBackend
from judge.distill.dataset import embed_items
from judge.distill.embedders import HashEmbedder
from judge.distill.head import EMPTY, PRINCIPLE_OOD, READ_CHARS, TRUNCATED, load_head
from judge.distill.heads import HeadArch
from judge.distill.labels import LabelItem
from judge.distill.soft import (
    by_group,
    calibration_plot,
    length_figures,
    pair_probabilities,
    soft_figures,
)
from judge.distill.train import TrainConfig, fit_head


def _items(prefer: float | None) -> list[LabelItem]:
    return [LabelItem(principle="Be helpful.", principle_id="h", prompt=f"question {n}",
                      responses=(f"alpha answer {n}", f"beta reply {n}"),
                      scores=(0.7, 0.3) if prefer is not None else (1.0, 0.0),
                      prefer=prefer, group="g") for n in range(80)]


def _mean_p(items: list[LabelItem], emb: HashEmbedder) -> float:
    config = TrainConfig(arch=HeadArch(kind="linear"), epochs=60, lr=5e-2, test_fraction=0.0,
                         center_coef=0.0)
    result = fit_head(items, emb, config)
    pred = embed_items(items, emb).scores(result.net)[0]
    probs = [p for _, p in pair_probabilities(
        [LabelItem(**{**it.__dict__, "prefer": 0.7}) for it in items], pred)]
    return sum(probs) / len(probs)


def test_soft_targets_train_towards_the_teacher_probability() -> None:
    emb = HashEmbedder(32)
    soft, hard = _mean_p(_items(0.7), emb), _mean_p(_items(None), emb)
    assert 0.6 < soft < 0.8  # the teacher said 0.7, not "always"
    assert hard > soft + 0.1


@pytest.fixture(scope="module")
def head(head_dir: Path):  # type: ignore[no-untyped-def]
    return load_head(head_dir, embedder=HashEmbedder(64))


def test_long_empty_and_far_inputs_are_flagged(head, synthetic_items) -> None:  # type: ignore[no-untyped-def]
    trained_p = synthetic_items[0].principle
    long_text = "word " * 20_000  # 100 kB
    huge = "x" * 10_000_000
    ok, long_, empty, far = head.score_batch_detailed([
        (trained_p, "q", ["a short answer"]),
        (trained_p, "q", ["short", long_text, huge]),
        (trained_p, "q", ["   "]),
        ("Zebras prefer quantum lasagna recipes.", "q", ["a short answer"]),
    ])
    assert ok.flags == [] and ok.principle_similarity == pytest.approx(1.0, abs=1e-3)
    assert long_.flags == [TRUNCATED] and "[1, 2]" in long_.problems[0]
    assert len(long_.scores) == 3
    assert empty.flags == [EMPTY]
    assert far.flags == [PRINCIPLE_OOD] and "LLM judge" in far.problems[0]
    assert head.ood_threshold is not None and far.principle_similarity < head.ood_threshold
    assert READ_CHARS < len(huge)


def test_flags_reach_the_verdict_and_warn_once(head, synthetic_items,  # type: ignore[no-untyped-def]
                                               caplog: pytest.LogCaptureFixture) -> None:
    judge = Judge(HeadBackend(head, "head:test"), principle="Zebras prefer quantum lasagna.")
    with caplog.at_level(logging.WARNING, logger="judge.distill.backend"):
        first, second = judge.rank([{"prompt": "q", "responses": ["a", ""]},
                                    {"prompt": "q", "responses": ["b", "c"]}])
    assert first.status == "ok" and set(first.flags) == {PRINCIPLE_OOD, EMPTY}
    assert second.flags == [PRINCIPLE_OOD] and second.problems
    hints = [r.getMessage() for r in caplog.records]
    assert len(hints) == 2 and any("use an LLM judge backend" in h for h in hints)


def test_minilm_counts_windows_it_would_not_read(minilm) -> None:  # type: ignore[no-untyped-def]
    counts = minilm.windows_needed(["short", "word " * 3000])
    assert counts[0] == 1 and counts[1] > minilm.max_windows


def test_soft_length_and_group_figures(tmp_path: Path) -> None:
    items = [LabelItem("p", "p", "q1", ("short", "much longer text"), (0.8, 0.2), prefer=0.8,
                       group="a"),
             LabelItem("p", "p", "q2", ("tiny", "a longer answer"), (0.3, 0.7), prefer=0.3,
                       group="b")]
    pred = [[1.0, 0.0], [0.0, 1.0]]
    soft = soft_figures(items, pred)
    assert soft["pairs"] == 2 and soft["pearson"] == pytest.approx(1.0)
    length = length_figures(items, pred)
    assert length["better_is_shorter"]["pairs"] == 1
    assert length["better_is_shorter"]["pairwise_accuracy"] == 1.0
    groups = by_group(items, pred)
    assert groups["a"]["longer_wins"] == 0.0 and groups["b"]["longer_wins"] == 1.0
    png = calibration_plot(items, pred, tmp_path / "cal.png")
    assert png.read_bytes()[:4] == b"\x89PNG"

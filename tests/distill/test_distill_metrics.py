"""Agreement metrics against hand-computed cases and scipy."""

from __future__ import annotations

import pytest
from scipy.stats import kendalltau

from judge.distill.labels import LabelItem
from judge.distill.metrics import Agreement, agreement, flip_rate


def test_pairwise_accuracy_counts_ties_as_half() -> None:
    a = Agreement()
    a.add([3, 2, 1], [0.9, 0.9, 0.1])  # (0,1) tied -> 1/2, (0,2) right, (1,2) right
    assert a.pairs == 3 and a.accuracy == pytest.approx(2.5 / 3)


def test_teacher_ties_are_not_pairs() -> None:
    a = Agreement()
    a.add([1, 1, 0], [0.0, 1.0, 0.5])
    assert a.pairs == 2 and a.accuracy == pytest.approx(0.5)


def test_kendall_tau_b_matches_scipy() -> None:
    teacher, student = [5, 3, 3, 1, 4], [0.2, 0.1, 0.3, -1.0, 0.25]
    a = Agreement()
    a.add(teacher, student)
    assert a.tau == pytest.approx(kendalltau(teacher, student).statistic)


def test_agreement_groups_by_principle() -> None:
    items = [LabelItem("p1", "one", "q", ("a", "b"), (1, 0)),
             LabelItem("p2", "two", "q", ("a", "b"), (0, 1))]
    out = agreement(items, [[1.0, 0.0], [1.0, 0.0]])
    assert out["all"]["pairwise_accuracy"] == 0.5
    assert out["principle_id=one"]["pairwise_accuracy"] == 1.0
    assert out["principle_id=two"]["pairwise_accuracy"] == 0.0


def test_flip_rate_hand_computed() -> None:
    concise = LabelItem("be brief", "concise", "q", ("short", "long", "wrong"), (2, 1, 0))
    thorough = LabelItem("be thorough", "thorough", "q", ("long", "short", "wrong"), (2, 1, 0))
    # teacher flips only (short, long); (x, wrong) keeps its order under both principles
    flipping = flip_rate([concise, thorough], [[1.0, 0.0, -1.0], [1.0, 0.0, -1.0]])
    assert (flipping.candidates, flipping.flipped, flipping.rate) == (1, 1, 1.0)
    stubborn = flip_rate([concise, thorough], [[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])
    assert stubborn.rate == 0.0
    other = flip_rate([concise, thorough], [[1.0, 0.0, -1.0]] * 2, principles=("a", "b"))
    assert other.candidates == 0 and other.rate is None

"""Metrics against hand-computed cases, scipy and a direct NDCG computation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from judge.bench import metrics
from judge.bench.aggregate import list_result, predicted_values, summarize


# ----------------------------------------------------------------- hand-computed cases
@pytest.mark.parametrize(("gold", "pred", "credit", "pairs"), [
    ([3, 2, 1], [3, 2, 1], 3.0, 3),          # perfect
    ([3, 2, 1], [1, 2, 3], 0.0, 3),          # reversed
    ([3, 2, 1], [5, 5, 1], 2.5, 3),          # predicted tie on (a,b) earns 1/2
    ([3, 3, 1], [1, 2, 0], 2.0, 2),          # gold tie (a,b) excluded
    ([2, 2, 2], [1, 2, 3], 0.0, 0),          # all-equal gold: no pairs
    ([1, 0], [0.2, 0.1], 1.0, 1),            # k = 2, right
    ([1, 0], [0.1, 0.2], 0.0, 1),            # k = 2, wrong
    ([1, 0], [7, 7], 0.5, 1),                # k = 2, predicted tie
])
def test_pairwise_credit_hand_cases(gold, pred, credit, pairs) -> None:
    assert metrics.pairwise_credit(gold, pred) == (credit, pairs)


def test_tau_b_hand_cases() -> None:
    assert metrics.kendall_tau_b([3, 2, 1], [3, 2, 1]) == pytest.approx(1.0)
    assert metrics.kendall_tau_b([3, 2, 1], [1, 2, 3]) == pytest.approx(-1.0)
    # gold (3,2,1), pred (5,5,1): concordant 2, discordant 0, one tie in pred only.
    # tau-b = (2 - 0) / sqrt((3 - 0) * (3 - 1)) = 2 / sqrt(6)
    assert metrics.kendall_tau_b([3, 2, 1], [5, 5, 1]) == pytest.approx(2 / math.sqrt(6))
    assert metrics.kendall_tau_b([1, 0], [0.3, 0.1]) == pytest.approx(1.0)   # k = 2
    assert metrics.kendall_tau_b([1, 0], [0.1, 0.3]) == pytest.approx(-1.0)
    assert metrics.kendall_tau_b([2, 2, 2], [1, 2, 3]) is None              # all-equal gold
    assert metrics.kendall_tau_b([3, 2, 1], [4, 4, 4]) == 0.0               # all-equal pred


def test_ndcg_hand_cases() -> None:
    # gains (3, 2, 1) shown in order c, b, a: DCG = 1 + 2/log2(3) + 3/log2(4)
    ideal = 3 + 2 / math.log2(3) + 1 / 2
    worst = 1 + 2 / math.log2(3) + 3 / 2
    assert metrics.ndcg([3, 2, 1], [1, 2, 3]) == pytest.approx(worst / ideal)
    assert metrics.ndcg([3, 2, 1], [9, 8, 7]) == pytest.approx(1.0)
    # a tie between the best two: each rank gets the mean gain 2.5
    tied = 2.5 + 2.5 / math.log2(3) + 1 / 2
    assert metrics.ndcg([3, 2, 1], [5, 5, 0]) == pytest.approx(tied / ideal)
    assert metrics.ndcg([1, 0], [0, 1]) == pytest.approx(1 / math.log2(3))   # k = 2
    assert metrics.ndcg([2, 2, 2], [1, 2, 3]) == pytest.approx(1.0)          # all-equal gains
    assert metrics.ndcg([0, 0], [1, 2]) == 0.0                               # as sklearn
    with pytest.raises(ValueError, match="non-negative"):
        metrics.ndcg([1, -1], [0, 1])


def test_top1_and_variance_hand_cases() -> None:
    assert metrics.top1([3, 2, 1], [1, 2, 3]) == 0.0
    assert metrics.top1([3, 2, 1], [4, 4, 4]) == pytest.approx(1 / 3)
    assert metrics.top1([3, 3, 1], [0, 2, 1]) == 1.0          # either gold-best counts
    assert metrics.score_variance([1, 2, 3, 4]) == pytest.approx(1.25)
    assert metrics.score_variance([3, 3, 3]) == 0.0


# ----------------------------------------------------------------- random data
def _direct_tau_b(x: list[float], y: list[float]) -> float:
    conc = disc = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tx += 1
        elif dy == 0:
            ty += 1
        elif dx == dy:
            conc += 1
        else:
            disc += 1
    return (conc - disc) / math.sqrt((conc + disc + tx) * (conc + disc + ty))


def _direct_dcg(gains: list[float], pred: list[float]) -> float:
    """Mean DCG over every order that breaks the prediction's ties (the tie-averaged DCG)."""
    total, count = 0.0, 0
    for perm in itertools.permutations(range(len(gains))):
        if any(pred[perm[r]] < pred[perm[r + 1]] for r in range(len(perm) - 1)):
            continue
        total += sum(gains[i] / math.log2(r + 2) for r, i in enumerate(perm))
        count += 1
    return total / count


def _random_lists(n: int, seed: int = 7) -> list[tuple[list[float], list[float]]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(2, 7))
        gold = [float(v) for v in rng.integers(0, 4, size=k)]      # ties on purpose
        pred = [float(v) for v in rng.integers(1, 6, size=k)]
        out.append((gold, pred))
    return out


def test_tau_b_matches_direct_formula_on_random_data() -> None:
    for gold, pred in _random_lists(200):
        got = metrics.kendall_tau_b(gold, pred)
        if len(set(gold)) < 2:
            assert got is None
        elif len(set(pred)) < 2:
            assert got == 0.0  # the one tie rule (judge.metrics): no agreement
        else:
            assert got == pytest.approx(_direct_tau_b(gold, pred))


def test_ndcg_matches_direct_computation_on_random_data() -> None:
    checked = 0
    for gold, pred in _random_lists(200, seed=3):
        ideal = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(gold, reverse=True)))
        if ideal == 0:
            continue
        assert metrics.ndcg(gold, pred) == pytest.approx(_direct_dcg(gold, pred) / ideal)
        checked += 1
    assert checked > 150


def test_ndcg_matches_sklearn_when_installed() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    for gold, pred in _random_lists(100, seed=11):
        assert metrics.ndcg(gold, pred) == pytest.approx(sk.ndcg_score([gold], [pred]))


def test_pairwise_accuracy_matches_brute_force_on_random_data() -> None:
    for gold, pred in _random_lists(200, seed=5):
        good = total = 0.0
        for i in range(len(gold)):
            for j in range(len(gold)):
                if gold[i] > gold[j]:
                    total += 1
                    good += 1.0 if pred[i] > pred[j] else 0.5 if pred[i] == pred[j] else 0.0
        expected = good / total if total else None
        got = metrics.pairwise_accuracy(gold, pred)
        assert got == (pytest.approx(expected) if expected is not None else None)


# ----------------------------------------------------------------- records -> figures
def _record(gold: dict[str, float], *, status: str = "ok", scores=None, ranking=None,
            category: str = "style") -> dict:
    return {"gold": gold, "status": status, "scores": scores, "ranking": ranking,
            "category": category, "domain": "chat", "principle_name": "p", "direct": False}


def test_ranking_is_the_prediction_and_scores_keep_ties() -> None:
    gold = {"a": 3, "b": 2, "c": 1}
    with_ranking = list_result(_record(gold, scores={"a": 4, "b": 4, "c": 1},
                                       ranking=["a", "b", "c"]))
    assert (with_ranking.credit, with_ranking.pairs) == (3.0, 3)
    scores_only = list_result(_record(gold, scores={"a": 4, "b": 4, "c": 1}))
    assert (scores_only.credit, scores_only.pairs) == (2.5, 3)
    direct = list_result({**_record(gold, scores={"a": 4, "b": 4, "c": 1},
                                    ranking=["b", "a", "c"]), "direct": True})
    assert direct.credit == 2.5          # a head's sort order does not break score ties
    assert predicted_values(["a"], None, None) is None


def test_strict_counts_unparsed_as_reversed_and_default_excludes() -> None:
    good = _record({"a": 2, "b": 1}, scores={"a": 5, "b": 1}, ranking=["a", "b"])
    bad = _record({"x": 3, "y": 2, "z": 1}, status="unparsed")
    default = summarize([list_result(good), list_result(bad)], resamples=0)
    strict = summarize([list_result(good, strict=True), list_result(bad, strict=True)],
                       resamples=0)
    assert default["accuracy"]["value"] == 100.0 and default["unparsed"] == 1
    assert default["unparsed_rate"]["value"] == 50.0
    assert strict["accuracy"]["value"] == pytest.approx(100 * 1 / 4)   # 1 of 4 pairs right
    assert strict["tau"]["value"] == pytest.approx(0.0)                 # mean of 100, -100
    assert strict["top1"]["value"] == pytest.approx(50.0)
    assert strict["variance"]["value"] == pytest.approx(4.0)            # only the parsed list


def test_uninformative_lists_are_left_out_and_pooling_is_over_pairs() -> None:
    flat = _record({"a": 1, "b": 1}, scores={"a": 5, "b": 1}, ranking=["a", "b"])
    big = _record({"a": 3, "b": 2, "c": 1}, scores={"a": 1, "b": 2, "c": 3},
                  ranking=["c", "b", "a"])
    small = _record({"a": 2, "b": 1}, scores={"a": 5, "b": 1}, ranking=["a", "b"])
    s = summarize([list_result(r) for r in (flat, big, small)], resamples=0)
    assert s["pairs"] == 4
    assert s["accuracy"]["value"] == pytest.approx(25.0)     # pooled: 1 right of 4 pairs
    assert s["tau"]["value"] == pytest.approx(0.0)           # mean over the 2 informative
    assert s["top1"]["value"] == pytest.approx(50.0)


def test_bootstrap_interval_is_seeded_and_brackets_the_value() -> None:
    rng = np.random.default_rng(0)
    records = []
    for n in range(60):
        pred = rng.permutation(3).tolist()
        records.append(_record({"a": 3, "b": 2, "c": 1},
                               scores={k: float(v) for k, v in zip("abc", pred, strict=True)},
                               category="c" + str(n % 2)))
    results = [list_result(r) for r in records]
    one = summarize(results, resamples=500, seed=1)
    two = summarize(results, resamples=500, seed=1)
    assert one == two
    lo, hi = one["accuracy"]["ci"]
    assert lo < one["accuracy"]["value"] < hi
    assert summarize(results, resamples=500, seed=2)["accuracy"]["ci"] != [lo, hi]


# ----------------------------------------------------------------- the chance row
@pytest.mark.parametrize("gold", [[3, 2, 1], [5, 5, 0, 1], [0, 0, 4], [2, 1], [4, 3, 3, 1, 0]])
def test_chance_is_the_mean_over_every_permutation(gold) -> None:
    perms = list(itertools.permutations(range(len(gold))))
    # a permutation as predicted values: response i gets value perm[i] (all distinct)
    ndcgs = [metrics.ndcg(gold, list(p)) for p in perms]
    tops = [metrics.top1(gold, list(p)) for p in perms]
    accs = [metrics.pairwise_accuracy(gold, list(p)) for p in perms]
    taus = [metrics.kendall_tau_b(gold, list(p)) for p in perms]
    assert metrics.chance_ndcg(gold) == pytest.approx(float(np.mean(ndcgs)))
    assert metrics.chance_top1(gold) == pytest.approx(float(np.mean(tops)))
    assert float(np.mean(accs)) == pytest.approx(0.5)
    assert float(np.mean(taus)) == pytest.approx(0.0, abs=1e-12)


def test_chance_covers_the_lists_of_the_default_row() -> None:
    from judge.bench.aggregate import breakdown

    records = [_record({"a": 2, "b": 1, "c": 0}, scores={"a": 9, "b": 5, "c": 1}),
               _record({"a": 1, "b": 0}, scores={"a": 1, "b": 2}),
               _record({"x": 5, "y": 0}, status="unparsed"),           # not in default: out
               _record({"a": 1, "b": 1}, scores={"a": 1, "b": 2})]     # all-equal: no pairs
    default = breakdown(records, resamples=0)["overall"]
    chance = breakdown(records, chance=True, resamples=0)["overall"]
    assert chance["lists"] == default["judged"] == 3
    assert chance["pairs"] == default["pairs"] == 4
    assert chance["accuracy"]["value"] == pytest.approx(50.0)
    assert chance["tau"]["value"] == pytest.approx(0.0)
    expected = (metrics.chance_ndcg([2, 1, 0]) + metrics.chance_ndcg([1, 0])) / 2
    assert chance["ndcg"]["value"] == pytest.approx(100 * expected)
    assert chance["top1"]["value"] == pytest.approx(100 * (1 / 3 + 1 / 2) / 2)
    assert chance["variance"]["value"] is None

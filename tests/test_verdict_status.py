"""A verdict is usable only with complete scores and a ranking that agrees with them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judge import Judge
from judge.backends.scripted import ScriptedBackend
from judge.types import STATUSES, USABLE_STATUSES, Generation, GenerationRequest, Judgment

ITEM = {"prompt": "q", "responses": {"a": "first", "b": "second", "c": "third"}}


def shown_ids(req: GenerationRequest) -> list[str]:
    user = next(m for m in req.messages if m.role == "user")
    return list(json.loads(user.content)["responses"])


def good(req: GenerationRequest) -> str:
    ids = shown_ids(req)
    return json.dumps({"scores": {m: 5 - n for n, m in enumerate(ids)}, "best-to-worst": ids})


def contradicting(req: GenerationRequest) -> str:
    ids = shown_ids(req)
    return json.dumps({"scores": {m: 1 + n for n, m in enumerate(ids)}, "best-to-worst": ids})


def garbage(req: GenerationRequest) -> str:
    return "I cannot decide."


def failing(req: GenerationRequest) -> Generation:
    return Generation(error="server said 500")


def judge_with(*kinds, shuffle: bool = True) -> Judgment:
    replies = iter(kinds)
    backend = ScriptedBackend(lambda req: next(replies)(req))
    return Judge(backend, principle="Prefer correct answers.", permutations=len(kinds),
                 shuffle=shuffle).rank([ITEM])[0]


def assert_agrees(j: Judgment) -> None:
    assert j.scores is not None and j.ranking is not None
    assert sorted(j.ranking) == sorted(j.ids) and set(j.scores) == set(j.ids)
    values = [j.scores[c] for c in j.ranking]
    assert values == sorted(values, reverse=True), (j.scores, j.ranking)


def test_scores_that_contradict_the_ranking_are_inconsistent() -> None:
    j = judge_with(contradicting)
    assert j.status == "inconsistent" and not j.parsed
    assert j.scores is None and j.ranking is None
    assert "ranking_contradicts_scores" in j.flags
    assert any("contradicts" in p for p in j.problems)


def test_tied_scores_without_a_ranking_get_one_that_agrees() -> None:
    backend = ScriptedBackend(['{"scores": {"model-1": 3, "model-2": 3, "model-3": 1}}'])
    j = Judge(backend, principle="Prefer correct answers.", shuffle=False).rank([ITEM])[0]
    assert j.status == "repaired" and j.ranking == ["a", "b", "c"]
    assert_agrees(j)


@pytest.mark.parametrize(("kinds", "status"), [
    ((good, good, good), "ok"),
    ((good, garbage, good), "partial"),
    ((contradicting, good, good), "partial"),
    ((failing, good, good), "partial"),
    ((garbage, garbage, garbage), "unparsed"),
    ((garbage, contradicting, failing), "inconsistent"),
    ((failing, failing, failing), "backend_error"),
    ((garbage, failing, failing), "unparsed"),
])
def test_permutation_status_rule(kinds, status: str) -> None:
    j = judge_with(*kinds)
    assert j.status == status, j.problems
    usable = sum(k is good for k in kinds)
    assert j.parsed_runs == usable and j.runs == len(kinds)
    if status in USABLE_STATUSES:
        assert_agrees(j)
    else:
        assert j.scores is None and j.ranking is None
    if status == "partial":
        assert any(f"{len(kinds) - usable} of {len(kinds)} permutation runs failed" in p
                   for p in j.problems)


def test_runs_that_disagree_still_give_a_ranking() -> None:
    def first_wins(req: GenerationRequest) -> str:
        ids = shown_ids(req)
        return json.dumps({"scores": {m: 5 - n for n, m in enumerate(ids)}, "best-to-worst": ids})

    j = Judge(ScriptedBackend(first_wins), principle="Prefer correct answers.",
              permutations=3).rank([ITEM])[0]
    assert j.status == "ok" and j.consistency is not None and j.consistency < 1
    assert_agrees(j)


REPLIES = st.sampled_from([good, contradicting, garbage, failing])


@settings(max_examples=60, deadline=None)
@given(st.lists(REPLIES, min_size=1, max_size=4), st.booleans())
def test_status_invariants(kinds, shuffle: bool) -> None:
    j = judge_with(*kinds, shuffle=shuffle)
    assert j.status in STATUSES
    assert (j.status in USABLE_STATUSES) == (j.scores is not None) == (j.ranking is not None)
    usable = sum(k is good for k in kinds)
    if j.parsed:
        assert_agrees(j)
    assert (j.status == "partial") == (0 < usable < len(kinds))
    assert (j.status in ("ok", "repaired")) == (usable == len(kinds))

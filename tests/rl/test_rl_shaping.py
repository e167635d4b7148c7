"""Reward shaping: score-to-reward mappings, the length penalty, per-principle weights."""

from __future__ import annotations

import json
import statistics

import pytest
from helpers.labelfakes import fake_backend, verdict

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.errors import ConfigError
from judge.label.normalize import normalize_scores
from judge.principles import resolve_principle
from judge.rl import Reward, RewardGroup
from judge.rl.shaping import map_scores
from judge.types import GenerationRequest

# Lengths 1, 9, 17, 33 characters: the fake judge scores them 1, 2, 3, 5.
GROUP = ["a", "a" * 9, "a" * 17, "a" * 33]


@pytest.mark.parametrize(("mode", "expected"), [
    ("none", [1.0, 2.0, 3.0, 5.0]),
    ("minmax", [0.0, 0.25, 0.5, 1.0]),
    ("group-rank", [0.0, 1 / 3, 2 / 3, 1.0]),
    ("group-centered", [-1.0, -1 / 3, 1 / 3, 1.0]),
    ("group-z", [(s - 2.75) / statistics.pstdev([1, 2, 3, 5]) for s in (1, 2, 3, 5)]),
])
def test_mappings(text_judge, mode, expected):
    reward = Reward(text_judge, on_failure="none", normalize=mode)
    assert reward.score_groups([RewardGroup("q", GROUP)])[0] == pytest.approx(expected)


def test_centered_is_built_on_the_shared_rank_mapping():
    scores = [4.0, 1.0, 4.0, 2.0]  # ties share their average rank
    assert map_scores(scores, "group-centered") == pytest.approx(
        [2 * r - 1 for r in normalize_scores(scores, "group-rank")])
    assert sum(map_scores(scores, "group-centered")) == pytest.approx(0.0)
    assert map_scores([3.0], "group-centered") == [0.0]


def test_length_penalty_after_the_mapping(text_judge):
    reward = Reward(text_judge, on_failure="none", normalize="group-rank", length_penalty=0.01,
                    length_free=9)
    out = reward.score_groups([RewardGroup("q", GROUP)])[0]
    assert out == pytest.approx([0.0, 1 / 3, 2 / 3 - 0.08, 1.0 - 0.24])
    body = {"query": ["q" + t for t in GROUP], "prompts": ["q"] * 4}
    assert reward.openrlhf(body)["scores"][0] == pytest.approx(0.5)  # unbounded now: logistic


def test_failures_are_not_shaped():
    reward = Reward(Judge(fake_backend(), principle="Be brief."), on_failure=-1.0,
                    normalize="group-centered", length_penalty=1.0)
    assert reward.score_groups([RewardGroup("UNPARSABLE", ["a" * 50, "b"])]) == [[-1.0, -1.0]]


def test_principle_weights_judge_every_principle_and_average():
    def by_principle(request: GenerationRequest) -> str:
        data = json.loads(request.messages[-1].content)
        if "longer" in data["principle"]:
            return verdict(request)
        ids = list(data["responses"])  # "shorter": the reverse order of the fake's
        flipped = {m: 6 - s for m, s in json.loads(verdict(request))["scores"].items()}
        return json.dumps({"scores": flipped, "best-to-worst":
                           sorted(ids, key=lambda m: -flipped[m])})

    backend = ScriptedBackend(by_principle)
    reward = Reward(Judge(backend), on_failure="none", normalize="group-rank",
                    principle_weights={"Prefer longer answers.": 3, "Prefer shorter answers.": 1})
    out = reward.score_groups([RewardGroup("q", ["a", "a" * 40])])[0]
    assert out == pytest.approx([0.25, 0.75])  # 3·(0, 1) + 1·(1, 0), over 4
    assert len(backend.requests) == 2  # one listwise call per principle
    assert reward.stats.by_status["ok"] == 2 and reward.stats.groups == 1


def test_principle_weights_failure_under_any_fails_the_group():
    reward = Reward(Judge(fake_backend()), on_failure="none",
                    principle_weights={"correct-then-concise": 1, "no-sycophancy": 1})
    assert reward.score_groups([RewardGroup("UNPARSABLE", ["a", "b"])]) == [[None, None]]
    assert reward.stats.failed == 2 and reward.stats.by_status["unparsed"] == 2
    shown = [json.loads(r.messages[-1].content)["principle"]
             for r in reward.judge.backend.requests]
    assert shown == [resolve_principle(p).text for p in ("correct-then-concise",
                                                         "no-sycophancy")]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"normalize": "rank"}, "group-centered"),
    ({"length_penalty": -0.1}, "length_penalty"),
    ({"length_free": 2.5}, "length_free"),
    ({"principle_weights": {}}, "at least one"),
    ({"principle_weights": {"no-sycophancy": 0}}, r"principle_weights\['no-sycophancy'\]"),
    ({"principle_weights": {"no-sycophancy": 1}, "principle": "Be brief."}, "not both"),
])
def test_bad_shaping_options_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Reward(Judge(fake_backend()), on_failure="none", **kwargs)


def test_weights_refuse_a_per_sample_principle(text_judge):
    reward = Reward(text_judge, on_failure="none", principle_weights={"no-sycophancy": 1})
    with pytest.raises(ConfigError, match="principle_column=None"):
        reward(prompts=["q"], completions=["a"], principle=["Be brief."])
    ignoring = Reward(text_judge, on_failure="none", principle_weights={"no-sycophancy": 1},
                      principle_column=None)
    assert ignoring(prompts=["q"], completions=["a"], principle=["Be brief."]) == [1.0]

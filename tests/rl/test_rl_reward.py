"""The Reward object: grouping, batching, failure policies, counters, TRL call shapes."""

from __future__ import annotations

import json

import pytest
from helpers.labelfakes import LengthHead, text_score, verdict

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.errors import BackendUnavailable, ConfigError
from judge.principles import resolve_principle
from judge.rl import GroupSplitWarning, Reward, RewardError, RewardGroup


def shown(backend: ScriptedBackend) -> list[dict]:
    return [json.loads(r.messages[-1].content) for r in backend.requests]


def test_groups_are_judged_listwise_and_batched(text_judge):
    reward = Reward(text_judge, on_failure="none")
    out = reward.score_groups([
        RewardGroup("q1", ["a", "a" * 20, "a" * 40]),
        ("no-sycophancy", "q2", ["b" * 9]),
        {"prompt": "q3", "responses": ["c", "c" * 30], "principle": "Prefer short answers."},
    ])
    assert out == [[1.0, 3.0, 5.0], [2.0], [1.0, 4.0]]
    requests = shown(text_judge.backend)
    assert [len(r.get("responses", {"_": 0})) for r in requests] == [3, 1, 2]
    assert "response" in requests[1]  # a group of one is scored pointwise
    assert requests[1]["principle"] == resolve_principle("no-sycophancy").text
    assert requests[2]["principle"] == "Prefer short answers."
    assert reward.stats.as_dict() == {"calls": 1, "groups": 3, "samples": 6, "scored": 6,
                                      "failed": 0, "fallback": 0, "none": 0,
                                      "split_groups": 0, "by_status": {"ok": 3}}


def test_head_scores_all_groups_in_one_batch(head_judge):
    reward = Reward(head_judge, on_failure="none", normalize="group-z")
    out = reward.score_groups([RewardGroup("q", ["a", "aaa"]), RewardGroup("r", ["x"])])
    assert out[0] == pytest.approx([-1.0, 1.0]) and out[1] == [0.0]
    assert len(head_judge.backend.calls) == 1 and len(head_judge.backend.calls[0]) == 2


@pytest.mark.parametrize(("policy", "expected", "counter"), [
    ("none", [None, None], "none"),
    ("skip", [None, None], "none"),
    (-1.0, [-1.0, -1.0], "fallback"),
    ("0.5", [0.5, 0.5], "fallback"),
])
def test_failure_policies(policy, expected, counter):
    reward = Reward(Judge(ScriptedBackend(verdict), principle="Be brief."), on_failure=policy)
    out = reward.score_groups([RewardGroup("UNPARSABLE", ["a", "b"]),
                               RewardGroup("BACKEND_ERROR", ["a"]), RewardGroup("ok", ["a"])])
    assert out == [expected, expected[:1], [1.0]]
    st = reward.stats
    assert st.failed == 3 and st.scored == 1 and getattr(st, counter) == 3
    assert dict(st.by_status) == {"unparsed": 1, "backend_error": 1, "ok": 1}


def test_raise_policy_names_the_problem():
    reward = Reward(Judge(ScriptedBackend(verdict), principle="Be brief."), on_failure="raise")
    with pytest.raises(RewardError, match="unparsed"):
        reward.score_groups([RewardGroup("UNPARSABLE", ["a", "b"])])


def test_whole_backend_failure_follows_the_policy():
    def down(request):
        raise BackendUnavailable("connection refused")

    reward = Reward(Judge(ScriptedBackend(down), principle="Be brief."), on_failure=0.0)
    assert reward.score_groups([RewardGroup("q", ["a", "b"])]) == [[0.0, 0.0]]
    assert reward.stats.by_status["backend_error"] == 1
    strict = Reward(Judge(ScriptedBackend(down), principle="Be brief."), on_failure="raise")
    with pytest.raises(BackendUnavailable):
        strict.score_groups([RewardGroup("q", ["a"])])


def test_on_failure_must_be_chosen():
    with pytest.raises(TypeError):
        Reward(Judge(ScriptedBackend(verdict), principle="Be brief."))  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="on_failure"):
        Reward(Judge(ScriptedBackend(verdict), principle="Be brief."), on_failure="zero")


def test_trl_call_groups_consecutive_prompts_and_reads_columns(text_judge):
    reward = Reward(text_judge, on_failure="none", name="my_judge")
    metrics = []
    prompts = [[{"role": "user", "content": "q1"}]] * 2 + ["q2"] * 3 + ["q1"]
    completions = [[{"role": "assistant", "content": t}] for t in
                   ["a", "a" * 9, "b" * 17, "b", "b" * 40, "c"]]
    principle = ["no-sycophancy"] * 2 + [None] * 3 + ["no-sycophancy"]
    with pytest.warns(GroupSplitWarning):  # uneven runs at both ends look like split groups
        out = reward(prompts=prompts, completions=completions, completion_ids=[[1]] * 6,
                     principle=principle, trainer_state=object(),
                     log_metric=lambda name, value: metrics.append((name, value)))
    assert out == [float(text_score(t)) for t in ["a", "a" * 9, "b" * 17, "b", "b" * 40, "c"]]
    requests = shown(text_judge.backend)
    assert [r["prompt"] for r in requests] == ["q1", "q2", "q1"]  # runs, not a global group-by
    assert [len(r.get("responses", [0])) for r in requests] == [2, 3, 1]
    assert requests[1]["principle"] == resolve_principle("correct-then-concise").text
    assert reward.__name__ == "my_judge"
    assert dict(metrics)["my_judge/failed_frac"] == 0.0
    assert dict(metrics)["my_judge/status_ok"] == 6.0


def test_trl_group_size_cuts_runs(text_judge):
    reward = Reward(text_judge, on_failure="none", group_size=2)
    assert reward(prompts=["q"] * 4, completions=["a", "bb", "c", "dd"]) == [1.0] * 4
    assert [len(r["responses"]) for r in shown(text_judge.backend)] == [2, 2]
    for bad in (0, 2.0, True):
        with pytest.raises(ConfigError, match="group_size"):
            Reward(text_judge, on_failure="none", group_size=bad)


def test_principle_required_somewhere():
    reward = Reward(Judge(ScriptedBackend(verdict)), on_failure="none")
    with pytest.raises(ConfigError, match="no principle"):
        reward(prompts=["q"], completions=["a"])
    assert reward(prompts=["q"], completions=["a"], principle=["no-sycophancy"]) == [1.0]
    default = Reward(Judge(ScriptedBackend(verdict)), on_failure="none", principle="Be brief.")
    assert default(prompts=["q"], completions=["a"]) == [1.0]


def test_reward_from_a_spec_string(tmp_path):
    replies = tmp_path / "r.jsonl"
    replies.write_text(json.dumps('{"score": 3}') + "\n", encoding="utf-8")
    reward = Reward(f"scripted:{replies}", on_failure="none", principle="no-sycophancy",
                    judge_options={"backend_options": {"cycle": True}, "seed": 2})
    assert reward(prompts=["q", "r"], completions=["a", "b"]) == [3.0, 3.0]
    assert reward.judge.seed == 2
    assert LengthHead  # shared fake, used in the head tests above


def test_a_partial_verdict_is_reported_as_partial_not_ok() -> None:
    good = json.dumps({"scores": {"model-1": 5, "model-2": 1},
                       "best-to-worst": ["model-1", "model-2"]})
    judge = Judge(ScriptedBackend([good, "no verdict here"]), principle="Be brief.",
                  permutations=2)
    (outcome,) = Reward(judge, on_failure="none").judge_groups(
        [RewardGroup("q", ["a", "b"])])
    assert outcome.status == "partial" and not outcome.failed
    assert outcome.rewards is not None and len(outcome.rewards) == 2

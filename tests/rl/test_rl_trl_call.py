"""The TRL call contract without a trainer: one listwise call per group, split groups,
status logging, ``None`` on failure, and the async face TRL detects."""

from __future__ import annotations

import asyncio
import json
import threading
import warnings

import pytest
from helpers.labelfakes import fake_backend, text_score, verdict

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.rl import AsyncReward, GroupSplitWarning, Reward
from judge.rl.groups import STATUSES
from judge.types import Generation, GenerationRequest


def shown(backend: ScriptedBackend) -> list[dict]:
    return [json.loads(r.messages[-1].content) for r in backend.requests]


def test_a_group_of_eight_is_one_listwise_call():
    backend = fake_backend()
    reward = Reward(Judge(backend, principle="correct-then-concise"), on_failure="none",
                    group_size=8)
    completions = ["x" * (5 * n + 1) for n in range(8)]
    out = reward(prompts=["Explain GRPO."] * 8, completions=completions)
    assert out == [float(text_score(c)) for c in completions]
    assert len(backend.requests) == 1  # one judge request for the group, not 8
    assert sorted(shown(backend)[0]["responses"].values()) == sorted(completions)


def test_failed_samples_are_none_and_counted_through_log_metric():
    backend = fake_backend()
    reward = Reward(Judge(backend, principle="Be brief."), on_failure="none", name="j")
    metrics: list[tuple[str, float]] = []
    extra: dict[str, list] = {}
    prompts = ["ok"] * 2 + ["UNPARSABLE"] * 2 + ["BACKEND_ERROR"] * 2 + ["fine"] * 2
    out = reward(prompts=prompts, completions=["a", "bbbbbbbbbb"] * 4,
                 log_metric=lambda name, value: metrics.append((name, value)),
                 log_extra=lambda column, values: extra.setdefault(column, []).extend(values))
    assert out == [1.0, 2.0, None, None, None, None, 1.0, 2.0]
    logged = dict(metrics)
    per_status = {"ok": 4.0, "unparsed": 2.0, "backend_error": 2.0}
    assert logged == {"j/failed_frac": 0.5, "j/fallback": 0.0, "j/none": 4.0,
                      "j/split_groups": 0.0,
                      **{f"j/status_{s}": per_status.get(s, 0.0) for s in STATUSES}}
    assert extra == {"j_status": ["ok"] * 2 + ["unparsed"] * 2 + ["backend_error"] * 2
                     + ["ok"] * 2}
    numeric = Reward(Judge(fake_backend(), principle="Be brief."), on_failure=-1, name="n")
    metrics.clear()
    assert numeric(prompts=["UNPARSABLE"] * 2, completions=["a", "b"],
                   log_metric=lambda name, value: metrics.append((name, value))) == [-1.0, -1.0]
    assert dict(metrics)["n/fallback"] == 2.0 and dict(metrics)["n/none"] == 0.0


def test_a_group_split_across_processes_is_warned_once_with_the_fix(text_judge):
    reward = Reward(text_judge, on_failure="none", group_size=4)
    metrics: list[tuple[str, float]] = []
    # The slice one process got: the tail of group q1, group q2, the head of group q3.
    prompts = ["q1"] * 2 + ["q2"] * 4 + ["q3"] * 2
    with pytest.warns(GroupSplitWarning, match=r"scores per call\) a multiple of "
                      "num_generations") as caught:
        out = reward(prompts=prompts, completions=["a"] * 8,
                     log_metric=lambda name, value: metrics.append((name, value)))
    assert len(caught) == 1 and "completions 0-1" in str(caught[0].message)
    assert "exact check" not in str(caught[0].message)  # group_size is already set
    assert out == [1.0] * 8  # still judged: the parts are ranked on their own
    assert [len(s["responses"]) for s in shown(text_judge.backend)] == [2, 4, 2]
    assert reward.stats.split_groups == 2 and dict(metrics)["judge_reward/split_groups"] == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reward(prompts=prompts, completions=["a"] * 8)  # once per reward, not per call
    assert reward.stats.split_groups == 4


def test_a_split_group_is_noticed_without_group_size(text_judge):
    reward = Reward(text_judge, on_failure="none")
    with pytest.warns(GroupSplitWarning, match="where others have 4.*group_size=num_gen"):
        reward(prompts=["q1"] * 2 + ["q2"] * 4 + ["q3"] * 2, completions=["a"] * 8)
    whole = Reward(text_judge, on_failure="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole(prompts=["q1"] * 4 + ["q2"] * 4, completions=["a"] * 8)
    assert whole.stats.split_groups == 0


def test_trl_detects_the_async_face_and_names_it(text_judge):
    trl_utils = pytest.importorskip("trl.trainer.utils")
    reward = Reward(text_judge, on_failure="none", name="judge_async")
    face = AsyncReward(reward)
    assert trl_utils.is_async_callable(face) and not trl_utils.is_async_callable(reward)
    assert trl_utils.get_callable_name(face) == "judge_async"
    assert asyncio.run(face(prompts=["q", "q"], completions=["a", "a" * 20])) == [1.0, 3.0]
    assert face.stats is reward.stats and reward.stats.calls == 1
    with pytest.raises(TypeError, match="wraps a Reward"):
        AsyncReward(text_judge)  # type: ignore[arg-type]


def test_the_async_face_does_not_block_the_event_loop():
    """The judge waits until a coroutine on the same loop has run: with a blocked loop it
    would time out and answer garbage, which becomes ``None``."""
    loop_ran = threading.Event()

    def slow_judge(request: GenerationRequest) -> str | Generation:
        if not loop_ran.wait(timeout=30):
            return "the event loop was blocked"
        return verdict(request)

    face = AsyncReward(Reward(Judge(ScriptedBackend(slow_judge), principle="Be brief."),
                              on_failure="none"))

    async def other_work() -> None:
        await asyncio.sleep(0)
        loop_ran.set()

    async def main() -> list:
        rewards, _ = await asyncio.gather(face(prompts=["q"] * 2, completions=["a", "b" * 9]),
                                          other_work())
        return rewards

    assert asyncio.run(main()) == [1.0, 2.0]

"""veRL's custom reward function, called the way veRL's reward managers call it."""

from __future__ import annotations

import importlib.util
import json

import pytest

from judge.errors import ConfigError, InputError
from judge.rl import verl

LISTWISE = json.dumps({"scores": {"model-1": 5, "model-2": 1},
                       "best-to-worst": ["model-1", "model-2"]})


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    for name in ("JUDGE_REWARD_BACKEND", "JUDGE_REWARD_PRINCIPLE", "JUDGE_REWARD_ON_FAILURE",
                 "JUDGE_REWARD_NORMALIZE", "JUDGE_REWARD_BACKEND_OPTIONS"):
        monkeypatch.delenv(name, raising=False)
    verl.clear_cache()
    yield
    verl.clear_cache()


def scripted(tmp_path, replies: list[str]) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in replies), encoding="utf-8")
    return f"scripted:{path}"


def load_like_verl(reward_kwargs: dict):
    """What veRL's ``get_custom_reward_fn`` does with ``custom_reward_function.path/name``."""
    spec = importlib.util.spec_from_file_location("custom_module", verl.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raw_fn = module.compute_score

    def wrapped_fn(*args, **kwargs):
        return raw_fn(*args, **kwargs, **reward_kwargs)

    return wrapped_fn, module


def test_per_sample_call_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_REWARD_BACKEND", scripted(tmp_path, ['{"score": 4}']))
    monkeypatch.setenv("JUDGE_REWARD_BACKEND_OPTIONS", '{"cycle": true}')
    monkeypatch.setenv("JUDGE_REWARD_PRINCIPLE", "correct-then-concise")
    monkeypatch.setenv("JUDGE_REWARD_ON_FAILURE", "0")
    fn, module = load_like_verl({})
    # NaiveRewardManager: keyword arguments, one sample.
    score = fn(data_source="gsm8k", solution_str="4", ground_truth="4",
               extra_info={"prompt": "What is 2+2?", "index": 0})
    assert score == 4.0 and isinstance(score, float)
    reward = module.get_reward()
    assert reward.stats.scored == 1 and reward.judge.principle.id == "correct-then-concise"
    request = reward.judge.backend.requests[0]
    assert json.loads(request.messages[-1].content)["prompt"] == "What is 2+2?"


def test_batch_call_ranks_each_prompts_rollouts_together(tmp_path):
    fn, module = load_like_verl({"backend": scripted(tmp_path, [LISTWISE]),
                                 "backend_options": {"cycle": True}, "on_failure": -1.0,
                                 "principle": "no-sycophancy"})
    infos = [{"prompt": "q1"}, {"prompt": "q1"}, {"question": "q2", "principle": "Be brief."},
             {"question": "q2", "principle": "Be brief."}]
    # BatchRewardManager: whole lists as keyword arguments.
    scores = fn(data_sources=["d"] * 4, solution_strs=["a", "b", "c", "d"],
                ground_truths=[None] * 4, extra_infos=infos)
    assert scores == [5.0, 1.0, 5.0, 1.0]
    shown = [json.loads(r.messages[-1].content)
             for r in module.get_reward(**_kw(tmp_path)).judge.backend.requests]
    assert [len(s["responses"]) for s in shown] == [2, 2]
    assert shown[1]["principle"] == "Be brief."


def _kw(tmp_path):
    return {"backend": f"scripted:{tmp_path / 'replies.jsonl'}",
            "backend_options": {"cycle": True}, "on_failure": -1.0,
            "principle": "no-sycophancy"}


def test_failures_use_the_number_and_are_counted(tmp_path):
    kwargs = {"backend": scripted(tmp_path, ["not a verdict"]), "on_failure": -1,
              "principle": "no-sycophancy"}
    assert verl.compute_score("d", "x", None, {"prompt": "q"}, **kwargs) == -1.0
    stats = verl.get_reward(**kwargs).stats
    assert stats.failed == 1 and stats.fallback == 1 and stats.by_status["unparsed"] == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "JUDGE_REWARD_ON_FAILURE"),
    ({"on_failure": "none"}, "needs a number"),
    ({"on_failure": "skip"}, "needs a number"),
    ({"on_failure": 0, "backend_options": "{bad"}, "JSON object"),
])
def test_configuration_errors(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        verl.compute_score("d", "x", None, {"prompt": "q"},
                           backend=scripted(tmp_path, ['{"score": 1}']), **kwargs)


def test_missing_prompt_is_explained(tmp_path):
    kwargs = {"backend": scripted(tmp_path, ['{"score": 1}']), "on_failure": 0,
              "principle": "no-sycophancy"}
    with pytest.raises(InputError, match="extra_info has no prompt"):
        verl.compute_score("d", "x", None, {"index": 3}, **kwargs)
    with pytest.raises(InputError, match=r"extra_infos\[1\]"):
        verl.compute_score(solution_strs=["a", "b"], extra_infos=[{"prompt": "q"}, None],
                           **kwargs)

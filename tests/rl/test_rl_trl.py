"""A real TRL GRPO run on CPU with a tiny local policy, rewarded by the toolkit."""

from __future__ import annotations

import json
import math

import pytest
from helpers.labelfakes import LengthHead, fake_backend, text_score, verdict

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.principles import resolve_principle
from judge.rl import AsyncReward, Reward

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

PROMPTS = ["What is 2+2?", "Name a colour.", "Say hi.", "Count to three."]
PRINCIPLES = ["correct-then-concise", "no-sycophancy", "correct-then-concise",
              "Prefer longer answers."]


class RecordingReward(Reward):
    """A Reward that remembers what TRL passed in and what it returned."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[dict] = []

    def __call__(self, prompts, completions, **kwargs):
        out = super().__call__(prompts, completions, **kwargs)
        self.calls.append({"prompts": list(prompts), "completions": list(completions),
                           "keys": sorted(kwargs), "rewards": out})
        return out


def judged_groups(kind: str, backend) -> list[tuple[str, str, int]]:
    """(principle text, prompt, group size) of every group the judge saw."""
    if kind == "head":
        return [(p, q, len(r)) for call in backend.calls for p, q, r in call]
    shown = [json.loads(r.messages[-1].content) for r in backend.requests]
    return [(s["principle"], s["prompt"], len(s["responses"])) for s in shown]


@pytest.mark.parametrize("kind", ["scripted", "head"])
def test_grpo_logs_the_rewards_the_toolkit_computed(tiny_model_dir, tmp_path, kind):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    backend = fake_backend() if kind == "scripted" else LengthHead()
    expected = (lambda c: float(text_score(c))) if kind == "scripted" else \
        (lambda c: len(c) / 10)
    reward = RecordingReward(Judge(backend, principle="correct-then-concise"),
                             on_failure="none", name="judge_reward")
    train = datasets.Dataset.from_dict({"prompt": PROMPTS, "principle": PRINCIPLES})
    args = GRPOConfig(output_dir=str(tmp_path / "run"), max_steps=2, learning_rate=1e-4,
                      per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=8, logging_steps=1, report_to=[], use_cpu=True,
                      save_strategy="no", seed=0, temperature=1.0, disable_tqdm=True)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=train,
                          processing_class=tokenizer)
    trainer.train()

    assert len(reward.calls) == 2  # one reward call per step (one generation batch each)
    last = reward.calls[-1]
    # TRL's own per-completion log of the last batch holds exactly what the reward returned.
    assert list(trainer._logs["rewards"]["judge_reward"]) == pytest.approx(last["rewards"])
    assert list(trainer._logs["completion"]) == last["completions"]
    # The mean TRL logs for each step is the mean of the rewards the toolkit returned.
    logged = [h["rewards/judge_reward/mean"] for h in trainer.state.log_history
              if "rewards/judge_reward/mean" in h]
    assert logged == pytest.approx([sum(c["rewards"]) / len(c["rewards"])
                                    for c in reward.calls])
    for call in reward.calls:
        # The rewards are the judge's verdicts on those very completions.
        assert call["rewards"] == pytest.approx([expected(c) for c in call["completions"]])
        assert "principle" in call["keys"] and "completion_ids" in call["keys"]
    # Each prompt's generations were judged together (listwise), under the row's principle.
    groups = judged_groups(kind, backend)
    assert len(groups) == sum(len(c["prompts"]) // 2 for c in reward.calls)
    by_prompt = dict(zip(PROMPTS, PRINCIPLES, strict=True))
    for principle, prompt, size in groups:
        assert size == 2 and principle == resolve_principle(by_prompt[prompt]).text
    assert reward.stats.failed == 0
    assert reward.stats.scored == sum(len(c["rewards"]) for c in reward.calls)


@pytest.mark.parametrize("on_failure", ["none", -1.0])
def test_grpo_async_group_rewards_under_20_percent_judge_failures(tiny_model_dir, tmp_path,
                                                                  on_failure):
    """An async group reward through TRL's event loop; every fifth judge reply is garbage."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    replies = {"n": 0, "garbage": 0}

    def flaky(request):
        replies["n"] += 1
        if replies["n"] % 5 == 3:
            replies["garbage"] += 1
            return "Certainly! Here is my verdict: the first one, probably."
        return verdict(request)

    backend = ScriptedBackend(flaky)
    reward = RecordingReward(Judge(backend, principle="correct-then-concise"),
                             on_failure=on_failure, name="judge_reward", group_size=2)
    prompts = [f"Question {n}: name a number." for n in range(10)]
    train = datasets.Dataset.from_dict({"prompt": prompts})
    args = GRPOConfig(output_dir=str(tmp_path / "run"), max_steps=2, learning_rate=1e-4,
                      per_device_train_batch_size=10, num_generations=2,
                      max_completion_length=6, logging_steps=1, report_to=[], use_cpu=True,
                      save_strategy="no", seed=0, temperature=1.0, disable_tqdm=True)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                          reward_funcs=[AsyncReward(reward)], args=args, train_dataset=train,
                          processing_class=AutoTokenizer.from_pretrained(tiny_model_dir))
    assert trainer._has_async_funcs  # TRL took the async path
    trainer.train()

    assert trainer.state.global_step == 2  # the steps completed
    assert len(backend.requests) == 10 and replies["garbage"] == 2  # 5 groups per step, 20 %
    fallback = None if on_failure == "none" else -1.0
    for call in reward.calls:
        assert len(call["rewards"]) == len(call["completions"]) == 10
        for r, c in zip(call["rewards"], call["completions"], strict=True):
            assert r == fallback or r == float(text_score(c))  # a verdict or the flagged value
    failed = [r for call in reward.calls for r in call["rewards"] if r == fallback]
    assert len(failed) == 4  # two failed groups of two
    st = reward.stats
    assert st.failed == 4 and st.scored == 16 and st.by_status["unparsed"] == 2
    assert (st.none if on_failure == "none" else st.fallback) == 4
    # TRL's own log of the last batch: NaN where the reward was None, the number otherwise.
    logged = list(trainer._logs["rewards"]["judge_reward"])
    last = reward.calls[-1]["rewards"]
    assert [math.isnan(x) for x in logged] == [r is None for r in last]
    # The failure counts reached TRL's logs, per step, through log_metric.
    history = [h for h in trainer.state.log_history if "judge_reward/status_unparsed" in h]
    per_call = [sum(r == fallback for r in call["rewards"]) for call in reward.calls]
    assert [h["judge_reward/status_unparsed"] for h in history] == pytest.approx(per_call)
    key = "judge_reward/none" if on_failure == "none" else "judge_reward/fallback"
    assert [h[key] for h in history] == pytest.approx(per_call)
    assert [h["judge_reward/failed_frac"] for h in history] == pytest.approx(
        [n / 10 for n in per_call])
    assert list(trainer._logs["extra"]["judge_reward_status"]).count("unparsed") == per_call[-1]

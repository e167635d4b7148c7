"""veRL's custom reward function, loaded by veRL's loader from the README's config and called
the way veRL 0.9's reward managers call it (see verlloader.py for what is veRL's own code)."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import threading
from pathlib import Path

import pytest
import yaml
from helpers.verlloader import columns, get_custom_reward_fn, run_single, verl_dir

from judge.backends.scripted import ScriptedBackend
from judge.errors import ConfigError, InputError
from judge.rl import Reward, verl
from judge.types import Generation

README = Path(__file__).resolve().parents[2] / "README.md"
ENV = ("JUDGE_REWARD_BACKEND", "JUDGE_REWARD_PRINCIPLE", "JUDGE_REWARD_ON_FAILURE",
       "JUDGE_REWARD_NORMALIZE", "JUDGE_REWARD_BACKEND_OPTIONS")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    verl.clear_cache()
    yield
    verl.clear_cache()


def readme_config() -> dict:
    """The veRL YAML block of the README."""
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    found = [yaml.safe_load(b) for b in blocks if "judge.rl.verl" in b]
    assert len(found) == 1, "the README should hold one veRL config block"
    return found[0]


def config_with(backend: str, *, name: str = "compute_score", **kwargs) -> dict:
    """The README's config, with a test backend in place of the head."""
    config = readme_config()
    fn = config["reward"]["custom_reward_function"]
    fn["name"] = name
    fn["reward_kwargs"] = {**fn["reward_kwargs"], "backend": backend, **kwargs}
    return config


def scripted(tmp_path, reply) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text(json.dumps(reply) + "\n", encoding="utf-8")
    return f"scripted:{path}"


def score(fn, response: str, info: dict) -> dict:
    return asyncio.run(run_single(fn, data_source="gsm8k", solution_str=response,
                                  ground_truth="4", extra_info=info))


def test_readme_config_loads_our_function(tmp_path):
    config = config_with(scripted(tmp_path, '{"score": 4}'), backend_options={"cycle": True})
    assert config["reward"]["custom_reward_function"]["path"] == "pkg://judge.rl.verl"
    fn, loader = get_custom_reward_fn(config)
    assert not inspect.iscoroutinefunction(fn)
    out = score(fn, "4", {"prompt": "What is 2+2?", "index": 0})
    assert out == {"reward_score": 4.0,
                   "reward_extra_info": {"score": 4.0, "judge_failed": 0.0}}
    reward = verl.get_reward(**config["reward"]["custom_reward_function"]["reward_kwargs"])
    assert reward.judge.principle.id == "correct-then-concise"  # from the README's kwargs
    shown = json.loads(reward.judge.backend.requests[0].messages[-1].content)
    assert shown["prompt"] == "What is 2+2?" and shown["response"] == "4"
    print(f"loaded by the {loader} loader")


def test_a_file_path_loads_too(tmp_path):
    config = config_with(scripted(tmp_path, '{"score": 2}'), backend_options={"cycle": True})
    config["reward"]["custom_reward_function"]["path"] = verl.__file__
    fn, _ = get_custom_reward_fn(config)
    assert fn.args[0].__module__ != "judge.rl.verl"  # veRL loaded the file as its own module
    assert score(fn, "x", {"prompt": "q"})["reward_extra_info"] == {"score": 2.0,
                                                                    "judge_failed": 0.0}


def test_readme_config_sits_where_verl_reads_it():
    root = verl_dir()
    if root is None:
        pytest.skip("veRL's files are not installed (it needs ray): the replica loader stands in")
    generated = yaml.safe_load((root / "trainer/config/_generated_ppo_trainer.yaml")
                               .read_text(encoding="utf-8"))
    ours = readme_config()["reward"]["custom_reward_function"]
    assert set(generated["reward"]["custom_reward_function"]) <= set(ours)
    main_ppo = (root / "trainer/main_ppo.py").read_text(encoding="utf-8")
    assert "migrate_legacy_reward_impl" not in main_ppo  # a top-level block stays ignored


class Unlocked:
    """A generative backend answering with a function, without ScriptedBackend's lock (so
    concurrent judge calls really overlap), like an HTTP judge."""

    name, model, supports_structured, supports_logprobs = "unlocked", None, False, False

    def __init__(self, reply) -> None:
        self.reply = reply

    def generate(self, requests):
        return [Generation(text=self.reply(r), finish_reason="stop") for r in requests]

    def close(self) -> None:
        pass


def replace_backend(config: dict, backend) -> Reward:
    """Build the cached reward for the config's kwargs, with ``backend`` as its judge."""
    reward = verl.get_reward(**config["reward"]["custom_reward_function"]["reward_kwargs"])
    reward.judge.backend = backend
    return reward


def test_async_variant_is_detected_and_runs_samples_concurrently(tmp_path):
    """Four samples wait for each other inside the judge: only concurrent calls get through
    (asyncio's default thread pool has at least 5 workers)."""
    barrier = threading.Barrier(4, timeout=30)

    def together(request):
        barrier.wait()
        return '{"score": 5}'

    config = config_with(scripted(tmp_path, "unused"), name="compute_score_async")
    replace_backend(config, Unlocked(together))
    fn, _ = get_custom_reward_fn(config)
    assert inspect.iscoroutinefunction(fn)  # veRL's manager awaits it on its loop

    async def batch():
        return await asyncio.gather(*(run_single(fn, data_source="d", solution_str=f"r{n}",
                                                 ground_truth=None,
                                                 extra_info={"prompt": "q"})
                                      for n in range(4)))

    outs = asyncio.run(batch())
    assert [o["reward_score"] for o in outs] == [5.0] * 4
    assert columns(outs)["judge_failed"] == [0.0] * 4


def test_failures_get_the_number_flagged_with_the_same_keys(tmp_path):
    def sometimes(request):
        text = json.loads(request.messages[-1].content)["response"]
        return "sorry, no JSON today" if text.startswith("bad") else '{"score": 3}'

    config = config_with(scripted(tmp_path, "unused"), on_failure=-1.0)
    reward = replace_backend(config, ScriptedBackend(sometimes))
    fn, _ = get_custom_reward_fn(config)
    outs = [score(fn, text, {"question": "q"}) for text in ("good", "bad", "good", "bad 2")]
    cols = columns(outs)  # the reward loop's own way: keys of the first sample, read from all
    assert cols == {"score": [3.0, -1.0, 3.0, -1.0], "judge_failed": [0.0, 1.0, 0.0, 1.0]}
    assert reward.stats.failed == 2 and reward.stats.fallback == 2


def test_verls_own_keywords_are_accepted(tmp_path):
    kwargs = {"backend": scripted(tmp_path, '{"score": 2}'), "on_failure": 0,
              "principle": "no-sycophancy"}
    out = verl.compute_score("d", "x", None, {"prompt": "q"}, reward_router_address="h:1",
                             reward_model_tokenizer=None, **kwargs)
    assert out == {"score": 2.0, "judge_failed": 0.0}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "reward_kwargs.on_failure"),
    ({"on_failure": "none"}, "needs a number"),
    ({"on_failure": "skip"}, "needs a number"),
    ({"on_failure": 0, "backend_options": "{bad"}, "JSON object"),
    ({"on_failure": 0, "normalize": "group-z"}, "one sample per call"),
    ({"on_failure": 0, "on_falure": 1}, r"unknown reward_kwargs \['on_falure'\]"),
])
def test_configuration_errors(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        verl.compute_score("d", "x", None, {"prompt": "q"},
                           backend=scripted(tmp_path, '{"score": 1}'), **kwargs)


def test_env_settings_and_missing_prompt(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_REWARD_BACKEND", scripted(tmp_path, '{"score": 5}'))
    monkeypatch.setenv("JUDGE_REWARD_BACKEND_OPTIONS", '{"cycle": true}')
    monkeypatch.setenv("JUDGE_REWARD_PRINCIPLE", "correct-then-concise")
    monkeypatch.setenv("JUDGE_REWARD_ON_FAILURE", "0")
    monkeypatch.setenv("JUDGE_REWARD_NORMALIZE", "minmax")
    assert verl.compute_score("d", "x", None, {"query": "q"}) == {"score": 1.0,
                                                                  "judge_failed": 0.0}
    with pytest.raises(InputError, match="extra_info has no prompt"):
        verl.compute_score("d", "x", None, {"index": 3})
    with pytest.raises(InputError, match="must be a dict"):
        verl.compute_score("d", "x", None, None)

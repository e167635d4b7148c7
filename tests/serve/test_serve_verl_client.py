"""veRL's compute_score with ``server``: loaded by veRL's loader, one POST per sample to a live
group service, a prompt's samples from several workers judged in one listwise call."""

from __future__ import annotations

import asyncio
import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers.serve_helpers import PRINCIPLE, Judged, quality
from helpers.verlloader import get_custom_reward_fn, run_single

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.errors import BackendError, ConfigError
from judge.rl import verl
from judge.serve.app import ServeSettings, create_app
from judge.serve.scorers import scorer_for


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JUDGE_REWARD_SERVER", "JUDGE_REWARD_ON_FAILURE", "JUDGE_REWARD_PRINCIPLE",
                 "JUDGE_SERVE_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _app(judged: Judged, **settings: Any) -> Any:
    judge = Judge(ScriptedBackend(judged.reply), principle=PRINCIPLE)
    return create_app(scorer_for(judge), ServeSettings(principle=PRINCIPLE, **settings))


def _config(name: str, **kwargs: Any) -> dict[str, Any]:
    return {"reward": {"custom_reward_function": {
        "path": "pkg://judge.rl.verl", "name": name, "reward_kwargs": kwargs}}}


RESPONSES = [f"answer {n}, quality {n % 5 + 1}" for n in range(8)]


def test_async_workers_share_one_listwise_call(live_server: Any) -> None:
    judged = Judged()
    with live_server(_app(judged, group_window_ms=60_000)) as base:
        fn, _ = get_custom_reward_fn(_config("compute_score_async", server=base, group_size=8,
                                             on_failure=0.0))
        assert inspect.iscoroutinefunction(fn)

        async def all_samples() -> list[dict[str, Any]]:
            return list(await asyncio.gather(*(
                run_single(fn, data_source="d", solution_str=r, ground_truth=None,
                           extra_info={"prompt": "What is 2+2?", "uid": "u1"})
                for r in RESPONSES)))

        outs = asyncio.run(all_samples())
    assert len(judged.listwise) == 1 and not judged.pointwise
    assert [o["reward_score"] for o in outs] == [quality(r) for r in RESPONSES]
    assert all(set(o["reward_extra_info"]) == {"score", "judge_failed"} for o in outs)


def test_one_pooled_client_per_event_loop(live_server: Any) -> None:
    judged = Judged()
    with live_server(_app(judged, group_size=2, group_window_ms=60_000)) as base:
        async def group(prompt: str) -> tuple[list[dict[str, float]], Any]:
            outs = await asyncio.gather(*(verl.compute_score_async(
                "d", r, None, {"prompt": prompt}, server=base, on_failure=0.0)
                for r in RESPONSES[:2]))
            return list(outs), verl._async_client()

        first, client_a = asyncio.run(group("one?"))
        second, client_b = asyncio.run(group("two?"))      # a new loop gets a client of its own
    assert client_a is not client_b
    assert [o["judge_failed"] for o in first + second] == [0.0] * 4
    assert client_a not in verl._CLIENTS.values()          # the closed loop's client is dropped


def test_sync_workers_group_by_prompt(live_server: Any) -> None:
    judged = Judged()
    with live_server(_app(judged, group_size=8, group_window_ms=60_000)) as base:
        def one(r: str) -> dict[str, float]:
            return verl.compute_score("d", r, None, {"question": [{"role": "user",
                                                                   "content": "Hi?"}]},
                                      server=base, on_failure=-1)

        with ThreadPoolExecutor(8) as pool:
            outs = list(pool.map(one, RESPONSES))
    assert len(judged.listwise) == 1
    assert outs == [{"score": float(quality(r)), "judge_failed": 0.0} for r in RESPONSES]


def test_a_failing_judge_is_flagged_and_on_failure_decides(live_server: Any) -> None:
    with live_server(_app(Judged(down=True), unparsed_reward=0.25)) as base:
        out = verl.compute_score("d", "a", None, {"prompt": "q"}, server=base, group_size=1,
                                 on_failure=-1)
        # the worker's own on_failure, not the server's neutral 0.25
        assert out == {"score": -1.0, "judge_failed": 1.0}
        with pytest.raises(BackendError, match="could not score"):
            verl.compute_score("d", "a", None, {"prompt": "q"}, server=base, group_size=1,
                               on_failure="raise")


def test_an_unreachable_server_gets_on_failure_or_raises() -> None:
    dead = "http://127.0.0.1:9"
    out = verl.compute_score("d", "a", None, {"prompt": "q"}, server=dead, on_failure=-2,
                             timeout=5)
    assert out == {"score": -2.0, "judge_failed": 1.0}
    with pytest.raises(BackendError, match="127.0.0.1:9/group_score"):
        asyncio.run(verl.compute_score_async("d", "a", None, {"prompt": "q"}, server=dead,
                                             on_failure="raise", timeout=5))


def test_settings_that_do_not_apply_to_a_server_are_refused() -> None:
    with pytest.raises(ConfigError, match="backend"):
        verl.compute_score("d", "a", None, {"prompt": "q"}, server="http://127.0.0.1:9",
                           backend="head", on_failure=0)
    with pytest.raises(ConfigError, match="on_failure"):
        verl.compute_score("d", "a", None, {"prompt": "q"}, server="http://127.0.0.1:9")

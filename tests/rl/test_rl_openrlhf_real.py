"""OpenRLHF 0.11.2's own remote-reward client against a live ``judge serve`` on loopback.

OpenRLHF's remote RM client is ``SingleTurnAgentExecutor`` in ``openrlhf/utils/agent.py``: each
rollout decodes prompt + generated tokens into a ``query`` and POSTs ``{query, prompts,
labels}`` to ``--remote_rm_url`` (``_fetch_rewards_via_http``, sharded across several URLs),
then keeps the answer's ``rewards`` / ``scores`` / ``extra_logs``. The module is imported as
OpenRLHF ships it (``openrlhf`` is installed with ``--no-deps`` by scripts/setup.sh; the module
needs aiohttp and, through ``openrlhf.utils``, pylatexenc — no ray, deepspeed or vLLM). Only the
vLLM engine that generates tokens is replaced, by a stand-in that returns fixed token ids.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

try:
    from openrlhf.utils.agent import SingleTurnAgentExecutor
except ImportError as exc:  # pragma: no cover - depends on the dev install
    pytest.skip(f"OpenRLHF's agent module cannot be imported ({exc}); run scripts/setup.sh",
                allow_module_level=True)

SYSTEM = "<|im_start|>system\nYou are helpful.<|im_end|>\n"
END = "<|im_end|>"
SCORES = (5, 3, 4, 2)  # the scripted judge's verdicts, then one garbage reply: 20 % fail
FALLBACK = -1.0


def chatml(question: str) -> str:
    return f"{SYSTEM}<|im_start|>user\n{question}{END}\n<|im_start|>assistant\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``judge serve`` with a scripted judge whose every fifth reply is not a verdict."""
    folder = tmp_path_factory.mktemp("serve")
    replies = folder / "replies.jsonl"
    lines = [json.dumps(json.dumps({"score": s})) for s in SCORES]
    lines.append(json.dumps("Certainly! The response is rather good, I would say."))
    replies.write_text("\n".join(lines) + "\n", encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "judge", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--backend", f"scripted:{replies}", "-B", "cycle=true", "--principle",
         "correct-then-concise", "--unparsed-reward", str(FALLBACK)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("judge serve did not become healthy")
        yield base + "/get_reward"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _check_sample(rewards: list[Any], scores: list[Any], failed: list[float]) -> None:
    for reward, score, flag in zip(rewards, scores, failed, strict=True):
        if flag:
            assert reward == FALLBACK
        else:
            assert reward in SCORES and score == pytest.approx((reward - 1) / 4)


def _batch(n: int, offset: int = 0) -> tuple[list[str], list[str], list[Any]]:
    prompts = [chatml(f"Question {offset + k}: what is {k} + {k}?") for k in range(n)]
    queries = [p + f"It is {2 * k}." + END for k, p in enumerate(prompts)]
    labels: list[Any] = [json.dumps({"principle": "correct-then-concise"}), None,
                         "no-sycophancy", ""] * (n // 4 + 1)
    return queries, prompts, labels[:n]


def test_openrlhf_http_client_batches_and_shards(server: str) -> None:
    executor = SingleTurnAgentExecutor(remote_rm_url=[server, server])  # two shards
    queries, prompts, labels = _batch(10)
    out = asyncio.run(executor._fetch_rewards_via_http(queries, prompts, labels))
    assert len(out) == 2  # one answer per shard, 5 samples each
    for shard in out:
        assert set(shard) == {"rewards", "scores", "extra_logs"}
        logs = shard["extra_logs"]
        assert len(shard["rewards"]) == len(shard["scores"]) == 5
        assert len(logs["judge_failed"]) == 5 and logs["judge_exact_split"] == [1.0] * 5
        _check_sample(shard["rewards"], shard["scores"], logs["judge_failed"])
    failed = sum(sum(s["extra_logs"]["judge_failed"]) for s in out)
    assert failed == 2  # 10 judge calls, every fifth reply unparsable
    # Empty lists: OpenRLHF sends nothing and gets nothing back.
    assert asyncio.run(executor._fetch_rewards_via_http([], [], [])) == []


def test_openrlhf_rollouts_one_query_each_under_20_percent_failures(server: str,
                                                                    tmp_path: Path) -> None:
    """The per-rollout path: ``execute`` tokenizes, 'generates', decodes, POSTs one query."""
    from transformers import AutoTokenizer

    from judge.testing.tiny_model import build_tiny_model

    folder = build_tiny_model(tmp_path / "policy")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    executor = SingleTurnAgentExecutor(remote_rm_url=server)

    class Engine:  # stands in for OpenRLHF's vLLM engine actor: fixed "generated" tokens
        async def generate(self, prompt_ids: list[int], params: Any, **kwargs: Any) -> Any:
            answer = tokenizer("The answer is four." + END, add_special_tokens=False)
            return SimpleNamespace(outputs=[SimpleNamespace(
                token_ids=answer["input_ids"], finish_reason="stop", logprobs=None)])

    params = SimpleNamespace(max_tokens=32, logprobs=None)
    _, prompts, labels = _batch(20, offset=100)

    async def rollouts() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(
            executor.execute(p, label, params, 4096, tokenizer, Engine())
            for p, label in zip(prompts, labels, strict=True))))

    outs = asyncio.run(rollouts())
    assert len(outs) == 20
    flags = []
    for out in outs:
        assert isinstance(out["reward"], list) and len(out["reward"]) == 1  # no silent None
        flag = out["extra_logs"]["judge_failed"]
        _check_sample(out["reward"], out["scores"], flag)
        flags += flag
    assert sum(flags) == 4  # 20 judge calls, every fifth reply unparsable: all flagged

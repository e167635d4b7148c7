"""Kill the labeler with SIGKILL at random moments; restarts must end with every row once."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.labelfakes import fake_backend, make_rows, write_jsonl

from judge.core import Judge
from judge.label import label_dataset

TESTS = Path(__file__).resolve().parent.parent  # run as python -m helpers.label_runner


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _kill_several_times(args: list[str], rng: random.Random, journal: Path, *, kills: int,
                        cwd: Path | None = None) -> list[int]:
    """Start the command, wait until it has made progress, SIGKILL it a random moment later;
    ``kills`` times (fewer when it finishes first). Returns the journal's size after each kill.

    Waiting for progress first makes every kill land inside the run however slow the machine
    is; the random extra delay puts it anywhere: mid-batch, between batches, or mid-write.
    """
    sizes: list[int] = []
    for _ in range(kills):
        before = _lines(journal)
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=cwd)
        deadline = time.monotonic() + 120
        while proc.poll() is None and _lines(journal) <= before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))
        if proc.poll() is not None:  # it finished before the kill
            assert proc.returncode == 0
            break
        proc.kill()  # SIGKILL: no cleanup, no atexit, no flush
        proc.wait()
        sizes.append(_lines(journal))
    return sizes


def test_sigkill_at_random_points_then_resume(tmp_path):
    rows = make_rows(300, seed=3)
    rows += rows[:10]  # exact duplicates must each be labeled once
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    reference = tmp_path / "reference.jsonl"
    label_dataset(Judge(fake_backend(), principle="correct-then-concise"), str(src), reference)

    out = tmp_path / "out.jsonl"
    args = [sys.executable, "-m", "helpers.label_runner", str(src), str(out), "--delay", "0.004",
            "--batch-size", "7"]
    rng = random.Random(20240611)
    journal_path = tmp_path / "out.jsonl.journal.jsonl"
    sizes = _kill_several_times(args, rng, journal_path, kills=5, cwd=TESTS)
    assert len([n for n in sizes if 0 < n < len(rows)]) >= 3, sizes  # kills landed mid-run
    final = subprocess.run(args, capture_output=True, text=True, check=False, timeout=300,
                           cwd=TESTS)
    assert final.returncode == 0, final.stderr

    assert out.read_text(encoding="utf-8") == reference.read_text(encoding="utf-8")
    journal = [json.loads(x) for x in journal_path.read_text(encoding="utf-8").splitlines()]
    keys = [r["key"] for r in journal]
    assert len(keys) == len(set(keys)) == len(rows)  # each row judged exactly once overall


def _cli_kill_and_resume(tmp_path: Path, backend_args: list[str], *, rows: int, kills: int,
                         seed: int) -> list[dict]:
    """``judge label`` over ``rows`` rows, SIGKILLed ``kills`` times, then run to the end."""
    src = write_jsonl(tmp_path / "in.jsonl", make_rows(rows, seed=seed))
    out = tmp_path / "out.jsonl"
    args = [sys.executable, "-m", "judge", "label", "-i", str(src), "-o", str(out),
            "--principle", "correct-then-concise", "--no-progress", *backend_args]
    journal = tmp_path / "out.jsonl.journal.jsonl"
    sizes = _kill_several_times(args, random.Random(seed), journal, kills=kills)
    assert len([n for n in sizes if 0 < n < rows]) >= 2, sizes
    final = subprocess.run(args, capture_output=True, text=True, check=False, timeout=1800)
    assert final.returncode in (0, 3), final.stderr  # 3: some verdicts did not parse
    labeled = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(labeled) == rows and [r["id"] for r in labeled] == list(range(rows))
    assert len({r["label_key"] for r in labeled}) == rows
    keys = [json.loads(x)["key"] for x in journal.read_text(encoding="utf-8").splitlines()]
    assert len(keys) == len(set(keys)) == rows
    return labeled


@pytest.mark.slow
def test_cli_with_the_shipped_head_survives_kills(tmp_path):
    """1,000 rows through ``--backend head`` (or ``head:$JUDGE_TEST_HEAD``), killed 4 times."""
    pytest.importorskip("judge.distill.backend")
    from judge.distill.backend import default_head_dir
    from judge.errors import AssetsNotFound

    spec = f"head:{os.environ['JUDGE_TEST_HEAD']}" if os.environ.get("JUDGE_TEST_HEAD") else "head"
    if spec == "head":
        try:
            default_head_dir()
        except AssetsNotFound as exc:
            pytest.skip(str(exc))
    labeled = _cli_kill_and_resume(tmp_path, ["--backend", spec, "--batch-size", "32"],
                                   rows=1000, kills=4, seed=11)
    assert {r["status"] for r in labeled} == {"ok"}
    assert all(r["provenance"]["backend"].startswith("head") for r in labeled)


@pytest.mark.slow
def test_cli_with_a_tiny_local_llm_survives_kills(tmp_path, tiny_model_dir):
    pytest.importorskip("judge.backends.hf.engine")
    labeled = _cli_kill_and_resume(
        tmp_path, ["--backend", f"transformers:{tiny_model_dir}", "--max-tokens", "4",
                   "--batch-size", "50"], rows=1000, kills=3, seed=12)
    # A random tiny model writes no verdicts: every row is labeled, as unparsed, raw text kept.
    assert {r["status"] for r in labeled} <= {"ok", "repaired", "unparsed"}
    assert all(r["raw"] for r in labeled)

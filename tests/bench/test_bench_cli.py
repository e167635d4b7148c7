"""``judge bench`` end to end, as a user runs it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from judge.bench.suites import load_suite
from judge.cli import main

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_suites_lists_the_named_suites(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "suites"]) == 0
    out = capsys.readouterr().out
    for name in ("sample", "rm-bench", "prometheus:mt_bench", "pairwise:FILE", "judgebench",
                 "llmbar", "rewardbench2", "rmbench", "prefgraph"):
        assert name in out


def test_run_report_compare_with_oracles(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    gold, noisy = tmp_path / "gold", tmp_path / "noisy"
    assert main(["bench", "run", "sample", "--backend", "oracle", "--out", str(gold),
                 "--resamples", "100"]) == 0
    out = capsys.readouterr().out
    assert "accuracy 100.0" in out and "tau 100.0" in out and "NDCG 100.0" in out
    assert main(["bench", "run", "sample", "--backend", "oracle:noisy", "-B", "unparsed=0.2",
                 "--out", str(noisy), "--no-report"]) == 0
    assert not (noisy / "report.md").exists()
    assert main(["bench", "report", str(noisy), "--resamples", "100"]) == 0
    assert "unparsed" in capsys.readouterr().out
    assert (noisy / "report.md").is_file() and (noisy / "plots" / "scores.png").is_file()
    cmp_dir = tmp_path / "cmp"
    assert main(["bench", "compare", str(gold), str(noisy), "--out", str(cmp_dir),
                 "--resamples", "100"]) == 0
    md = capsys.readouterr().out
    assert "oracle:gold" in md and "oracle:noisy" in md and "Warning" not in md
    assert "chance (random order)" not in md          # noisy lost lists: not the same lists
    assert "| chance | 29 |" in (gold / "report.md").read_text()
    rev = tmp_path / "rev"
    assert main(["bench", "run", "sample", "--backend", "oracle:reversed", "--out", str(rev),
                 "--resamples", "0", "--no-plots"]) == 0
    assert main(["bench", "compare", str(gold), str(rev), "--out", str(cmp_dir),
                 "--resamples", "0", "--no-plots"]) == 0
    assert "| *chance (random order)* | 50.0 | 0.0 |" in capsys.readouterr().out
    assert (cmp_dir / "compare.png").is_file() and (cmp_dir / "compare.json").is_file()


def test_resumed_run_says_so_and_counts_only_new_lists(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    common = ["--backend", "oracle", "--out", str(out), "--no-report"]
    assert main(["bench", "run", "sample", "--limit", "10", *common]) == 0
    first = capsys.readouterr().err
    assert "resuming" not in first and "bench: 10/10 lists (100%)" in first  # plain lines: no tty
    n = len(load_suite("sample").items)
    assert main(["bench", "run", "sample", *common]) == 0
    err = capsys.readouterr().err
    assert f"resuming: 10 of {n} lists already judged" in err
    assert f"bench: {n - 10}/{n - 10} lists (100%)" in err
    assert f"{n} lists: {n - 10} judged now, 10 done before" in err


def test_scripted_reply_file_with_gold_answers(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    suite = load_suite("sample")
    replies = tmp_path / "replies.jsonl"
    with replies.open("w") as fh:       # shown in id order with --no-shuffle: model-i = i-th id
        for it in suite.items:
            masked = {rid: f"model-{n}" for n, rid in enumerate(it.responses, 1)}
            reply = {"scores": {masked[r]: 1 + 4 * v / max(it.gold().values())
                                for r, v in it.gold().items()},
                     "best-to-worst": [masked[r] for r in it.ranking]}
            fh.write(json.dumps(json.dumps(reply)) + "\n")
    out = tmp_path / "run"
    assert main(["bench", "run", "sample", "--backend", f"scripted:{replies}", "--no-shuffle",
                 "--out", str(out), "--no-plots", "--resamples", "0"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["default"]["overall"]["accuracy"]["value"] == 100.0
    assert report["run"]["judge"]["shuffle"] is False


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["bench", "run", "nope", "--backend", "oracle"]) == 2
    assert "unknown suite 'nope'" in capsys.readouterr().err
    monkeypatch.delenv("JUDGE_DATA_DIR", raising=False)
    assert main(["bench", "run", "rm-bench", "--backend", "oracle",
                 "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--data-dir" in err and "JUDGE_DATA_DIR" in err
    assert main(["bench", "report", str(tmp_path)]) == 2
    assert "not a bench run directory" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED / "rm-bench").is_dir(), reason="RM-Bench data not available")
def test_rm_bench_oracle_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "rmb"
    assert main(["bench", "run", "rm-bench", "--data-dir", str(SHARED), "--backend",
                 "oracle:reversed", "--limit", "120", "--out", str(out), "--no-plots",
                 "--resamples", "50"]) == 0
    captured = capsys.readouterr()
    assert "2394 lists" in captured.err
    assert "accuracy 0.0" in captured.out and "tau -100.0" in captured.out
    report = json.loads((out / "report.json").read_text())
    assert set(report["metrics"]["default"]["by_principle"]) == {
        "rmb-correct-then-concise", "rmb-correct-then-thorough", "rmb-correct-then-plain-prose"}


hf_missing = importlib.util.find_spec("judge.backends.hf.engine") is None


@pytest.mark.skipif(hf_missing, reason="judge.backends.hf.engine (transformers backend) not present")
def test_transformers_backend_on_a_tiny_model(tiny_model_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("judge.backends.hf.engine")
    free = tmp_path / "free"
    code = main(["bench", "run", "sample", "--backend", f"transformers:{tiny_model_dir}",
                 "--max-tokens", "12", "--out", str(free), "--resamples", "50"])
    assert code == 0
    report = json.loads((free / "report.json").read_text())
    ov = report["metrics"]["default"]["overall"]
    assert ov["lists"] == len(load_suite("sample").items)
    assert ov["unparsed"] + ov["judged"] == ov["lists"]
    assert ov["unparsed_rate"]["value"] == pytest.approx(100 * ov["unparsed"] / ov["lists"])
    assert "Unparsed" in (free / "report.md").read_text()


@pytest.mark.slow
@pytest.mark.skipif(hf_missing, reason="judge.backends.hf.engine (transformers backend) not present")
def test_transformers_backend_structured(tiny_model_dir: Path, tmp_path: Path) -> None:
    structured = tmp_path / "structured"
    assert main(["bench", "run", "sample", "--backend", f"transformers:{tiny_model_dir}",
                 "--structured", "--max-tokens", "160", "--limit", "2", "--out",
                 str(structured), "--resamples", "50", "--no-plots"]) == 0
    report = json.loads((structured / "report.json").read_text())
    assert report["metrics"]["default"]["overall"]["judged"] == 2
    assert report["run"]["judge"]["model"] == str(tiny_model_dir)


@pytest.mark.skipif(hf_missing or not (SHARED / "rm-bench").is_dir(),
                    reason="needs judge.backends.hf.engine and the RM-Bench data")
def test_rm_bench_with_a_tiny_model_fits_its_longest_list(tmp_path: Path) -> None:
    """The README's CPU recipe: an English-trained tokenizer makes every RM-Bench list fit."""
    from judge.backends import load_backend
    from judge.core import Judge
    from judge.testing.tiny_model import build_tiny_model
    from judge.types import Sampling

    model = build_tiny_model(tmp_path / "tiny", corpus="english", vocab_size=8192,
                             max_positions=16384)
    suite = load_suite("rm-bench", data=SHARED)
    longest = max(suite.items, key=lambda it: len(it.prompt) + sum(map(len, it.responses.values())))
    # rendered, it is 8,198 tokens here (18,110 with the default test tokenizer)
    judge = Judge(load_backend(f"transformers:{model}"), sampling=Sampling(max_tokens=8))
    [verdict] = judge.rank([longest.to_rank_item()])
    assert verdict.status == "unparsed", verdict.problems      # 8 tokens: no verdict, no error
    out = tmp_path / "run"
    assert main(["bench", "run", "rm-bench", "--data-dir", str(SHARED), "--backend",
                 f"transformers:{model}", "--max-tokens", "8", "--limit", "2", "--out", str(out),
                 "--no-plots", "--resamples", "0"]) == 0
    assert json.loads((out / "report.json").read_text())["statuses"] == {"unparsed": 2}

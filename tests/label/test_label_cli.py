"""``judge label`` end to end, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.labelfakes import make_rows, read_jsonl_rows, write_jsonl

from judge.cli import main

GOOD = json.dumps({"scores": {"model-1": 4, "model-2": 2},
                   "best-to-worst": ["model-1", "model-2"]})


def replies(path: Path, texts: list[str]) -> str:
    path.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    return f"scripted:{path}"


def test_label_cli_with_pairs_rewards_and_progress(tmp_path, capsys):
    rows = [{"id": n, "prompt": f"q{n}", "responses": [f"a{n}", f"b{n}"]} for n in range(12)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out, pairs = tmp_path / "out.parquet", tmp_path / "pairs.jsonl"
    args = ["label", "-i", str(src), "-o", str(out), "--backend",
            replies(tmp_path / "r.jsonl", [GOOD]), "-B", "cycle=true", "--principle",
            "correct-then-concise", "--pairs", str(pairs), "--normalize", "minmax",
            "--batch-size", "5", "--no-shuffle"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "12/12 rows (100%)" in err and "rows/s" in err  # plain progress lines off a tty
    assert "12 rows: ok=12" in err and "labeled now 12, reused 0, pairs 12" in err
    import pyarrow.parquet as pq

    table = pq.read_table(out).to_pylist()
    assert [r["id"] for r in table] == list(range(12))
    assert table[0]["scores"] == [{"id": "0", "score": 4.0}, {"id": "1", "score": 2.0}]
    assert table[0]["rewards"] == [0.75, 0.25]
    got = read_jsonl_rows(pairs)
    assert got[0]["chosen"] == "a0" and got[0]["rejected"] == "b0" and got[0]["margin"] == 2.0

    assert main(args) == 0  # unchanged settings: everything reused, no replies consumed
    err = capsys.readouterr().err
    assert "resuming: 12 of 12 rows already labeled" in err and "labeled now 0" in err


def test_label_cli_exit_code_counts_failures(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "q", "responses": ["a", "b"]},
                                             {"prompt": "q", "responses": ["a", "c"]},
                                             {"prompt": "q"}])
    backend = replies(tmp_path / "r.jsonl", [GOOD, "no verdict here"])
    code = main(["label", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--backend",
                 backend, "--principle", "correct-then-concise", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 3 and "3 rows: ok=1, unparsed=1, invalid_input=1" in err
    assert f"error: {src}:3: field 'responses'" in err      # each bad row, where and why
    assert [r["status"] for r in read_jsonl_rows(tmp_path / "o.jsonl")] == [
        "ok", "unparsed", "invalid_input"]


def test_label_cli_prints_the_first_bad_rows_and_counts_the_rest(tmp_path, capsys):
    from judge.cli.label import SHOWN_ERRORS

    rows = [{"prompt": f"q{n}"} for n in range(SHOWN_ERRORS + 5)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    code = main(["label", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--principle",
                 "correct-then-concise", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 3 and err.count("error: ") == SHOWN_ERRORS
    assert f"{src}:{SHOWN_ERRORS}:" in err and f"{src}:{SHOWN_ERRORS + 1}:" not in err
    assert "... and 5 more invalid rows" in err


def test_label_cli_usage_errors(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", make_rows(2))
    code = main(["label", "-i", str(src), "-o", str(tmp_path / "o.csv"), "--backend",
                 replies(tmp_path / "r.jsonl", [GOOD])])
    assert code == 2 and "--output-format dataset" in capsys.readouterr().err
    code = main(["label", "-i", str(tmp_path / "missing.jsonl"), "-o",
                 str(tmp_path / "o.jsonl"), "--backend", replies(tmp_path / "r.jsonl", [GOOD])])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_python_m_judge_label_runs(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "q", "responses": ["a", "b"]}])
    proc = subprocess.run(
        [sys.executable, "-m", "judge", "label", "-i", str(src), "-o", str(tmp_path / "o.jsonl"),
         "--backend", replies(tmp_path / "r.jsonl", [GOOD]), "--principle", "no-sycophancy"],
        capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert read_jsonl_rows(tmp_path / "o.jsonl")[0]["status"] == "ok"


@pytest.mark.parametrize("shape", ["dataset-dir", "hf-files"])
def test_label_cli_reads_hf_datasets(tmp_path, shape, capsys):
    datasets = pytest.importorskip("datasets")
    rows = [{"prompt": "q", "responses": ["a", "b"], "principle": "no-sycophancy"}] * 3
    if shape == "dataset-dir":
        datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
        spec = str(tmp_path / "ds")
    else:
        spec = "hf:" + str(write_jsonl(tmp_path / "in.jsonl", rows))
    code = main(["label", "-i", spec, "-o", str(tmp_path / "out"), "--output-format", "dataset",
                 "--backend", replies(tmp_path / "r.jsonl", [GOOD]), "-B", "cycle=true",
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    labeled = datasets.load_from_disk(str(tmp_path / "out"))
    assert labeled.num_rows == 3 and labeled[0]["status"] == "ok"

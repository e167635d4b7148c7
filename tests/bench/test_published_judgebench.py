"""JudgeBench: loading the published JSONL, the net-vote rule scored by hand, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.published_files import JB_ROWS, record, write_judgebench

from judge.bench.published import judgebench, load_published
from judge.errors import InputError

A, B, TIE = {"A": 2.0, "B": 1.0}, {"A": 1.0, "B": 2.0}, {"A": 1.0, "B": 1.0}


def _rec(n: int, label: str, family: str, first: dict | None, second: dict | None) -> dict:
    gold = {"A": 2.0, "B": 1.0} if label == "A>B" else {"A": 1.0, "B": 2.0}
    return record(gold, {"label": label, "family": family, "subset": "m"}, first, second,
                  item_id=f"p{n}")


def test_loads_every_pair_with_gold_family_and_missing_model(tmp_path: Path) -> None:
    write_judgebench(tmp_path)
    results = tmp_path / "outputs" / ("dataset=judgebench,response_model=gpt-4o-2024-05-13,"
                                      "judge_name=arena_hard,judge_model=x.jsonl")
    results.parent.mkdir()          # a judge's published results: not pairs to judge
    results.write_text((tmp_path / "data").joinpath(
        "dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl").read_text())
    suite = load_published("judgebench", tmp_path)
    assert [it.id for it in suite.items] == [f"pair-{n}" for n in range(len(JB_ROWS))]
    assert [it.ranking for it in suite.items] == [["A", "B"], ["A", "B"], ["B", "A"],
                                                  ["B", "A"], ["A", "B"]]
    assert [it.category for it in suite.items] == ["knowledge", "reasoning", "math", "coding",
                                                   "knowledge"]
    assert suite.missing == ("claude-3-5-sonnet-20240620",)
    one = load_published("judgebench", next((tmp_path / "data").iterdir()))   # a file inside
    assert len(one.items) == len(JB_ROWS) and one.missing == ()


def test_net_vote_accuracy_per_family_and_inconsistency_by_hand() -> None:
    records = [
        _rec(1, "A>B", "knowledge", A, A),      # both right: correct, consistent
        _rec(2, "A>B", "reasoning", A, B),      # +1 -1: tie, inconsistent
        _rec(3, "B>A", "math", A, A),           # both wrong: incorrect
        _rec(4, "B>A", "coding", B, TIE),       # +1 0: correct, inconsistent
        _rec(5, "A>B", "knowledge", None, A),   # no verdict, +1: correct, inconsistent
    ]
    result = judgebench.score(records)
    overall = result["overall"]
    assert overall["pairs"] == 5
    assert overall["accuracy"] == pytest.approx(60.0)
    assert overall["incorrect"] == pytest.approx(20.0) and overall["tie"] == pytest.approx(20.0)
    assert overall["inconsistent"] == pytest.approx(60.0)
    assert {f: result[f"family:{f}"]["accuracy"] for f in judgebench.FAMILIES} == {
        "knowledge": 100.0, "reasoning": 0.0, "math": 0.0, "coding": 100.0}
    assert [judgebench.item_score(r) for r in records] == [1.0, 0.0, 0.0, 1.0, 1.0]
    table = "\n".join(judgebench.markdown(result))
    assert "| overall | 5 | 60.0 | 20.0 | 20.0 | 60.0 |" in table


def test_a_row_without_a_field_names_adapter_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "dataset=judgebench,response_model=x.jsonl"
    path.write_text('{"pair_id": "1", "source": "livecodebench", "question": "q", '
                    '"response_A": "a", "response_B": "b", "label": "A>B"}\n'
                    '{"pair_id": "2", "source": "livecodebench", "question": "q", '
                    '"response_A": "a", "label": "A>B"}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_published("judgebench", tmp_path)
    assert err.value.line == 2 and err.value.field == "response_B"
    assert "judgebench" in str(err.value) and str(path) in str(err.value)
    path.write_text('{"pair_id": "1", "source": "s", "question": "q", "response_A": "a", '
                    '"response_B": "b", "label": "A=B"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="label.*A>B"):
        load_published("judgebench", tmp_path)

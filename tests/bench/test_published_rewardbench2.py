"""RewardBench 2: the published parquet, best-of-N and the Ties rule scored by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from helpers.published_files import record, write_rewardbench2

from judge.bench.published import load_published, rewardbench2
from judge.errors import InputError


def _rec(item_id: str, subset: str, first: dict, second: dict | None = None) -> dict:
    gold = {k: 1.0 if k.startswith("chosen") else 0.0 for k in first}
    return record(gold, {"subset": subset}, first, first if second is None else second,
                  item_id=item_id)


def test_reads_the_parquet_and_reports_missing_subsets(tmp_path: Path) -> None:
    write_rewardbench2(tmp_path)
    (tmp_path / "dataset_infos.json").write_text('{"default": {}}')   # hub metadata: not rows
    suite = load_published("rewardbench2", tmp_path)
    assert [it.id for it in suite.items] == ["f1", "f2", "m1", "ref:1", "tied:1"]
    tied = suite.items[4]
    assert list(tied.responses) == ["chosen-1", "chosen-2", "chosen-3", "rejected-1",
                                    "rejected-2"]
    assert tied.gold()["chosen-3"] == 1.0 and tied.gold()["rejected-1"] == 0.0
    assert suite.missing == ("Precise IF", "Safety", "Focus")


def test_best_of_n_and_ties_by_hand() -> None:
    records = [
        # Factuality: right in order 1; tied with one rejected at the top in order 2 (1/2)
        _rec("f1", "Factuality", {"chosen-1": 5, "rejected-1": 4, "rejected-2": 3,
                                  "rejected-3": 2},
             {"chosen-1": 4, "rejected-1": 4, "rejected-2": 1, "rejected-3": 1}),
        _rec("f2", "Factuality", {"chosen-1": 1, "rejected-1": 5, "rejected-2": 1,
                                  "rejected-3": 1}),
        # Math with two chosen: the worse chosen must beat the best rejected (strictly)
        _rec("m1", "Math", {"chosen-1": 5, "chosen-2": 3, "rejected-1": 3},
             {"chosen-1": 5, "chosen-2": 4, "rejected-1": 3}),
        _rec("ref:1", "Ties", {"chosen-1": 9, "rejected-1": 5, "rejected-2": 4}),
        _rec("tied:1", "Ties", {"chosen-1": 9, "chosen-2": 8, "chosen-3": 8, "rejected-1": 5,
                                "rejected-2": 6}),
    ]
    result = rewardbench2.score(records)
    assert result["Factuality"]["score"] == pytest.approx(37.5)     # (3/4 + 0) / 2
    assert result["Math"]["score"] == pytest.approx(50.0)
    # ref and tied both accurate (0.3 + 0.3); tied gap 2 > spread 1 and min(4, 2) > 1
    # (0.2 + 0.2); margin term 0.01 * tanh(2 / 1 - 1)
    ties = 100 * (0.3 + 0.3 + 0.2 + 0.2 + 0.01 * math.tanh(1.0))
    assert result["Ties"]["score"] == pytest.approx(ties)
    assert result["Mean of subsets"]["score"] == pytest.approx((37.5 + 50.0 + ties) / 3)


def test_ties_without_a_verdict_and_with_a_close_call() -> None:
    wrong = rewardbench2.ties_score({
        "ref:1": {"chosen-1": 1, "rejected-1": 2},
        "tied:1": {"chosen-1": 5, "chosen-2": 1, "rejected-1": 3}})
    # neither accurate; tied gap -2 < spread 4; margin tanh(-2/4 - 1)
    assert wrong == pytest.approx(0.01 * math.tanh(-1.5))
    assert rewardbench2.ties_score({"ref:1": None, "tied:1": None}) == pytest.approx(0.0)


def test_bad_rows_name_adapter_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"id": "1", "prompt": "p", "chosen": "not a list",
                                "rejected": ["r"], "subset": "Focus"}) + "\n")
    with pytest.raises(InputError) as err:
        load_published("rewardbench2", path)
    assert (err.value.line, err.value.field) == (1, "chosen") and "rewardbench2" in str(err.value)
    path.write_text(json.dumps({"id": "7", "prompt": "p", "chosen": ["c"], "rejected": ["r"],
                                "subset": "Ties"}) + "\n")
    with pytest.raises(InputError, match="ref:N"):
        load_published("rewardbench2", path)

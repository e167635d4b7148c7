"""LLMBar: subsets found by folder, accuracy and positional agreement by hand, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.published_files import record, write_llmbar

from judge.bench.published import llmbar, load_published
from judge.errors import InputError

O1, O2, TIE = ({"output_1": 2.0, "output_2": 1.0}, {"output_1": 1.0, "output_2": 2.0},
               {"output_1": 1.0, "output_2": 1.0})


def _rec(subset: str, label: int, first: dict | None, second: dict | None) -> dict:
    gold = O1 if label == 1 else O2
    return record(gold, {"subset": subset, "label": label}, first, second)


def test_subsets_by_folder_and_the_missing_ones_reported(tmp_path: Path) -> None:
    write_llmbar(tmp_path)
    suite = load_published("llmbar", tmp_path)
    assert sorted({it.metadata["subset"] for it in suite.items}) == ["Adversarial/Neighbor",
                                                                    "Natural"]
    assert suite.items[1].ranking == ["output_2", "output_1"]   # label 2
    assert suite.missing == ("Adversarial/GPTInst", "Adversarial/GPTOut", "Adversarial/Manual",
                             "FairEval", "LLMEval^2", "MT-Bench")
    under = load_published("llmbar", tmp_path / "Dataset" / "LLMBar" / "Adversarial")
    assert {it.metadata["subset"] for it in under.items} == {"Adversarial/Neighbor"}


def test_accuracy_over_both_orders_and_positional_agreement_by_hand() -> None:
    result = llmbar.score([
        _rec("Natural", 1, O1, O1),                    # right twice, agree
        _rec("Natural", 2, O1, O2),                    # right once, disagree
        _rec("Adversarial/Neighbor", 1, O2, O2),       # wrong twice, agree
        _rec("Adversarial/Neighbor", 2, TIE, O2),      # a tie is not right; disagree
    ])
    assert result["Natural"] == {"instances": 2, "accuracy": 75.0, "positional_agreement": 50.0}
    assert result["Adversarial/Neighbor"]["accuracy"] == 25.0
    assert result["Adversarial/Neighbor"]["positional_agreement"] == 50.0
    assert result["Adversarial (mean)"]["accuracy"] == 25.0
    no_verdict = llmbar.score([_rec("Natural", 1, O1, None)])["Natural"]
    assert no_verdict["accuracy"] == 50.0 and no_verdict["positional_agreement"] == 0.0
    neither = llmbar.score([_rec("Natural", 1, None, None)])["Natural"]   # upstream: equal
    assert neither["accuracy"] == 0.0 and neither["positional_agreement"] == 100.0


def test_a_bad_label_names_adapter_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "Natural" / "dataset.json"
    path.parent.mkdir()
    path.write_text('[{"input": "i", "output_1": "a", "output_2": "b", "label": 1},'
                    ' {"input": "i", "output_1": "a", "output_2": "b", "label": 3}]')
    with pytest.raises(InputError) as err:
        load_published("llmbar", tmp_path)
    assert (err.value.line, err.value.field) == (2, "label") and "llmbar" in str(err.value)
    path.write_text('[{"input": "i", "output_1": "a", "label": 1}]')
    with pytest.raises(InputError) as err:
        load_published("llmbar", tmp_path)
    assert (err.value.line, err.value.field) == (1, "output_2")

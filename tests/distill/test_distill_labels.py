"""Reading teacher labels: rank output, gold suites, pairs; skipping; principles; the split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.distill.labels import (
    LabelItem,
    item_from_row,
    prompt_split,
    read_labels,
    split_items,
)
from judge.errors import InputError
from judge.principles import resolve_principle


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def rank_row(status: str = "ok", **extra: object) -> dict[str, object]:
    p = resolve_principle("Prefer short answers.")
    row = {"prompt": "2+2?", "responses": {"a": "4", "b": "It is four, because..."},
           "scores": {"a": 5, "b": 2}, "ranking": ["a", "b"], "status": status,
           "provenance": {"principle": {"id": p.id, "version": None, "hash": p.hash}}}
    row.update(extra)
    return row


def test_rank_output_rows(tmp_path: Path) -> None:
    f = write(tmp_path / "ranked.jsonl", [
        rank_row(principle="correct-then-concise"),
        rank_row(status="unparsed", scores=None, ranking=None, principle="no-filler"),
        rank_row(status="backend_error", principle="no-filler"),
        "{broken",
        {"prompt": "q", "responses": ["x", "y"], "principle": "no-filler"},  # no scores
    ])
    labels = read_labels([f])
    assert len(labels.items) == 1
    item = labels.items[0]
    assert item.principle == resolve_principle("correct-then-concise").text
    assert item.principle_id == "correct-then-concise"
    assert item.scores == (5.0, 2.0) and item.ids == ("a", "b")
    assert labels.skipped == {"unparsed": 1, "backend_error": 1, "invalid": 2}
    assert any(":4:" in p for p in labels.problems) and any("scores" in p for p in labels.problems)


def test_free_text_principle_from_default_checked_against_provenance(tmp_path: Path) -> None:
    f = write(tmp_path / "r.jsonl", [rank_row()])
    assert read_labels([f], default_principle="Prefer short answers.").items[0].principle == \
        "Prefer short answers."
    wrong = read_labels([f], default_principle="Prefer long answers.")
    assert not wrong.items and "hash" in wrong.problems[0]
    missing = read_labels([f])
    assert not missing.items and "--principle" in missing.problems[0]


def test_library_principle_from_provenance() -> None:
    p = resolve_principle("no-sycophancy")
    row = rank_row(provenance={"principle": {"id": "no-sycophancy", "version": 1, "hash": p.hash}})
    assert item_from_row(row).principle == p.text


def test_gold_suite_and_pair_rows() -> None:
    gold = item_from_row({"prompt": "q", "principle": "no-filler", "responses": {"x": "1", "y": "2",
                          "z": "3"}, "gold_ranking": ["z", "x", "y"]})
    assert gold.scores == (1.0, 0.0, 2.0)
    nested = item_from_row({"prompt": "q", "principle": "no-filler", "responses": ["1", "2"],
                            "gold": {"scores": [1, 3]}})
    assert nested.scores == (1.0, 3.0)
    pair = item_from_row({"prompt": "q", "principle": "no-filler", "chosen": "good",
                          "rejected": "bad"})
    assert pair.responses == ("good", "bad") and pair.pairs() == [(0, 1, 1.0)]
    with pytest.raises(InputError, match="every response id"):
        item_from_row({"prompt": "q", "principle": "no-filler", "responses": ["1", "2"],
                       "ranking": ["0"]})


def test_pairs_respect_margin_and_ties() -> None:
    it = LabelItem("p", "p", "q", ("a", "b", "c"), (3.0, 3.0, 1.0))
    assert sorted(it.pairs()) == [(0, 2, 2.0), (1, 2, 2.0)]
    assert it.pairs(min_margin=2.0) == []


def test_split_is_by_prompt_and_deterministic() -> None:
    items = [LabelItem(p, p, f"prompt {n}", ("a", "b"), (1.0, 0.0))
             for n in range(200) for p in ("P1", "P2")]
    train, test = split_items(items, test_fraction=0.3, seed=1)
    assert not {it.prompt for it in train} & {it.prompt for it in test}
    assert 0.15 < len(test) / len(items) < 0.45
    assert (train, test) == split_items(items, test_fraction=0.3, seed=1)
    assert prompt_split("prompt 3", test_fraction=0.3, seed=1) == \
        ("test" if any(it.prompt == "prompt 3" for it in test) else "train")

"""Importing another judge's verdicts: label records of the `judge label` shape, soft
preferences kept, every row out in order, then read back for distillation."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from judge.cli import main
from judge.distill.labels import item_from_row, read_labels, split_items
from judge.label.importer import import_file
from judge.record import RECORD_FIELDS

ALPACA = [
    {"instruction": "Name a colour.", "output_1": "Blue.", "output_2": "Red, a warm colour.",
     "generator_1": "base", "generator_2": "policy-a", "annotator": "teacher_x",
     "preference": "1.25", "dataset": "koala"},
    {"instruction": "Say hi.", "output_1": "Hi", "output_2": "Hello there", "generator_1": "base",
     "generator_2": "policy-a", "annotator": "teacher_x", "preference": 2},
    {"instruction": "Tie?", "output_1": "a", "output_2": "b", "generator_1": "base",
     "generator_2": "policy-a", "annotator": "teacher_x", "preference": 0},
    {"instruction": "Lost", "output_1": "a", "output_2": "b", "generator_1": "base",
     "generator_2": "policy-a", "annotator": "teacher_x", "preference": None},
    {"instruction": 3, "output_1": "a", "output_2": "b"},
]


@pytest.fixture()
def alpaca_file(tmp_path: Path) -> Path:
    path = tmp_path / "annotations.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(ALPACA, fh)
    return path


def test_alpaca_eval_records_keep_soft_preferences_in_order(alpaca_file: Path) -> None:
    recs = list(import_file(alpaca_file, "alpaca-eval"))
    assert [r["status"] for r in recs] == ["ok", "ok", "ok", "unparsed", "invalid_input"]
    soft, hard, tie, lost, bad = recs
    assert soft["scores"] == pytest.approx({"output_1": 0.75, "output_2": 0.25})
    assert soft["flags"] == ["preference"] and soft["schema"] == "judge.record/1"
    assert soft["scale"] == [0.0, 1.0] and soft["ranking"] == ["output_1", "output_2"]
    assert hard["scores"] == {"output_1": 0.0, "output_2": 1.0}
    assert tie["scores"] == {"output_1": 0.5, "output_2": 0.5}
    assert soft["item"]["principle"]["text"] == soft["principle"]
    assert soft["provenance"]["backend"] == "import"
    assert soft["provenance"]["model"] == "teacher_x"
    assert soft["answer_set"] == "policy-a" and soft["prompt"] == "Name a colour."
    assert set(RECORD_FIELDS) <= set(soft)
    assert lost["scores"] is None and "preference" in lost["problems"][0]
    assert "row 4" in bad["problems"][0] and "'instruction'" in bad["problems"][0]


def test_records_read_back_as_soft_items_split_by_answer_set(alpaca_file: Path) -> None:
    recs = [r for r in import_file(alpaca_file, "alpaca-eval") if r["status"] == "ok"]
    items = [item_from_row(r) for r in recs]
    assert [it.prefer for it in items] == pytest.approx([0.75, 0.0, 0.5])
    assert items[0].targets() == [(0, 1, pytest.approx(0.75))]
    assert items[2].targets() == [(0, 1, 0.5)]  # a tie is a soft target, not dropped
    assert items[2].pairs() == []  # ... and no hard pair for accuracy
    assert {it.group for it in items} == {"policy-a"}
    train, test = split_items(items, test_fraction=0.0, test_groups=("policy-a",))
    assert (len(train), len(test)) == (0, 3)


def test_generic_jsonl_rows(tmp_path: Path) -> None:
    src = tmp_path / "v.jsonl"
    rows = [
        {"prompt": "q", "responses": ["a", "b"], "principle": "Be brief.", "preference": 0.9,
         "teacher": "my-judge"},
        {"prompt": "q", "responses": {"x": "a", "y": "b", "z": "c"}, "principle": "Be brief.",
         "scores": {"x": 1, "y": 5, "z": 3}, "scale": [1, 5]},
        {"prompt": "q", "responses": ["a", "b"], "principle": "Be brief.", "ranking": ["1", "0"]},
        {"prompt": "q", "responses": ["a", "b"], "principle": "Be brief.", "preference": 2},
        {"prompt": "q", "responses": ["a"]},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    recs = list(import_file(src, "jsonl", teacher="fallback"))
    assert [r["status"] for r in recs] == ["ok", "ok", "ok", "invalid_input", "invalid_input"]
    assert recs[0]["provenance"]["model"] == "my-judge"
    assert recs[1]["provenance"]["model"] == "fallback" and recs[1]["scale"] == [1.0, 5.0]
    assert recs[1]["ranking"] == ["y", "z", "x"] and recs[2]["ranking"] == ["1", "0"]
    assert f"{src}:4: field 'preference'" in recs[3]["problems"][0]
    assert f"{src}:5: field 'principle'" in recs[4]["problems"][0]


PROMETHEUS = ("###Task Description:\nGrade it.\n\n###The instruction to evaluate:\n{q}\n\n"
              "###Response to evaluate:\n{r}\n\n###Reference Answer (Score 5):\nref\n\n"
              "###Score Rubrics:\n[Is it kind?]\nScore 1: rude\nScore 2: cold\nScore 3: ok\n"
              "Score 4: warm\nScore 5: kind\n\n###Feedback: ")


def test_prometheus_rubric_scores_group_by_question(tmp_path: Path) -> None:
    src = tmp_path / "vicuna_eval.json"
    src.write_text(json.dumps([
        {"idx": 1, "response_source": "m1", "instruction": PROMETHEUS.format(q="Hi?", r="Hey"),
         "gpt4_score": [4, 5, 3]},
        {"idx": 1, "response_source": "m2", "instruction": PROMETHEUS.format(q="Hi?", r="No"),
         "gpt4_score": [1, 1, 1]},
        {"idx": 2, "response_source": "m1", "instruction": "no sections", "gpt4_score": [1]},
    ]))
    recs = list(import_file(src, "prometheus"))
    assert [r["status"] for r in recs] == ["invalid_input", "ok"]
    rec = recs[1]
    assert rec["responses"] == {"m1": "Hey", "m2": "No"} and rec["scores"] == {"m1": 4.0, "m2": 1.0}
    assert rec["scale"] == [1.0, 5.0] and "Is it kind?" in rec["principle"]
    item = item_from_row(rec)
    assert item.prefer is None and item.targets() == [(0, 1, 1.0)]


def test_cli_import_then_fit_reads_the_records(alpaca_file: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "labels.jsonl"
    assert main(["distill", "import", str(alpaca_file), "--format", "alpaca-eval",
                 "-o", str(out)]) == 3  # one invalid row
    err = capsys.readouterr().err
    assert "wrote 5 label records" in err and "invalid_input=1" in err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["status"] for r in lines] == ["ok", "ok", "ok", "unparsed", "invalid_input"]
    labels = read_labels([out])
    assert len(labels.items) == 3 and labels.skipped["unparsed"] == 1
    assert labels.items[0].prefer == pytest.approx(0.75)


def test_cli_import_refuses_options_that_do_not_apply(alpaca_file: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["distill", "import", str(alpaca_file), "--format", "alpaca-eval",
                 "--teacher", "x", "-o", str(tmp_path / "o.jsonl")])
    assert code != 0 and "--teacher applies only to --format jsonl" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_import_fit_eval_holds_out_answer_sets(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"instruction": f"Question {n}?", "output_1": f"base answer {n}",
             "output_2": f"policy answer {n} " + "more words " * (n % 4),
             "generator_1": "base", "generator_2": "pa" if n < 30 else "pb",
             "annotator": "teacher_x", "preference": 1 + (n % 5) / 5} for n in range(60)]
    src = tmp_path / "a.json"
    src.write_text(json.dumps(rows))
    labels, head = tmp_path / "labels.jsonl", tmp_path / "head"
    assert main(["distill", "import", str(src), "--format", "alpaca-eval", "-o",
                 str(labels)]) == 0
    assert main(["distill", "fit", "--labels", str(labels), "--out", str(head), "--embedder",
                 "hash:32", "--no-cache", "--epochs", "2", "--test-answer-sets", "pb"]) == 0
    config = json.loads((head / "config.json").read_text())
    assert config["training"]["items"] == {"train": 30, "test": 30}
    assert config["training"]["split"]["test_answer_sets"] == ["pb"]
    capsys.readouterr()
    plot = tmp_path / "cal.png"
    assert main(["distill", "eval", "--head", str(head), "--labels", str(labels), "--no-cache",
                 "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "| pb |" in out and "| pa |" not in out and "Soft agreement on 30" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_prometheus_rows_without_a_source_are_all_kept(tmp_path: Path) -> None:
    src = tmp_path / "vicuna_eval.json"
    src.write_text(json.dumps([
        {"idx": 1, "instruction": PROMETHEUS.format(q="Hi?", r="A"), "gpt4_score": [4]},
        {"idx": 1, "instruction": PROMETHEUS.format(q="Hi?", r="B"), "gpt4_score": [2]},
        {"idx": 1, "response_source": "m", "instruction": PROMETHEUS.format(q="Hi?", r="C"),
         "gpt4_score": [3]},
        {"idx": 1, "response_source": "m", "instruction": PROMETHEUS.format(q="Hi?", r="D"),
         "gpt4_score": [1]},
    ]))
    (rec,) = import_file(src, "prometheus")
    texts = [r["text"] for r in rec["item"]["responses"]]
    assert rec["status"] == "ok" and texts == ["A", "B", "C", "D"]
    assert len(set(rec["ranking"])) == 4


@pytest.mark.parametrize("verdict", [{"preference": True}, {"scores": [1, float("nan")]},
                                     {"scores": [1, float("inf")]}])
def test_a_non_number_verdict_is_refused(tmp_path: Path, verdict: dict) -> None:
    src = tmp_path / "v.jsonl"
    src.write_text(json.dumps({"prompt": "q", "responses": ["a", "b"], "principle": "Be brief.",
                               **verdict}) + "\n")
    (rec,) = import_file(src, "jsonl")
    assert rec["status"] == "invalid_input" and rec["scores"] is None

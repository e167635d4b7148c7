"""TRL preference datasets in, labels out that can be labeled again, pairs as a dataset folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.labelfakes import fake_backend, read_jsonl_rows, text_score, write_jsonl

from judge.cli import main
from judge.core import Judge
from judge.label import LabelOptions, label_dataset

LONG, SHORT = "a long and detailed answer here", "short"


def _judge() -> Judge:
    return Judge(fake_backend(), principle="correct-then-concise")


def _shown(judge: Judge) -> list[dict]:
    backend = judge.backend
    return [json.loads(r.messages[-1].content) for r in backend.requests]  # type: ignore[attr-defined]


@pytest.mark.parametrize("row", [
    {"prompt": "2+2?", "chosen": LONG, "rejected": SHORT},  # standard
    {"prompt": [{"role": "user", "content": "2+2?"}],  # conversational
     "chosen": [{"role": "assistant", "content": LONG}],
     "rejected": [{"role": "assistant", "content": SHORT}]},
    {"chosen": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": LONG}],
     "rejected": [{"role": "user", "content": "2+2?"},  # implicit prompt
                  {"role": "assistant", "content": SHORT}]},
], ids=["standard", "conversational", "implicit-prompt"])
def test_trl_preference_rows_are_two_response_listwise_items(tmp_path: Path, row: dict) -> None:
    judge = _judge()
    out = tmp_path / "out.jsonl"
    summary = label_dataset(judge, str(write_jsonl(tmp_path / "in.jsonl", [row])), out)
    assert summary.failed == 0
    got = read_jsonl_rows(out)[0]
    assert got["status"] == "ok"
    assert got["item"]["prompt"] == "2+2?"
    assert got["item"]["responses"] == [{"id": "chosen", "text": LONG},
                                        {"id": "rejected", "text": SHORT}]
    assert got["scores"] == {"chosen": text_score(LONG), "rejected": text_score(SHORT)}
    shown = _shown(judge)
    assert len(shown) == 1 and sorted(shown[0]["responses"].values()) == sorted([LONG, SHORT])
    assert {k: got[k] for k in row} == row  # the input columns are kept as they were


def test_a_bad_preference_row_names_its_field(tmp_path: Path) -> None:
    rows = [{"chosen": [{"role": "user", "content": "a?"}, {"role": "assistant", "content": "x"}],
             "rejected": [{"role": "user", "content": "b?"},
                          {"role": "assistant", "content": "y"}]},
            {"prompt": "q", "chosen": "x", "rejected": 3}]
    out = tmp_path / "out.jsonl"
    label_dataset(_judge(), str(write_jsonl(tmp_path / "in.jsonl", rows)), out)
    got = read_jsonl_rows(out)
    assert [r["status"] for r in got] == ["invalid_input", "invalid_input"]
    assert "field 'rejected'" in got[0]["problems"][0] and "differ" in got[0]["problems"][0]
    assert "field 'rejected'" in got[1]["problems"][0]


def test_the_output_of_label_can_be_labeled_again(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [{"id": n, "prompt": f"q{n}", "responses": {"a": "x" * (n + 1), "b": "y" * 20}}
            for n in range(4)]
    first = tmp_path / "first.parquet"
    label_dataset(_judge(), str(write_jsonl(tmp_path / "in.jsonl", rows)), first)
    table = pq.read_table(first)
    # id -> text responses are kept as a list of {id, text}, not a struct of every row's ids
    assert table.to_pylist()[0]["responses"] == [{"id": "a", "text": "x"},
                                                 {"id": "b", "text": "y" * 20}]
    second = tmp_path / "second.parquet"
    summary = label_dataset(_judge(), str(first), second, LabelOptions(normalize="minmax"))
    assert summary.failed == 0
    again = pq.read_table(second).to_pylist()
    before = table.to_pylist()
    assert [r["scores"] for r in again] == [r["scores"] for r in before]
    assert [r["status"] for r in again] == ["ok"] * 4 and "rewards" in again[0]
    assert sorted(again[0]) == sorted({*before[0], "rewards"})  # replaced, not duplicated


def test_pairs_as_a_dataset_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    datasets = pytest.importorskip("datasets")
    rows = [{"prompt": f"q{n}", "chosen": "c" * (5 + 10 * n), "rejected": "r"}
            for n in range(3)]
    replies = tmp_path / "r.jsonl"
    backend = ["--backend", "scripted:" + str(replies), "-B", "cycle=true"]
    replies.write_text(json.dumps(json.dumps(
        {"scores": {"model-1": 5, "model-2": 1}, "best-to-worst": ["model-1", "model-2"]}))
        + "\n")
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    pairs = tmp_path / "pairs"
    assert main(["label", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), *backend,
                 "--principle", "correct-then-concise", "--no-progress", "--no-shuffle",
                 "--pairs", str(pairs), "--pairs-format", "dataset"]) == 0
    loaded = datasets.load_from_disk(str(pairs))
    assert len(loaded) == 3 and {"prompt", "chosen", "rejected", "margin"} <= set(
        loaded.column_names)
    assert main(["label", "-i", str(src), "-o", str(tmp_path / "p.jsonl"), *backend,
                 "--pairs-format", "dataset", "--no-progress"]) == 2
    assert "--pairs-format applies to --pairs" in capsys.readouterr().err


def test_a_parquet_output_takes_rows_of_mixed_response_shapes(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from judge.backends.scripted import ScriptedBackend

    src = tmp_path / "in.jsonl"
    rows = [{"prompt": "2+2?", "responses": ["4", "five"]},
            {"prompt": "hi", "responses": {"x": "hello", "y": "yo"}},
            {"prompt": "hey", "responses": [{"id": "a", "content": "hey there"}, "yo"]}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    verdict = json.dumps({"scores": {"model-1": 4, "model-2": 2},
                          "best-to-worst": ["model-1", "model-2"]})
    judge = Judge(ScriptedBackend([verdict], cycle=True), principle="Be brief.", shuffle=False)
    out = tmp_path / "out.parquet"
    label_dataset(judge, str(src), out, LabelOptions())
    got = pq.read_table(out).to_pylist()
    assert [r["status"] for r in got] == ["ok", "ok", "ok"]
    assert got[0]["responses"] == [{"id": "0", "text": "4"}, {"id": "1", "text": "five"}]
    assert got[2]["responses"] == [{"id": "a", "text": "hey there"}, {"id": "1", "text": "yo"}]

"""The benchmark item format and its loaders: good rows load, bad rows name file, line, field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.bench.gold import GoldItem
from judge.bench.loaders import load_hf_dataset, load_jsonl
from judge.bench.suites import load_suite
from judge.errors import BenchmarkError, InputError

GOOD = {"id": "x1", "principle": "correct-then-concise", "prompt": "2+2?",
        "responses": {"a": "4", "b": "Four, because 2+2=4.", "c": "5"},
        "scores": {"a": 5, "b": 4, "c": 1}, "ranking": ["a", "b", "c"],
        "category": "style", "domain": "math", "metadata": {"note": "hand"}}


def write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_gold_from_scores_or_ranking() -> None:
    assert GoldItem(**GOOD).gold() == {"a": 5.0, "b": 4.0, "c": 1.0}
    only_rank = {k: v for k, v in GOOD.items() if k != "scores"}
    assert GoldItem(**only_rank).gold() == {"a": 3.0, "b": 2.0, "c": 1.0}
    as_lists = {**GOOD, "responses": ["4", "Four", "5"], "scores": [5, 4, 1],
                "ranking": ["0", "1", "2"]}
    assert GoldItem(**as_lists).gold() == {"0": 5.0, "1": 4.0, "2": 1.0}
    as_records = {**GOOD, "responses": [{"id": "p", "text": "4"}, {"id": "q", "text": "5"}],
                  "scores": [1, 0], "ranking": None}
    assert GoldItem(**as_records).gold() == {"p": 1.0, "q": 0.0}
    as_chat = {**as_records, "responses": [[{"role": "assistant", "content": "4"}],
                                           {"content": "5"}]}
    assert GoldItem(**as_chat).responses == {"0": "4", "1": "5"}


def test_gold_item_refuses_an_object_without_text(tmp_path: Path) -> None:
    row = {**GOOD, "responses": [{"id": "a", "text": "4"}, {"id": "b", "body": "5"}],
           "scores": None}
    with pytest.raises(InputError, match=r"s.jsonl:1: field 'responses\[1\]'"):
        load_jsonl(write(tmp_path / "s.jsonl", [row]))


def test_bench_item_is_the_gold_item() -> None:
    from judge.bench.items import BenchItem

    assert BenchItem is GoldItem


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"scores": None, "ranking": None}, "scores", "gold missing"),
    ({"scores": {"a": 5, "b": 4}}, "scores", "misses response ids ['c']"),
    ({"ranking": ["a", "b", "z"]}, "ranking", "unknown response ids ['z']"),
    ({"ranking": ["a", "a", "b"]}, "ranking", "duplicated"),
    ({"ranking": ["b", "a", "c"]}, "ranking", "'b' above 'a'"),
    ({"responses": {"a": "only one"}, "scores": {"a": 1}, "ranking": None}, "responses",
     "at least two"),
    ({"category": ""}, "category", "at least 1 character"),
    ({"colour": "red"}, "colour", "put extras under 'metadata'"),
    ({"scores": {"a": "high", "b": 4, "c": 1}}, "scores", "entry 'a'"),
])
def test_bad_rows_name_file_line_and_field(tmp_path: Path, change: dict, field: str,
                                           words: str) -> None:
    bad = {**GOOD, "id": "bad", **change}
    bad = {k: v for k, v in bad.items() if v is not None or k in ("scores", "ranking")}
    path = write(tmp_path / "suite.jsonl", [GOOD, bad])
    with pytest.raises(InputError) as info:
        load_jsonl(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:2: field '{field}'"), msg
    assert words in msg


def test_missing_field_unknown_principle_bad_json_and_duplicates(tmp_path: Path) -> None:
    rows = [GOOD, {k: v for k, v in GOOD.items() if k != "prompt"} | {"id": "n"},
            "{not json", {**GOOD, "id": "p", "principle": "correct-then-consise"}, GOOD]
    path = write(tmp_path / "s.jsonl", rows)
    with pytest.raises(InputError) as info:
        load_jsonl(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:2: field 'prompt': is required")
    assert f"{path}:3: not valid JSON" in msg
    assert f"{path}:4: field 'principle'" in msg and "did you mean 'correct-then-concise'" in msg
    assert f"{path}:5: field 'id': duplicate id 'x1' (first on line 1)" in msg


def test_free_text_principles_and_int_ids_load(tmp_path: Path) -> None:
    row = {**GOOD, "id": 7, "principle": "Prefer the shortest correct answer."}
    items = load_jsonl(write(tmp_path / "s.jsonl", [row]))
    assert items[0].id == "7" and items[0].principle_name() == row["principle"]


def test_hf_saved_dataset_and_parquet(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    rows = [GOOD, {**GOOD, "id": "x2", "responses": {"a": "4", "b": "5", "c": "four"},
                   "metadata": {"note": "other"}}]
    ds = datasets.Dataset.from_list(rows)
    ds.save_to_disk(str(tmp_path / "saved"))
    items = load_hf_dataset(tmp_path / "saved")
    assert [it.id for it in items] == ["x1", "x2"] and items[1].gold()["c"] == 1.0
    datasets.DatasetDict({"test": ds, "dev": ds}).save_to_disk(str(tmp_path / "dd"))
    suite = load_suite(f"{tmp_path / 'dd'}#dev")
    assert len(suite.items) == 2 and suite.builder.startswith("hf-datasets")
    with pytest.raises(InputError, match="no split 'nope'"):
        load_hf_dataset(tmp_path / "dd", "nope")
    ds.to_parquet(str(tmp_path / "s.parquet"))
    assert len(load_suite(str(tmp_path / "s.parquet")).items) == 2
    broken = datasets.Dataset.from_list([GOOD, {**GOOD, "id": "b2", "ranking": ["c", "b", "a"]}])
    broken.save_to_disk(str(tmp_path / "broken"))
    with pytest.raises(InputError, match=r"broken:2: field 'ranking'"):
        load_hf_dataset(tmp_path / "broken")


def test_unknown_suite_names_the_choices() -> None:
    with pytest.raises(BenchmarkError, match="unknown suite 'nope'.*rm-bench"):
        load_suite("nope")


def test_suite_version_is_a_content_hash(tmp_path: Path) -> None:
    a = load_suite(str(write(tmp_path / "a.jsonl", [GOOD])))
    b = load_suite(str(write(tmp_path / "b.jsonl", [GOOD])))
    c = load_suite(str(write(tmp_path / "c.jsonl", [{**GOOD, "prompt": "3+3?"}])))
    assert a.version == b.version != c.version

"""Normalisation, pairs, chat conversion, row mapping, journal and readers/writers."""

from __future__ import annotations

import json
import math

import pytest
from helpers.labelfakes import write_jsonl

from judge.errors import ConfigError, InputError
from judge.journal import Journal, default_journal_path
from judge.label.io import RowSource, output_format, write_rows
from judge.label.normalize import normalize_scores
from judge.label.pairs import make_pairs
from judge.label.record import row_item
from judge.messages import prompt_text, response_text

# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(("scores", "mode", "scale", "expected"), [
    ([1, 3, 5], "none", None, [1, 3, 5]),
    ([1, 3, 5], "group-z", None, [-math.sqrt(1.5), 0.0, math.sqrt(1.5)]),
    ([2, 2, 2], "group-z", None, [0.0, 0.0, 0.0]),
    ([4], "group-z", None, [0.0]),
    ([5, 1, 3], "group-rank", None, [1.0, 0.0, 0.5]),
    ([5, 5, 1], "group-rank", None, [0.75, 0.75, 0.0]),  # ties share rank 0.5 of 2
    ([3], "group-rank", None, [0.5]),
    ([1, 2, 5], "minmax", (1, 5), [0.0, 0.25, 1.0]),
    ([0.2, 0.7], "minmax", None, [0.0, 1.0]),           # head scores: group min/max
    ([0.4, 0.4], "minmax", None, [0.5, 0.5]),
])
def test_normalize_table(scores, mode, scale, expected):
    assert normalize_scores(scores, mode, scale) == pytest.approx(expected)


def test_normalize_rejects_unknown_mode():
    with pytest.raises(ConfigError, match="group-z"):
        normalize_scores([1.0], "zscore")


# ---------------------------------------------------------------- pairs


def test_pairs_all_skip_ties_and_orient_by_score():
    assert make_pairs([2, 4, 4, 1]) == [
        (1, 0, 2.0), (2, 0, 2.0), (0, 3, 1.0), (1, 3, 3.0), (2, 3, 3.0)]


def test_pairs_best_worst_and_margin():
    assert make_pairs([2, 4, 4, 1], mode="best-worst") == [(1, 3, 3.0)]
    assert make_pairs([2, 4, 1], min_margin=1.5) == [(1, 0, 2.0), (1, 2, 3.0)]
    assert make_pairs([3, 3], mode="best-worst") == []
    assert make_pairs([5]) == []


# ---------------------------------------------------------------- chat shapes


def test_chat_prompts_and_completions():
    assert prompt_text("plain") == "plain"
    assert prompt_text([{"role": "system", "content": "sys"},
                        {"role": "user", "content": [{"type": "text", "text": "a"},
                                                     {"type": "text", "text": "b"}]}]) == "ab"
    convo = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
             {"role": "user", "content": "and?"}]
    assert prompt_text(convo) == "User: hi\n\nAssistant: yo\n\nUser: and?"
    assert response_text([{"role": "assistant", "content": "done"}]) == "done"
    with pytest.raises(InputError, match="chat messages"):
        prompt_text(42)


# ---------------------------------------------------------------- rows -> items


def _item(row):
    return row_item(row, prompt_column="prompt", responses_column="responses",
                    response_column="response", principle_column="principle",
                    id_column="id")


def test_row_item_shapes():
    item = _item({"prompt": "q", "responses": {"a": "x", "b": "y"}, "id": 7})
    assert item.responses == {"a": "x", "b": "y"} and item.id == "7"
    assert _item({"prompt": "q", "response": "only"}).responses == {"0": "only"}
    assert _item({"prompt": "q", "responses": ["x"], "principle": ""}).principle is None


@pytest.mark.parametrize(("row", "message"), [
    ({"responses": ["x"]}, "field 'prompt': is required"),
    ({"prompt": "q"}, "field 'responses': is required"),
    ({"prompt": "q", "responses": []}, "needs at least one response"),
    ({"prompt": "q", "responses": "x"}, "must be a list"),
    ({"prompt": "q", "responses": ["x"], "principle": 3}, "field 'principle': must be text"),
])
def test_row_item_errors(row, message):
    with pytest.raises(InputError, match=message):
        _item(row)


# ---------------------------------------------------------------- journal


def test_journal_trims_partial_tail_and_last_record_wins(tmp_path, caplog):
    path = tmp_path / "out.journal.jsonl"
    good = {"key": "a", "config": "c", "status": "backend_error"}
    newer = {"key": "a", "config": "c", "status": "ok"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(newer) + "\n" + '{"key": "b", "co',
                    encoding="utf-8")
    journal = Journal(path)
    assert journal.scan() == {"a": ("c", "ok")}
    assert journal.skipped == 1 and "line 3: truncated" in caplog.text
    journal.append([{"key": "b", "config": "c", "status": "ok"}])
    journal.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(json.loads(x) for x in lines)  # the partial line is gone
    assert set(journal.load()) == {"a", "b"}
    assert journal.load()["a"]["status"] == "ok"


@pytest.mark.parametrize(("line", "why"), [
    ("garbage\n", "not valid JSON"),
    ("[1, 2]\n", "a JSON list"),
    ('{"key": "x", "config": "c"}\n', "missing field(s) ['status']"),
    ('{"key": 3, "config": "c", "status": "ok"}\n', "['key'] are not text"),
    ('{"key": "x", "config": "c", "status": "ok", "extra": 1}\n', "custom: no"),
    (b"\xff\xfe\n", "not valid JSON"),
])
def test_journal_skips_bad_lines_with_a_count_and_a_warning(tmp_path, caplog, line, why):
    path = tmp_path / "j.jsonl"
    good = json.dumps({"key": "a", "config": "c", "status": "ok"}) + "\n"
    data = line if isinstance(line, bytes) else line.encode()
    path.write_bytes(good.encode() + data + good.replace('"a"', '"b"').encode())
    journal = Journal(path, check=lambda r: "custom: no" if "extra" in r else None)
    assert set(journal.scan()) == {"a", "b"}
    assert journal.skipped == 1
    assert "skipped 1 journal line(s)" in caplog.text and why in caplog.text


def test_default_journal_path(tmp_path):
    assert default_journal_path(tmp_path / "o.parquet").name == "o.parquet.journal.jsonl"
    assert default_journal_path(str(tmp_path / "ds") + "/").name == "ds.journal.jsonl"


# ---------------------------------------------------------------- readers / writers


ROWS = [{"prompt": "p1", "responses": ["a", "bb"], "n": 1},
        {"prompt": "p2", "responses": ["c"], "n": 2}]


def test_jsonl_source_yields_errors_in_place(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [ROWS[0], "[1, 2]", ROWS[1]])
    got = list(RowSource(str(path)))
    assert [w for w, _ in got] == [1, 2, 3]
    assert isinstance(got[1][1], InputError) and got[2][1] == ROWS[1]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "dataset"])
def test_write_then_read_round_trip(tmp_path, fmt):
    pytest.importorskip("pyarrow")
    if fmt == "dataset":
        pytest.importorskip("datasets")
    target = tmp_path / {"jsonl": "o.jsonl", "parquet": "o.parquet", "dataset": "ds"}[fmt]
    assert write_rows(target, iter(ROWS), fmt) == 2
    assert write_rows(target, iter(ROWS[:1]), fmt) == 1  # replacing an existing output
    assert [r for _, r in RowSource(str(target))] == ROWS[:1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temp left behind


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_write_that_dies_midway_leaves_the_old_output(tmp_path, fmt):
    pytest.importorskip("pyarrow")
    target = tmp_path / f"o.{fmt}"
    write_rows(target, iter(ROWS), fmt)
    before = target.read_bytes()

    def dying():
        yield ROWS[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_rows(target, dying(), fmt)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_hf_data_files_source(tmp_path):
    pytest.importorskip("datasets")
    path = write_jsonl(tmp_path / "in.jsonl", ROWS)
    assert [r for _, r in RowSource(f"hf:{path}")] == ROWS


def test_dataset_dict_needs_split(tmp_path):
    datasets = pytest.importorskip("datasets")
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS),
                               "test": datasets.Dataset.from_list(ROWS[:1])})
    dd.save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(ConfigError, match="--split"):
        list(RowSource(str(tmp_path / "dd")))
    assert len(list(RowSource(str(tmp_path / "dd"), split="test"))) == 1


def test_output_format_and_missing_input(tmp_path):
    assert output_format("x.parquet") == "parquet"
    assert output_format("x", "dataset") == "dataset"
    with pytest.raises(ConfigError, match="--output-format dataset"):
        output_format("x.csv")
    with pytest.raises(InputError, match="does not exist"):
        RowSource(str(tmp_path / "nope.jsonl"))
    with pytest.raises(ConfigError, match="standard input"):
        RowSource("-")

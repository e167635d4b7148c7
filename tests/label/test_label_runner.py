"""The label runner: labels, resume after a crash, reuse, duplicates, failures, outputs."""

from __future__ import annotations

import json

import pytest
from helpers.labelfakes import (
    LengthHead,
    fake_backend,
    make_rows,
    read_jsonl_rows,
    text_score,
    verdict,
)
from helpers.labelfakes import write_jsonl as write

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.errors import BackendUnavailable, ConfigError
from judge.label import LabelOptions, label_dataset
from judge.label.io import RowSource
from judge.principles import resolve_principle
from judge.record import RECORD_SCHEMA, from_row


def responses_of(row):
    # parquet fills absent columns with null, and stores responses as {id, text} lists
    values = row.get("responses") or [row["response"]]
    return [v["text"] if isinstance(v, dict) else v for v in values]


def test_labels_follow_the_judges_verdicts(tmp_path, text_judge):
    rows = make_rows(40)
    out = tmp_path / "out.jsonl"
    summary = label_dataset(text_judge, str(write(tmp_path / "in.jsonl", rows)), out)
    got = read_jsonl_rows(out)
    assert summary.total == 40 and summary.labeled == 40 and summary.failed == 0
    assert [{k: r[k] for k in rows[i]} for i, r in enumerate(got)] == rows  # input kept
    for row in got:
        texts = responses_of(row)
        assert row["schema"] == RECORD_SCHEMA and from_row(row)["status"] == "ok"
        ids = [r["id"] for r in row["item"]["responses"]]
        assert [r["text"] for r in row["item"]["responses"]] == texts
        assert [row["scores"][i] for i in ids] == [float(text_score(t)) for t in texts]
        assert row["mode"] == ("pointwise" if len(texts) == 1 else "listwise")
        ranked = [row["scores"][i] for i in row["ranking"]]
        assert sorted(row["ranking"]) == sorted(ids) and ranked == sorted(ranked, reverse=True)
        principle = "no-sycophancy" if row.get("principle") else "correct-then-concise"
        assert row["provenance"]["principle"]["id"] == principle
        assert row["item"]["principle"]["id"] == principle
        assert row["item"]["principle"]["text"] == resolve_principle(principle).text


def test_head_backend_and_normalized_rewards(tmp_path, head_judge):
    rows = make_rows(20)
    out = tmp_path / "out.parquet"
    label_dataset(head_judge, str(write(tmp_path / "in.jsonl", rows)), out,
                  LabelOptions(normalize="group-rank"))
    got = [r for _, r in RowSource(str(out))]
    for row in got:
        texts = responses_of(row)
        # parquet keeps one type per column: id-keyed scores as {id, score} lists
        assert [e["id"] for e in row["scores"]] == [str(n) for n in range(len(texts))]
        rec = from_row(row)
        assert rec is not None
        assert list(rec["scores"].values()) == pytest.approx([len(t) / 10 for t in texts])
        assert rec["scale"] is None and rec["provenance"]["backend"] == "fake-head"
        best = int(rec["ranking"][0])
        assert row["rewards"][best] == (1.0 if len(texts) > 1 else 0.5)


class Crash:
    """A verdict function that raises (like a dead server) after ``after`` requests."""

    def __init__(self, after: int | None) -> None:
        self.after, self.seen = after, 0

    def __call__(self, request):
        self.seen += 1
        if self.after is not None and self.seen > self.after:
            raise BackendUnavailable("judge server went away")
        return verdict(request)


def test_resume_after_crash_judges_each_row_once(tmp_path):
    rows = make_rows(60)
    src = str(write(tmp_path / "in.jsonl", rows))
    ref = tmp_path / "ref.jsonl"
    label_dataset(Judge(fake_backend(), principle="correct-then-concise"), src, ref)

    out = tmp_path / "out.jsonl"
    first = Crash(after=25)
    with pytest.raises(BackendUnavailable):
        label_dataset(Judge(ScriptedBackend(first, name="scripted:fake-length"),
                            principle="correct-then-concise"), src, out,
                      LabelOptions(batch_size=10))
    assert not out.exists()
    finished = len(read_jsonl_rows(tmp_path / "out.jsonl.journal.jsonl"))
    assert finished == 20  # two full batches were synced before the crash

    second = Crash(after=None)
    summary = label_dataset(Judge(ScriptedBackend(second, name="scripted:fake-length"),
                                  principle="correct-then-concise"), src, out,
                            LabelOptions(batch_size=10))
    assert summary.reused == 20 and summary.labeled == 40 and second.seen == 40
    assert out.read_text() == ref.read_text()

    again = Crash(after=0)  # unchanged config: nothing is judged, the output is rewritten
    summary = label_dataset(Judge(ScriptedBackend(again, name="scripted:fake-length"),
                                  principle="correct-then-concise"), src, out)
    assert summary.labeled == 0 and summary.reused == 60 and again.seen == 0
    assert out.read_text() == ref.read_text()


def test_changed_config_relabels(tmp_path, text_judge):
    src = str(write(tmp_path / "in.jsonl", make_rows(10)))
    out = tmp_path / "out.jsonl"
    label_dataset(text_judge, src, out)
    other = Judge(fake_backend(), principle="correct-then-concise", seed=1)
    summary = label_dataset(other, src, out)
    assert summary.labeled == 10 and summary.reused == 0 and summary.stale == 10


def test_duplicate_rows_each_labeled_once(tmp_path, text_judge):
    row = {"prompt": "same", "responses": ["a", "bbbbbbbbbbb"]}
    src = str(write(tmp_path / "in.jsonl", [row, row, {**row, "id": 9}]))
    out = tmp_path / "out.jsonl"
    summary = label_dataset(text_judge, src, out)
    got = read_jsonl_rows(out)
    assert summary.labeled == 3 and len(got) == 3
    assert len({r["label_key"] for r in got}) == 3
    assert len(read_jsonl_rows(tmp_path / "out.jsonl.journal.jsonl")) == 3


def test_failures_are_counted_and_retried_by_policy(tmp_path):
    rows = [{"prompt": "fine", "responses": ["a", "bb"]},
            {"prompt": "UNPARSABLE", "responses": ["a", "bb"]},
            {"prompt": "BACKEND_ERROR", "response": "a"},
            {"prompt": "no responses"},
            "{broken json"]
    src = str(write(tmp_path / "in.jsonl", rows))
    out = tmp_path / "out.jsonl"
    calls = Crash(after=None)
    judge = Judge(ScriptedBackend(calls, name="scripted:fake-length"),
                  principle="correct-then-concise")
    summary = label_dataset(judge, src, out)
    assert dict(summary.counts) == {"ok": 1, "unparsed": 1, "backend_error": 1,
                                    "invalid_input": 2}
    assert summary.failed == 4
    got = read_jsonl_rows(out)
    assert [r["status"] for r in got] == ["ok", "unparsed", "backend_error", "invalid_input",
                                          "invalid_input"]
    assert got[1]["scores"] is None and got[1]["raw"] == ["I would rather not answer in JSON."]
    assert "responses" in got[3]["problems"][0] and "in.jsonl:5" in got[4]["problems"][0]

    calls.seen = 0
    summary = label_dataset(judge, src, out)  # backend errors are judged again
    assert calls.seen == 1 and summary.labeled == 1
    summary = label_dataset(judge, src, out, LabelOptions(retry_failed=True))
    assert calls.seen == 3 and summary.labeled == 2


def test_column_clash_and_prefix(tmp_path, text_judge):
    src = str(write(tmp_path / "in.jsonl", [{"prompt": "q", "responses": ["a"], "scores": 1}]))
    with pytest.raises(ConfigError, match="--prefix"):
        label_dataset(text_judge, src, tmp_path / "out.jsonl")
    label_dataset(text_judge, src, tmp_path / "out.jsonl", LabelOptions(prefix="judge_"))
    row = read_jsonl_rows(tmp_path / "out.jsonl")[0]
    assert row["scores"] == 1 and row["judge_scores"] == {"0": 1.0}
    assert row["judge_status"] == "ok" and from_row(row)["scores"] == {"0": 1.0}


def test_output_cannot_overwrite_the_input(tmp_path, text_judge):
    src = write(tmp_path / "in.jsonl", make_rows(2))
    with pytest.raises(ConfigError, match="is the input file"):
        label_dataset(text_judge, str(src), src)


def test_missing_principle_without_default(tmp_path):
    src = str(write(tmp_path / "in.jsonl", [{"prompt": "q", "responses": ["a"]},
                                            {"prompt": "q", "responses": ["a"],
                                             "principle": "Prefer short answers."}]))
    summary = label_dataset(Judge(fake_backend()), src, tmp_path / "out.jsonl")
    got = read_jsonl_rows(tmp_path / "out.jsonl")
    assert [r["status"] for r in got] == ["invalid_input", "ok"]
    assert "no --principle default" in got[0]["problems"][0] and summary.failed == 1


def test_pairs_and_dataset_output(tmp_path, head_judge):
    pytest.importorskip("datasets")
    rows = [{"prompt": [{"role": "user", "content": "q"}], "id": "r1",
             "responses": ["a" * 30, "a" * 10, "a" * 20]},
            {"prompt": [{"role": "user", "content": "single"}], "response": "x"}]
    src = str(write(tmp_path / "in.jsonl", rows))
    pairs = tmp_path / "pairs.parquet"
    summary = label_dataset(head_judge, src, tmp_path / "ds",
                            LabelOptions(output_format="dataset", pairs=pairs,
                                         pair_mode="all"))
    assert summary.pairs == 3
    got = [r for _, r in RowSource(pairs)]
    assert [(p["chosen"], p["rejected"]) for p in got] == [
        ("a" * 30, "a" * 10), ("a" * 30, "a" * 20), ("a" * 20, "a" * 10)]
    assert got[0]["margin"] == pytest.approx(2.0) and got[0]["prompt"] == rows[0]["prompt"]
    assert got[0]["principle_id"] == "correct-then-concise" and got[0]["id"] == "r1"
    labeled = [r for _, r in RowSource(str(tmp_path / "ds"))]
    assert len(labeled) == 2 and from_row(labeled[1])["scores"]["0"] == pytest.approx(0.1)


def test_mixed_column_types_cannot_go_to_parquet(tmp_path, head_judge):
    src = str(write(tmp_path / "in.jsonl", [{"prompt": "q", "response": "a", "x": [1]},
                                            {"prompt": "q", "response": "b", "x": "one"}]))
    with pytest.raises(ConfigError, match="column 'x'.*jsonl"):
        label_dataset(head_judge, src, tmp_path / "out.parquet")
    label_dataset(head_judge, src, tmp_path / "out.jsonl")  # the journal is reused


def test_journal_records_are_json_lines_keyed_by_content(tmp_path, text_judge):
    src = str(write(tmp_path / "in.jsonl", make_rows(5)))
    label_dataset(text_judge, src, tmp_path / "o.jsonl", LabelOptions(journal=tmp_path / "j"))
    records = [json.loads(x) for x in (tmp_path / "j").read_text().splitlines()]
    assert [r["row"] for r in records] == list(range(5))
    assert {"key", "config", "row", "status", "scores", "schema"} <= set(records[0])


def test_a_damaged_journal_line_is_skipped_and_its_row_judged_again(tmp_path, text_judge,
                                                                    caplog):
    src = str(write(tmp_path / "in.jsonl", make_rows(4)))
    out, journal = tmp_path / "o.jsonl", tmp_path / "j"
    first = label_dataset(text_judge, src, out, LabelOptions(journal=journal))
    lines = journal.read_text().splitlines()
    wrong_shape = {**json.loads(lines[1]), "scores": "five"}   # valid JSON, wrong shape
    lines[1] = json.dumps(wrong_shape)
    lines[2] = lines[2][: len(lines[2]) // 2]                    # truncated
    journal.write_text("\n".join(lines) + "\n")
    again = label_dataset(text_judge, src, out, LabelOptions(journal=journal))
    assert again.labeled == 2 and again.reused == 2 and again.counts == first.counts
    assert "skipped 2 journal line(s)" in caplog.text
    assert LengthHead  # the head fake is exercised in the tests above

"""One labelled record: written by rank, label and bench run; read by distill and bench report.

Old files (written before records had ``schema``) are read as they were meant or refused, never
misread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judge import InputError, Judge
from judge.backends.scripted import ScriptedBackend
from judge.bench.oracle import oracle_backend
from judge.bench.report import build_report
from judge.bench.runner import RECORDS, load_records, run_suite
from judge.bench.suites import load_suite
from judge.cli import main
from judge.distill.labels import read_labels
from judge.label import LabelOptions, label_dataset
from judge.record import RECORD_SCHEMA, from_row, to_table_row

FREE_TEXT = "Prefer the answer a careful engineer would sign off."
VERDICT = json.dumps({"scores": {"model-1": 5, "model-2": 2}, "best-to-worst":
                      ["model-1", "model-2"]})


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def scripted(tmp_path: Path) -> str:
    path = tmp_path / "replies.jsonl"
    path.write_text(json.dumps(VERDICT) + "\n")
    return f"scripted:{path}"


ROWS = [{"prompt": "q1", "responses": [{"id": "good", "text": "right"},
                                       {"id": "bad", "text": "wrong"}]},
        {"prompt": "q2", "responses": ["right", "wrong"]}]


def test_rank_records_distil_without_retyping_a_free_text_principle(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "ranked.jsonl"
    assert main(["rank", "-i", str(src), "-o", str(out), "--principle", FREE_TEXT,
                 "--no-shuffle", "--backend", scripted(tmp_path), "-B", "cycle=true"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["schema"] == RECORD_SCHEMA for r in rows)
    assert rows[0]["item"]["responses"] == ROWS[0]["responses"]
    labels = read_labels([out], strict=True)  # no --principle given
    assert len(labels.items) == 2 and not labels.skipped
    first = labels.items[0]
    assert first.principle == FREE_TEXT and first.principle_id.startswith("text:")
    assert first.responses == ("right", "wrong") and first.ids == ("good", "bad")
    assert first.scores == (5.0, 2.0)


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_label_records_read_back_from_jsonl_and_parquet(tmp_path: Path, suffix: str) -> None:
    if suffix == "parquet":
        pytest.importorskip("pyarrow")
    rows = [{"prompt": "q1", "responses": ["right", "wrong"]}, {"prompt": "q2", "responses":
             ["right", "wrong"], "meta": "x"}, {"prompt": "bad"}]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    judge = Judge(ScriptedBackend([VERDICT], cycle=True), principle=FREE_TEXT, shuffle=False)
    out = tmp_path / f"out.{suffix}"
    label_dataset(judge, str(src), out, LabelOptions(prefix="j_"))
    labels = read_labels([out]) if suffix == "jsonl" else None
    if suffix == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(out)
        # fixed column types: no struct with a field per response id
        assert str(table.schema.field("j_scores").type) == \
            "list<element: struct<id: string, score: double>>"
        assert str(table.schema.field("j_provenance").type) == "string"
        rows = table.to_pylist()
        recs = [from_row(r) for r in rows]
        assert recs[0] is not None and recs[0]["scores"] == {"0": 5.0, "1": 2.0}
        assert recs[2] is not None and recs[2]["status"] == "invalid_input"
        labels = read_labels([out])  # the parquet file itself, as `judge distill fit` reads it
    assert labels is not None
    assert [it.scores for it in labels.items] == [(5.0, 2.0), (5.0, 2.0)]
    assert labels.items[0].principle == FREE_TEXT
    assert labels.skipped["invalid_input"] == 1


def test_parquet_form_round_trips() -> None:
    rec = {"schema": RECORD_SCHEMA, "status": "ok", "scores": {"a": 1.0},
           "logprob_scores": None, "provenance": {"seed": 3}}
    back = from_row(to_table_row(rec))
    assert back is not None
    assert back["scores"] == {"a": 1.0} and back["provenance"] == {"seed": 3}


def test_a_record_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    row = {"schema": "judge.record/9", "status": "ok", "scores": {"0": 1}}
    with pytest.raises(InputError, match="record schema 'judge.record/9'.*judge the input again"):
        from_row(row)
    path = write_jsonl(tmp_path / "new.jsonl", [row])
    labels = read_labels([path])
    assert not labels.items and labels.skipped["invalid"] == 1
    assert "judge.record/9" in labels.problems[0]


def old_label_row(responses: Any, scores: list[float], **extra: Any) -> dict[str, Any]:
    """A row as `judge label` wrote it before records (scores in response order)."""
    return {"prompt": "q", "responses": responses, "scores": scores, "score": None,
            "ranking": [0, 1], "status": "ok", "problems": [], "flags": [], "raw": ["{}"],
            "mode": "listwise", "scale": [1, 5], "logprob_scores": None, "consistency": None,
            "provenance": {"principle": {"id": "correct-then-concise", "version": 1,
                                         "hash": "x"}},
            "label_key": "k", **extra}


def test_old_label_files_are_read_as_meant_or_refused(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "old.jsonl", [
        old_label_row(["right", "wrong"], [5.0, 1.0]),
        # judged as empty texts by the old labeller: must not become teacher labels
        old_label_row([{"text": "right"}, {"text": "wrong"}], [3.0, 3.0]),
        old_label_row(["a", "b"], [1.0, 5.0], flags=["ranking_contradicts_scores"]),
    ])
    labels = read_labels([path], default_principle="correct-then-concise")
    assert [(it.responses, it.scores) for it in labels.items] == [(("right", "wrong"),
                                                                    (5.0, 1.0))]
    assert labels.skipped["invalid"] == 1 and labels.skipped["inconsistent"] == 1


def test_bench_records_feed_report_and_distill_and_old_runs_still_report(
        tmp_path: Path) -> None:
    suite = load_suite("sample")
    run = tmp_path / "run"
    run_suite(suite, Judge(oracle_backend(suite.items)), run, limit=5)
    new_report = build_report(run, resamples=20)
    labels = read_labels([run])
    assert len(labels.items) == 5 and all(it.principle for it in labels.items)
    # the same run as an older version wrote it: no schema, the verdict under "judgment"
    old_rows = []
    for r in load_records(run):
        old = {k: r[k] for k in ("key", "config", "item_id", "item_hash", "category", "domain",
                                 "principle_name", "gold", "status", "scores", "ranking",
                                 "direct")}
        old["judgment"] = {"mode": r["mode"], "provenance": r["provenance"]}
        old_rows.append(old)
    write_jsonl(run / RECORDS, old_rows)
    old_report = build_report(run, resamples=20)
    assert old_report["metrics"] == new_report["metrics"]
    assert old_report["statuses"] == new_report["statuses"]
    old_labels = read_labels([run])
    assert [it.scores for it in old_labels.items] == [it.scores for it in labels.items]


def test_a_malformed_record_is_refused_not_a_crash(tmp_path: Path) -> None:
    row = {"schema": RECORD_SCHEMA, "status": "ok", "scores": {"0": 1.0},
           "item": {"prompt": "q", "responses": [{"text": "no id"}],
                    "principle": {"id": "p", "text": "P"}}}
    labels = read_labels([write_jsonl(tmp_path / "bad.jsonl", [row])])
    assert not labels.items and labels.skipped["invalid"] == 1
    assert "malformed" in labels.problems[0]


def test_a_row_holding_two_records_is_refused_not_misread(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "q", "responses": ["a", "b"]}])
    first = tmp_path / "a.jsonl"
    again = tmp_path / "b.jsonl"
    judge = Judge(ScriptedBackend([VERDICT], cycle=True), principle=FREE_TEXT, shuffle=False)
    label_dataset(judge, str(src), first, LabelOptions())
    label_dataset(judge, str(first), again, LabelOptions(prefix="new_"))
    row = json.loads(again.read_text().splitlines()[0])
    assert row["schema"] == row["new_schema"] == RECORD_SCHEMA
    with pytest.raises(InputError, match="2 labelled records"):
        from_row(row)
    labels = read_labels([again])
    assert labels.items == [] and labels.skipped["invalid"] == 1

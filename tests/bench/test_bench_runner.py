"""Runs through scripted backends: oracle figures, resuming, and what a run directory holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judge.backends.scripted import ScriptedBackend
from judge.bench.gold import GoldItem
from judge.bench.oracle import oracle_backend
from judge.bench.report import build_report, write_report
from judge.bench.runner import MANIFEST, RECORDS, load_records, run_suite
from judge.bench.suites import Suite, load_suite
from judge.core import Judge
from judge.errors import BenchmarkError, ConfigError
from judge.principles import resolve_principle
from judge.record import RECORD_SCHEMA, from_row
from judge.types import Generation, GenerationRequest


@pytest.fixture(scope="module")
def sample() -> Suite:
    return load_suite("sample")


def gold_reply_fn(items: list[GoldItem], *, reverse: bool = False):
    """A test-local oracle: read the rendered JSON user turn and answer the gold order."""
    by_key = {(resolve_principle(it.principle).text, it.prompt,
               tuple(sorted(it.responses.values()))): it for it in items}

    def reply(request: GenerationRequest) -> str:
        shown = json.loads(request.messages[-1].content)
        item = by_key[(shown["principle"], shown["prompt"],
                       tuple(sorted(shown["responses"].values())))]
        text_to_id = {t: i for i, t in item.responses.items()}
        gold = item.gold()
        value = {m: gold[text_to_id[t]] for m, t in shown["responses"].items()}
        order = sorted(value, key=lambda m: value[m], reverse=not reverse)
        scores = {m: 5 - 4 * n / (len(order) - 1) for n, m in enumerate(order)}
        return json.dumps({"scores": scores, "best-to-worst": order})

    return reply


def overall(report: dict) -> dict:
    return report["metrics"]["default"]["overall"]


def test_gold_judge_scores_100_and_reversed_scores_0_and_minus_100(sample: Suite,
                                                                   tmp_path: Path) -> None:
    gold = Judge(ScriptedBackend(gold_reply_fn(sample.items)), seed=3)
    run_suite(sample, gold, tmp_path / "gold", chunk_size=5)
    o = overall(build_report(tmp_path / "gold", resamples=100))
    assert o["lists"] == len(sample.items) and o["unparsed"] == 0
    for name in ("accuracy", "tau", "ndcg", "top1"):
        assert o[name]["value"] == pytest.approx(100.0), name
    rev = Judge(ScriptedBackend(gold_reply_fn(sample.items, reverse=True)), seed=3)
    run_suite(sample, rev, tmp_path / "rev")
    o = overall(build_report(tmp_path / "rev", resamples=100))
    assert o["accuracy"]["value"] == pytest.approx(0.0)
    assert o["tau"]["value"] == pytest.approx(-100.0)
    assert o["top1"]["value"] == pytest.approx(0.0)
    assert 0 < o["ndcg"]["value"] < 100


def test_library_oracle_agrees_with_the_test_oracle(sample: Suite, tmp_path: Path) -> None:
    for mode, acc, tau in (("gold", 100.0, 100.0), ("reversed", 0.0, -100.0)):
        judge = Judge(oracle_backend(sample.items, mode), seed=1, permutations=2)
        run_suite(sample, judge, tmp_path / mode)
        o = overall(build_report(tmp_path / mode, resamples=0))
        assert (o["accuracy"]["value"], o["tau"]["value"]) == (pytest.approx(acc),
                                                               pytest.approx(tau))
    noisy = Judge(oracle_backend(sample.items, "noisy", noise=0.5, unparsed=0.3, seed=4))
    run_suite(sample, noisy, tmp_path / "noisy")
    report = build_report(tmp_path / "noisy", resamples=0)
    o = overall(report)
    assert 0 < o["unparsed"] < o["lists"] and 0 < o["accuracy"]["value"] < 100
    strict = report["metrics"]["strict"]["overall"]
    assert strict["accuracy"]["value"] < o["accuracy"]["value"]
    assert strict["judged"] == strict["lists"] > o["judged"]
    with pytest.raises(ConfigError, match="option 'nosie'"):
        oracle_backend(sample.items, "noisy", nosie=1)


def _strip_dates(report: dict) -> dict:
    report = json.loads(json.dumps(report))
    report.pop("report_date")
    for key in ("created", "updated", "dir"):
        report["run"].pop(key)
    return report


class Boom(RuntimeError):
    pass


def test_killed_run_resumes_to_the_same_report(sample: Suite, tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    run_suite(sample, Judge(oracle_backend(sample.items, "noisy", unparsed=0.2), seed=9),
              whole, chunk_size=4)
    inner = oracle_backend(sample.items, "noisy", unparsed=0.2)
    calls = {"n": 0}

    def dying(request: GenerationRequest) -> Generation:
        calls["n"] += 1
        if calls["n"] == 11:
            raise Boom("killed")
        return inner.generate([request])[0]

    part = tmp_path / "part"
    first = ScriptedBackend(dying, name="oracle:noisy")
    first.model = "gold-labels"
    with pytest.raises(Boom):
        run_suite(sample, Judge(first, seed=9), part, chunk_size=4)
    kept = (part / RECORDS).read_text().splitlines()
    assert len(kept) == 8                       # two whole chunks survived the crash
    with open(part / RECORDS, "a") as fh:       # and a crash mid-write left half a line
        fh.write(kept[0][:40])
    assert json.loads((part / MANIFEST).read_text())["status"] == "running"
    calls["n"] = -10**9                         # the resumed run does not die
    again = ScriptedBackend(dying, name="oracle:noisy")
    again.model = "gold-labels"
    result = run_suite(sample, Judge(again, seed=9), part, chunk_size=4)
    assert result.already_done == 8 and result.judged == len(sample.items) - 8
    assert len(again.requests) == len(sample.items) - 8
    rows = [json.loads(line) for line in (part / RECORDS).read_text().splitlines()]
    assert len(rows) == len({r["key"] for r in rows}) == len(sample.items)
    assert json.loads((part / MANIFEST).read_text())["status"] == "complete"
    a = _strip_dates(build_report(whole, resamples=200))
    b = _strip_dates(build_report(part, resamples=200))
    assert a == b
    # a third run of the same command finds nothing left to do
    assert run_suite(sample, Judge(again, seed=9), part).judged == 0


def test_another_judge_config_in_the_same_directory_is_refused(sample: Suite,
                                                               tmp_path: Path) -> None:
    run_suite(sample, Judge(oracle_backend(sample.items), seed=0), tmp_path, limit=3)
    with pytest.raises(BenchmarkError, match=r"differs in: sampling, seed"):
        run_suite(sample, Judge(oracle_backend(sample.items), seed=1), tmp_path)
    other = Suite("other", sample.items[:5], "jsonl/1", "x")
    with pytest.raises(BenchmarkError, match="suite 'sample' version"):
        run_suite(other, Judge(oracle_backend(sample.items), seed=0), tmp_path)


def test_manifest_and_records_carry_provenance(sample: Suite, tmp_path: Path) -> None:
    result = run_suite(sample, Judge(oracle_backend(sample.items), seed=5, permutations=2),
                       tmp_path, limit=6)
    assert result.planned == 6 and result.counts["ok"] == 6
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["suite"] == "sample" and manifest["suite_version"] == sample.version
    judge = manifest["judge"]
    assert judge["backend"] == "oracle:gold" and judge["seed"] == 5
    assert judge["permutations"] == 2 and judge["template"] == "listwise"
    assert len(judge["template_hash"]) >= 8 and manifest["package_version"]
    records = load_records(tmp_path)
    ids = [r["item_id"] for r in records]
    assert len(set(ids)) == 6 and all(r["gold"] and r["principle_name"] for r in records)
    assert len({r["domain"] for r in records}) >= 2          # the limit spreads over the suite
    assert records[0]["provenance"]["seed"] == 5
    assert len(records[0]["provenance"]["order"]) == 2
    # each record is a labelled record: the texts and the principle text travel with it
    by_id = {it.id: it for it in sample.items}
    rec = from_row(records[0])
    assert rec is not None and rec["schema"] == RECORD_SCHEMA
    gold = by_id[records[0]["item_id"]]
    assert {r["id"]: r["text"] for r in rec["item"]["responses"]} == gold.responses
    assert rec["item"]["prompt"] == gold.prompt
    assert rec["item"]["principle"]["text"] == resolve_principle(gold.principle).text


def test_report_files(sample: Suite, tmp_path: Path) -> None:
    run_suite(sample, Judge(oracle_backend(sample.items, "noisy", unparsed=0.1)), tmp_path)
    files = write_report(tmp_path, resamples=50)
    md = files.markdown.read_text()
    for needle in ("oracle:noisy", "gold-labels", "listwise (", "Seed", sample.version,
                   "Run date", "Report date", "## By category", "## By domain",
                   "## By principle", "| strict |", "unparsed"):
        assert needle in md, needle
    data = json.loads(files.json.read_text())
    assert set(data["metrics"]["default"]["by_domain"]) == {"chat", "code", "math", "safety"}
    assert [p.name for p in files.plots] == ["categories.png", "domains.png", "scores.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in files.plots)


class FlatHead:
    """A scoring backend that gives every response the same score."""

    name = "head:flat"
    model = "flat"

    def score_batch(self, items):
        return [[0.5] * len(it.responses) for it in items]

    def close(self) -> None:
        pass


def test_scoring_backend_runs_without_a_template(sample: Suite, tmp_path: Path) -> None:
    run_suite(sample, Judge(FlatHead()), tmp_path)
    records = load_records(tmp_path)
    assert all(r["direct"] for r in records)
    report = build_report(tmp_path, resamples=0)
    assert report["run"]["judge"]["template"] is None
    o = overall(report)
    # all ties: each pair earns 1/2 (the head's arbitrary sort order is not used), tau is 0
    # (judge.metrics' tie rule: a prediction that ties everything agrees with nothing), and
    # top-1 splits over the k tied responses
    assert o["unparsed"] == 0 and o["accuracy"]["value"] == pytest.approx(50.0)
    assert o["tau"]["value"] == pytest.approx(0.0) and o["variance"]["value"] == 0.0
    expected_top1 = 100 * sum(1 / len(it.responses) for it in sample.items) / len(sample.items)
    assert o["top1"]["value"] == pytest.approx(expected_top1)
    assert "none (scoring backend)" in write_report(tmp_path, resamples=0,
                                                    plots=False).markdown.read_text()

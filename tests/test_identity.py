"""The judge owns its identity: one config and fingerprint keys every resumable run."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from judge import Judge
from judge.backends.scripted import ScriptedBackend
from judge.bench.oracle import oracle_backend
from judge.bench.runner import RECORDS, load_records, run_suite
from judge.bench.suites import load_suite
from judge.distill.backend import HeadBackend
from judge.types import Sampling

P = "Prefer correct answers."


class Fingerprinted(ScriptedBackend):
    def __init__(self, print_: str) -> None:
        super().__init__([])
        self.print_ = print_

    def fingerprint(self) -> str:
        return self.print_


def test_fingerprint_follows_everything_that_changes_a_verdict() -> None:
    base = Judge(ScriptedBackend([]), principle=P)
    assert base.fingerprint() == Judge(ScriptedBackend([]), principle=P).fingerprint()
    variants = [
        Judge(ScriptedBackend([]), principle=P, seed=1),
        Judge(ScriptedBackend([]), principle=P, sampling=Sampling(temperature=0.5)),
        Judge(ScriptedBackend([]), principle=P, permutations=2),
        Judge(ScriptedBackend([]), principle=P, shuffle=False),
        Judge(ScriptedBackend([]), principle="Prefer short answers."),
        Judge(ScriptedBackend([]), principle=P, template="pointwise"),
        Judge(Fingerprinted("weights-1"), principle=P),
    ]
    prints = {j.fingerprint() for j in variants}
    assert len(prints) == len(variants) and base.fingerprint() not in prints
    assert Judge(Fingerprinted("weights-2"), principle=P).fingerprint() != \
        Judge(Fingerprinted("weights-1"), principle=P).fingerprint()


def test_config_is_frozen_and_names_the_templates() -> None:
    config = Judge(ScriptedBackend([]), principle=P).config()
    assert set(config.templates) == {"listwise", "pointwise", "pairwise"}
    assert config.template == "listwise" and config.template_hash == config.templates["listwise"]
    with pytest.raises(ValidationError):
        config.seed = 3  # type: ignore[misc]


def test_a_head_contributes_its_weights_hash() -> None:
    def head(sha: str) -> SimpleNamespace:
        return SimpleNamespace(name="h", config=SimpleNamespace(
            weights=SimpleNamespace(sha256=sha)), _embedder_spec="hash:64")

    one, two = HeadBackend(head("aaa"), "head"), HeadBackend(head("bbb"), "head")
    assert one.fingerprint() == "aaa:hash:64"
    assert Judge(one).fingerprint() != Judge(two).fingerprint()


def test_bench_skips_a_damaged_record_line_and_judges_it_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    suite = load_suite("sample")
    judge = Judge(oracle_backend(suite.items))
    run_suite(suite, judge, tmp_path, limit=4)
    lines = (tmp_path / RECORDS).read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), "gold": "not a mapping"})
    lines[1] = "garbage"
    (tmp_path / RECORDS).write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING):
        assert len(load_records(tmp_path)) == 2
    assert "skipped 2 journal line(s)" in caplog.text
    result = run_suite(suite, judge, tmp_path, limit=4)
    assert result.already_done == 2 and result.judged == 2
    assert len(load_records(tmp_path)) == 4

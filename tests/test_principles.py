"""The principle library: every file loads, coverage, strict validation, free text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from judge.errors import PrincipleError
from judge.principles import (
    CATEGORIES,
    DOMAINS,
    Principle,
    PrincipleLibrary,
    default_library,
    load_principle_file,
    resolve_principle,
)


def test_library_size_and_coverage() -> None:
    lib = default_library()
    assert len(lib.principles) >= 40
    cats = Counter(p.category for p in lib.principles.values())
    assert set(cats) == set(CATEGORIES)
    domains = Counter(d for p in lib.principles.values() for d in p.domains)
    assert set(domains) == set(DOMAINS)
    assert any(p.rubric for p in lib.principles.values())


def test_every_principle_has_version_and_paragraph() -> None:
    for p in default_library().principles.values():
        assert p.version and p.version >= 1
        assert len(p.statement.split()) >= 15, p.id
        assert p.text.startswith(p.statement.strip())


def test_sets_reference_existing_principles() -> None:
    lib = default_library()
    assert len(lib.sets) >= 3
    for set_id in lib.sets:
        assert lib.get_set(set_id)


def _write(tmp: Path, name: str, body: str) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(body)
    return path


GOOD = """id: {id}
version: 1
title: T
statement: Prefer answers that are short and correct and say nothing more than needed.
category: style
domains: [chat]
"""


def test_misspelled_field_names_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "x", GOOD.format(id="x") + "rubrik:\n  1: a\n")
    with pytest.raises(PrincipleError) as err:
        load_principle_file(path)
    msg = str(err.value)
    assert "x.yaml" in msg and "rubrik" in msg and "did you mean 'rubric'" in msg


@pytest.mark.parametrize("edit, needle", [
    (lambda s: s.replace("category: style", "category: vibes"), "category"),
    (lambda s: s.replace("domains: [chat]", "domains: [poetry]"), "domains"),
    (lambda s: s.replace("version: 1", "version: 0"), "version"),
    (lambda s: s.replace("id: x", "id: other"), "file name"),
    (lambda s: s.replace("statement: Prefer", "statementx: Prefer"), "statementx"),
    (lambda s: s + "rubric:\n  1: a\n  2: b\n", "rubric"),
    (lambda s: "[not, a, mapping]", "mapping"),
    (lambda s: "id: [unclosed", "YAML"),
])
def test_bad_files_give_clear_errors(tmp_path: Path, edit, needle: str) -> None:
    path = _write(tmp_path, "x", edit(GOOD.format(id="x")))
    with pytest.raises(PrincipleError, match=needle):
        load_principle_file(path)


def test_user_folder_overrides_and_extends(tmp_path: Path) -> None:
    _write(tmp_path, "house-style", GOOD.format(id="house-style"))
    lib = PrincipleLibrary([Path(default_library().folders[0]), tmp_path])
    assert lib.get("house-style").title == "T"
    assert len(lib.principles) == len(default_library().principles) + 1


def test_free_text_principles_get_stable_hash_ids() -> None:
    a = resolve_principle("Prefer concise answers that cite sources.")
    b = resolve_principle("  Prefer concise   answers that cite sources. ")
    c = resolve_principle("Prefer long answers.")
    assert a.id == b.id and a.id.startswith("text:") and a.id != c.id
    assert a.version is None and a.ref().hash == a.hash


def test_unknown_id_suggests_closest() -> None:
    with pytest.raises(PrincipleError, match="did you mean 'correct-then-concise'"):
        resolve_principle("correct-then-concize")


def test_library_ids_resolve_to_library_entries() -> None:
    p = resolve_principle("correct-then-concise")
    assert isinstance(p, Principle) and p.version == 1 and p.category is not None
    assert p.ref().id == "correct-then-concise"

"""Bad text in input files: one row with a non-UTF-8 byte or a lone surrogate is that row's
error (file:line:field), every other row is judged (issue 12, items 9 and 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judge.cli import main
from judge.errors import InputError
from judge.hashing import json_hash, text_hash
from judge.jsonl import read_jsonl
from judge.textcheck import find_bad_text, first_bad_char

GOOD = json.dumps({"scores": {"model-1": 4, "model-2": 2}, "best-to-worst": ["model-1", "model-2"]})


def _file(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _row(n: int) -> bytes:
    return json.dumps({"id": n, "prompt": f"q{n}", "responses": [f"a{n}", f"b{n}"]}).encode()


def test_reader_isolates_a_non_utf8_line_and_a_surrogate_line(tmp_path: Path) -> None:
    surrogate = b'{"id": 2, "prompt": "q", "responses": ["fine", "bad \\ud800 text"]}'
    path = _file(tmp_path, [_row(0), b'{"id": 1, "prompt": "caf\xe9", "responses": ["a"]}',
                            surrogate, b"", _row(4)])
    got = list(read_jsonl(path))
    assert [n for n, _ in got] == [1, 2, 3, 5]
    assert got[0][1] == json.loads(_row(0)) and got[3][1] == json.loads(_row(4))
    latin, lone = got[1][1], got[2][1]
    assert isinstance(latin, InputError) and isinstance(lone, InputError)
    assert str(latin).startswith(f"{path}:2: not UTF-8") and "byte 0xe9" in str(latin)
    assert (lone.path, lone.line, lone.field) == (str(path), 3, "responses[1]")
    assert "character 4 is a lone surrogate (U+D800)" in str(lone)


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    path = _file(tmp_path, [b"\xef\xbb\xbf" + _row(0) + b"\r", _row(1) + b"\r"])
    assert [row for _, row in read_jsonl(path)] == [json.loads(_row(0)), json.loads(_row(1))]


def test_surrogate_in_a_key_is_found() -> None:
    bad = find_bad_text({"meta": {"\udc80x": 1}})
    assert bad is not None and "meta key" in bad.field and bad.index == 0


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=30))
def test_first_bad_char_agrees_with_the_encoder(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        assert first_bad_char(text) == exc.start
    else:
        assert first_bad_char(text) is None


def test_hashes_do_not_crash_on_surrogates_and_keep_valid_hashes() -> None:
    assert text_hash("prefer concise answers") == "ab6b90a5511c"
    assert text_hash("x\ud800") != text_hash("x\ud801")
    assert json_hash({"a": "\udfff"}) != json_hash({"a": "\udffe"})


@pytest.mark.parametrize("command", ["rank", "label"])
def test_rank_and_label_judge_the_good_rows_around_bad_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    src = _file(tmp_path, [_row(0), b'{"id": 1, "prompt": "\xff\xfe", "responses": ["a", "b"]}',
                           b'{"id": 2, "prompt": "\\udc00", "responses": ["a", "b"]}', _row(3)])
    replies = tmp_path / "r.jsonl"
    replies.write_text(json.dumps(GOOD) + "\n")
    out = tmp_path / "out.jsonl"
    code = main([command, "-i", str(src), "-o", str(out), "--backend", f"scripted:{replies}",
                 "-B", "cycle=true", "--principle", "correct-then-concise",
                 *(["--no-progress"] if command == "label" else [])])
    err = capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    said = err + json.dumps(rows)  # label puts each row's reason in its output row
    assert code == 3 and "Traceback" not in err
    assert f"{src}:2: not UTF-8" in said
    assert f"{src}:3: field 'prompt': character 0 is a lone surrogate" in said
    judged = {r["id"]: r for r in rows if r.get("status") == "ok"}
    assert set(judged) == {0, 3}


def test_complete_rows_survive_bad_bytes_and_line_separators(tmp_path: Path) -> None:
    from judge.jsonl import JsonlAppender, read_complete_rows

    path = tmp_path / "out.jsonl"
    with JsonlAppender(path, fsync=False) as out:
        out.write({"id": 0, "text": "first\u2028second\u2029third\x85"})
    with open(path, "ab") as fh:
        fh.write(b'{"id": "latin", "text": "caf\xe9"}\n{"id": 2}\n{"id": 3, "cut')
    rows = read_complete_rows(path)
    assert [r["id"] for r in rows] == [0, 2]
    assert rows[0]["text"] == "first\u2028second\u2029third\x85"


def test_standard_input_is_read_line_by_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    raw = _row(0) + b"\n\xff\n" + _row(2) + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    got = list(read_jsonl("-"))
    assert [n for n, _ in got] == [1, 2, 3] and str(got[1][1]).startswith("<stdin>:2: not UTF-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(_row(5).decode() + "\n"))  # no .buffer
    assert list(read_jsonl(None)) == [(1, json.loads(_row(5)))]

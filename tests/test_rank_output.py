"""``judge rank`` output: every input row once, in order, with a status; replace vs append."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judge.cli import main

PRINCIPLE = "Prefer correct answers."


def replies(folder: Path, texts: list[str]) -> str:
    path = folder / "replies.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in texts))
    return f"scripted:{path}"


def rank(folder: Path, lines: list[str], *extra: str, reply_texts: list[str] | None = None,
         cycle: bool = True) -> tuple[int, Path]:
    inp = folder / "in.jsonl"
    inp.write_text("".join(line + "\n" for line in lines))
    out = folder / "out.jsonl"
    args = ["rank", "-i", str(inp), "-o", str(out), "--principle", PRINCIPLE, "--no-shuffle",
            "--backend", replies(folder, reply_texts or ['{"score": 4}']), *extra]
    if cycle:
        args += ["-B", "cycle=true"]
    return main(args), out


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().split("\n") if line]


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
valid = st.fixed_dictionaries({"prompt": text, "response": text})
invalid = st.one_of(
    st.fixed_dictionaries({"prompt": text}),                               # no responses
    st.fixed_dictionaries({"prompt": st.integers(), "response": text}),    # wrong type
    st.fixed_dictionaries({"prompt": text, "responses": st.lists(st.integers(), min_size=1,
                                                                 max_size=3)}),
    st.fixed_dictionaries({"prompt": text, "responses": st.just([{"no_text": 1}])}),
    st.fixed_dictionaries({"prompt": text, "response": text, "principle": st.integers()}),
)
line = st.one_of(
    st.tuples(st.just("valid"), valid),
    st.tuples(st.just("invalid"), invalid),
    st.tuples(st.just("garbage"), st.sampled_from(["{not json", "[1, 2]", "7", '"text"'])),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=1, max_size=12), st.integers(1, 4))
def test_every_row_comes_out_in_order_with_a_status(rows: list[tuple[str, Any]],
                                                    batch: int) -> None:
    lines = []
    for n, (kind, row) in enumerate(rows):
        lines.append(row if kind == "garbage" else json.dumps({**row, "tag": n}))
    with tempfile.TemporaryDirectory() as tmp:
        code, out = rank(Path(tmp), lines, "--batch-size", str(batch))
        got = read(out)
    assert len(got) == len(rows)
    for n, ((kind, _), row) in enumerate(zip(rows, got, strict=True)):
        assert "status" in row
        if kind == "garbage":
            assert row["status"] == "invalid_input" and row["problems"]
            continue
        assert row["tag"] == n
        if kind == "valid":
            assert row["status"] == "ok" and row["scores"] == {"0": 4.0}
        else:
            assert row["status"] == "invalid_input"
            assert f"in.jsonl:{n + 1}: field '" in row["problems"][0]
    assert code == (0 if all(kind == "valid" for kind, _ in rows) else 3)


def test_output_is_replaced_not_appended(tmp_path: Path) -> None:
    lines = [json.dumps({"prompt": "q", "response": "a"})]
    rank(tmp_path, lines)
    code, out = rank(tmp_path, lines)
    assert code == 0 and len(read(out)) == 1
    code, out = rank(tmp_path, lines, "--append")
    assert code == 0 and len(read(out)) == 2


def test_a_failed_run_leaves_the_old_output(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"old": true}\n')
    lines = [json.dumps({"prompt": "q", "response": t}) for t in ("a", "b")]
    # one scripted reply for two rows: the backend fails the whole run
    code, out = rank(tmp_path, lines, "--batch-size", "1", cycle=False)
    assert code == 2 and "error:" in capsys.readouterr().err
    assert out.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_object_response_without_text_is_refused_with_its_index(tmp_path: Path) -> None:
    bad = {"prompt": "q", "responses": [{"id": "a", "text": "ok"}, {"id": "b", "body": "x"}]}
    code, out = rank(tmp_path, [json.dumps(bad)])
    (row,) = read(out)
    assert code == 3 and row["status"] == "invalid_input"
    assert "field 'responses[1]'" in row["problems"][0] and "text" in row["problems"][0]


def test_an_unwritable_output_is_one_line_before_any_work(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("x")
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"prompt": "q", "response": "a"}) + "\n")
    code = main(["rank", "-i", str(inp), "-o", str(tmp_path / "a-file" / "out.jsonl"),
                 "--principle", PRINCIPLE, "--backend", replies(tmp_path, ['{"score": 4}'])])
    err = capsys.readouterr().err
    assert code == 2 and "--output" in err and "Traceback" not in err
    assert "1 rows" not in err  # nothing was judged

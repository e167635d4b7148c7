"""The CLI end to end through the scripted backend, as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from judge.cli import main
from judge.principles import resolve_principle

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "items.jsonl"


def write_replies(path: Path, replies: list[str]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in replies))
    return path


def verdict(n: int) -> str:
    ids = [f"model-{i}" for i in range(1, n + 1)]
    scores = {m: 5 - i for i, m in enumerate(ids)}
    return "<think>checked each</think>\n" + json.dumps({"scores": scores, "best-to-worst": ids})


def test_rank_end_to_end_with_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = [
        {"id": "ok", "prompt": "2+2?", "responses": ["4", "five"], "extra": 1},
        {"prompt": "no responses"},
        "not json",
        {"id": "bad-principle", "prompt": "q", "responses": ["a", "b"], "principle": "nope-nope"},
        {"id": "unparsed", "prompt": "q", "responses": {"x": "1", "y": "2"}},
        {"id": "single", "prompt": "q", "response": "only one"},
    ]
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    replies = write_replies(tmp_path / "r.jsonl", [verdict(2), "I like y more.", '{"score": 4}'])
    out = tmp_path / "out.jsonl"
    code = main(["rank", "-i", str(inp), "-o", str(out), "--backend", f"scripted:{replies}",
                 "--principle", "correct-then-concise"])
    err = capsys.readouterr().err
    assert code == 3
    assert f"{inp}:2: field 'responses'" in err
    assert f"{inp}:3: not valid JSON" in err
    assert f"{inp}:4: field 'principle'" in err and "nope-nope" in err
    assert "6 rows: ok=2, unparsed=1, invalid_input=3" in err
    got = [json.loads(line) for line in out.read_text().splitlines()]
    # every input row comes out, in order; the invalid ones say why
    assert [g.get("id") for g in got] == ["ok", None, None, "bad-principle", "unparsed", "single"]
    assert [g["status"] for g in got[1:4]] == ["invalid_input"] * 3
    assert got[1]["prompt"] == "no responses" and "field 'responses'" in got[1]["problems"][0]
    assert f"{inp}:3: not valid JSON" in got[2]["problems"][0]
    assert "nope-nope" in got[3]["problems"][0]
    got = [g for g in got if g["status"] != "invalid_input"]
    first = got[0]
    assert first["extra"] == 1 and first["status"] == "ok" and first["reasoning"] == "checked each"
    assert set(first["scores"]) == {"0", "1"} and sorted(first["ranking"]) == ["0", "1"]
    assert first["provenance"]["principle"]["id"] == "correct-then-concise"
    assert got[1]["status"] == "unparsed" and got[1]["scores"] is None
    assert got[1]["raw"] == ["I like y more."]
    assert got[2]["item"]["principle"]["text"] == resolve_principle("correct-then-concise").text
    assert got[2]["mode"] == "pointwise" and got[2]["scores"] == {"0": 4.0}


def test_rank_bundled_examples_with_permutations(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    n_items = len(EXAMPLES.read_text().splitlines())
    sizes = [len(json.loads(line)["responses"]) for line in EXAMPLES.read_text().splitlines()]
    replies = write_replies(tmp_path / "r.jsonl", [verdict(k) for k in sizes for _ in range(2)])
    code = main(["rank", "-i", str(EXAMPLES), "--backend", f"scripted:{replies}",
                 "--permutations", "2", "--seed", "1"])
    captured = capsys.readouterr()
    assert code == 0
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == n_items and all(r["runs"] == 2 for r in rows)
    assert all(r["consistency"] is not None for r in rows)


def test_score_render_principles(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    replies = write_replies(tmp_path / "r.jsonl", ['{"score": 5}'])
    assert main(["score", "--principle", "Prefer short answers.", "--prompt", "2+2?",
                 "--response", "4", "--backend", f"scripted:{replies}", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scores"] == {"0": 5.0} and out["status"] == "ok"
    assert out["principle"].startswith("text:")

    assert main(["render", "--principle", "correct-then-concise", "--prompt", "q",
                 "--response", "{{ 7*7 }}", "--response", "b", "--no-shuffle"]) == 0
    rendered = json.loads(capsys.readouterr().out)
    user = json.loads(rendered["messages"][1]["content"])
    assert user["responses"] == {"model-1": "{{ 7*7 }}", "model-2": "b"}

    assert main(["principles", "list"]) == 0
    listing = capsys.readouterr().out
    assert int(listing.strip().splitlines()[-1].split()[0]) >= 40
    for cat in ("content", "logic", "tone", "style", "structure"):
        assert f" {cat} " in listing
    assert main(["principles", "show", "correct-then-concise"]) == 0
    assert "statement:" in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["rank", "-i", str(tmp_path / "missing.jsonl"), "--backend", "scripted:x"]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["principles", "show", "correct-then-concize"]) == 2
    assert "did you mean" in capsys.readouterr().err
    assert main(["rank", "-i", str(EXAMPLES), "--backend", "bogus:thing"]) == 2
    assert "unknown backend" in capsys.readouterr().err


def test_python_dash_m(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "judge", "principles", "sets"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "core" in proc.stdout

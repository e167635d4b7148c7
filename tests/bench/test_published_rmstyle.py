"""RM-Bench style matrix: hard / normal / easy by hand, missing domains, bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.published_files import record, write_rmbench

from judge.bench.published import load_published, rmstyle
from judge.errors import InputError

STY = rmstyle.STYLES


def _values(chosen: tuple[float, float, float], rejected: tuple[float, float, float]) -> dict:
    return ({f"chosen-{s}": v for s, v in zip(STY, chosen, strict=True)}
            | {f"rejected-{s}": v for s, v in zip(STY, rejected, strict=True)})


def _rec(domain: str, first: dict, second: dict | None) -> dict:
    gold = {k: 1.0 if k.startswith("chosen") else 0.0 for k in first}
    return record(gold, {"subset": domain}, first, second)


def test_loads_six_styled_responses_per_prompt_and_reports_missing(tmp_path: Path) -> None:
    suite = load_published("rmbench", write_rmbench(tmp_path))
    assert len(suite.items) == 3 and [it.domain for it in suite.items] == ["chat", "chat", "code"]
    assert list(suite.items[0].responses) == [f"{g}-{s}" for g in ("chosen", "rejected")
                                              for s in STY]
    assert suite.missing == ("math", "safety")


def test_matrix_hard_normal_easy_by_hand() -> None:
    p1 = _values((3, 5, 6), (2, 4, 7))     # rows: [1,0,0] [1,1,0] [1,1,0]
    p2 = _values((9, 9, 9), (1, 1, 1))     # all ones in order 1; order 2 unparsed: all zeros
    code = _values((1, 1, 1), (2, 2, 2))   # all zeros
    result = rmstyle.score([_rec("chat", p1, p1), _rec("chat", p2, None),
                            _rec("code", code, code)])
    chat = result["chat"]
    assert chat["matrix"] == [[75.0, 25.0, 25.0], [75.0, 75.0, 25.0], [75.0, 75.0, 25.0]]
    assert chat["hard"] == pytest.approx(25.0)          # upper-right: chosen plainer
    assert chat["normal"] == pytest.approx(175 / 3)     # diagonal .75 .75 .25
    assert chat["easy"] == pytest.approx(75.0)
    assert chat["total"] == pytest.approx(100 * 4.75 / 9)
    assert result["code"]["hard"] == 0.0 and result["code"]["total"] == 0.0
    assert result["overall"]["hard"] == pytest.approx(12.5)
    assert result["overall"]["easy"] == pytest.approx(37.5)
    lines = "\n".join(rmstyle.markdown(result))
    assert "| chat | 2 | 25.0 | 58.3 | 75.0 | 52.8 |" in lines
    assert "| concise | 75.0 | 25.0 | 25.0 |" in lines


def test_a_row_without_three_styles_is_named(tmp_path: Path) -> None:
    path = tmp_path / "chat_filtered.json"
    path.write_text(json.dumps([{"id": 1, "prompt": "p", "chosen": ["a", "b", "c"],
                                 "rejected": ["x", "y"]}]))
    with pytest.raises(InputError) as err:
        load_published("rmbench", tmp_path)
    assert (err.value.line, err.value.field) == (1, "rejected") and "rmbench" in str(err.value)

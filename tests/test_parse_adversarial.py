"""The verdict parser's work grows linearly with adversarial replies (issue 12, item 11): the
36 KB / 180 KB repeated ``"</think>`` replies that took 11.6 s / 219 s, and brace floods."""

from __future__ import annotations

import threading

import pytest

from judge.verdict import parse
from judge.verdict.parse import parse_verdict

M2 = ["model-1", "model-2"]
V2 = '{"scores": {"model-1": 2, "model-2": 5}, "best-to-worst": ["model-2", "model-1"]}'


def _within(seconds: float, text: str) -> str:
    """The parse status, or fail when it does not return at all within a hang guard far
    above its cost (about 0.1 s; today's quadratic parser needed minutes)."""
    out: list[str] = []
    worker = threading.Thread(target=lambda: out.append(parse_verdict(text, ids=M2).status),
                              daemon=True)
    worker.start()
    worker.join(seconds)
    assert out, f"the parser did not return within {seconds} s on a {len(text)}-char reply"
    return out[0]


@pytest.mark.parametrize("size", [36_000, 180_000])
def test_repeated_quoted_close_think_does_not_hang(size: int) -> None:
    unit = '"</think>'
    assert _within(60, unit * (size // len(unit))) == "unparsed"
    assert _within(60, "<think>" + unit * (size // len(unit)) + "\n</think>" + V2) == "ok"


@pytest.mark.parametrize(("unit", "most_attempts"), [
    ("{", 0), ("{'", 0), ('{"', 0), ('{"scores": ', 20_000 // 11 // 32 + 2),
    ("{a:", 20_000 // 3 // 32 + 2),
])
def test_brace_floods_need_few_parse_attempts(monkeypatch: pytest.MonkeyPatch, unit: str,
                                              most_attempts: int) -> None:
    """Each '{' used to start a full parse (and a nesting chain re-parsed 64 levels from every
    '{'); starts that cannot be objects are skipped and a too-deep chain is resumed past."""
    calls: list[int] = []
    real = parse.parse_object_at

    def counting(text: str, start: int):  # type: ignore[no-untyped-def]
        calls.append(start)
        return real(text, start)

    monkeypatch.setattr(parse, "parse_object_at", counting)
    text = unit * (20_000 // len(unit))
    assert parse_verdict(text, ids=M2).status == "unparsed"
    assert len(calls) <= most_attempts + 64  # the cut-off tail may start up to 64 parses

"""Progress output for long commands when stderr is not a terminal."""

from __future__ import annotations

import io

from judge.cli.progress import LineProgress, progress


def test_plain_lines_off_a_terminal_with_rate_and_time_left() -> None:
    out = io.StringIO()
    bar = progress(40, unit="row", desc="label", file=out, every=0.0)
    assert isinstance(bar, LineProgress)
    bar.update(10)
    bar.update(30)
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("label: 10/40 rows (25%), ") and "left" in lines[0]
    assert lines[-1].startswith("label: 40/40 rows (100%), ") and "left" not in lines[-1]
    assert len(lines) == 3


def test_lines_are_throttled() -> None:
    out = io.StringIO()
    bar = LineProgress(1000, unit="list", desc="bench", file=out, every=3600.0)
    for _ in range(1000):
        bar.update()
    assert out.getvalue() == ""           # nothing until the interval passes or the end
    bar.close()
    assert out.getvalue().count("\n") == 1 and "1000/1000 lists" in out.getvalue()

"""Progress for long commands: a tqdm bar on a terminal, a plain line now and then otherwise.

A run started with ``nohup`` or under a scheduler writes its stderr to a file; a bar there is
either silent (tqdm's ``disable=None``) or thousands of carriage-return frames. The line printer
writes ``label: 480/2394 rows (20%), 2.6 rows/s, about 12 min left`` at most every ``every``
seconds and once at the end. ``--quiet`` turns both off. A total of None (a stream read from
standard input) still shows the count and the rate, without a percentage or time left.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    """What the commands call: a tqdm bar or a :class:`LineProgress`."""

    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


class LineProgress:
    """A tqdm-like counter that prints a plain status line at most every ``every`` seconds."""

    def __init__(self, total: int | None, *, unit: str, desc: str, file: TextIO,
                 every: float = 30.0) -> None:
        self.total, self.unit, self.desc, self.file, self.every = total, unit, desc, file, every
        self.n = 0
        self._start = self._last = time.monotonic()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more; print when ``every`` seconds have passed since the last line."""
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._print(now)

    def close(self) -> None:
        """Print the final line."""
        self._print(time.monotonic())

    def _print(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.n / elapsed
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        left = ""
        if self.total is not None and 0 < self.n < self.total and rate > 0:
            left = f", about {_duration((self.total - self.n) / rate)} left"
        of = f"/{self.total}" if self.total is not None else ""
        print(f"{self.desc}: {self.n}{of} {self.unit}s{pct}, {rate:.2f} {self.unit}s/s"
              f"{left}", file=self.file, flush=True)


class NoProgress:
    """What ``--quiet`` gets: counts nothing, prints nothing."""

    def update(self, n: int = 1) -> None:
        """Ignore ``n``."""

    def close(self) -> None:
        """Nothing to finish."""


def _duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def progress(total: int | None, *, unit: str, desc: str, file: TextIO | None = None,
             every: float = 30.0, quiet: bool = False) -> Progress:
    """A tqdm bar when ``file`` (default stderr) is a terminal, else a :class:`LineProgress`;
    a :class:`NoProgress` when ``quiet``."""
    if quiet:
        return NoProgress()
    out = file if file is not None else sys.stderr
    if out.isatty():
        from tqdm.auto import tqdm

        bar: Progress = tqdm(total=total, unit=unit, desc=desc, file=out, dynamic_ncols=True,
                             smoothing=0.1)
        return bar
    return LineProgress(total, unit=unit, desc=desc, file=out, every=every)


"""The upstream judge's recent state, for ``GET /health``.

Every scoring call the server makes is recorded as a success or a failure (the backend raised,
or a verdict could not be parsed). ``/health`` then says ``ok`` (no failure in the window),
``degraded`` (failures in the window, the latest call succeeded) or ``failing`` (the latest
call failed), with the counts and the last failure's message.

>>> h = JudgeHealth(window_s=60)
>>> h.record(True); h.state()
'ok'
>>> h.record(False, "connection refused"); h.state()
'failing'
>>> h.record(True); h.state(), h.as_dict()["failures_in_window"]
('degraded', 1)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any


class JudgeHealth:
    """Counts judge calls and failures over the last ``window_s`` seconds (thread-safe)."""

    def __init__(self, window_s: float = 300.0) -> None:
        self.window_s = window_s
        self._calls: deque[tuple[float, bool]] = deque()
        self._consecutive = 0
        self._last: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def record(self, ok: bool, problem: str | None = None) -> None:
        """One scoring call's outcome; ``problem`` says why a failed one failed."""
        now = time.monotonic()
        with self._lock:
            self._calls.append((now, ok))
            self._consecutive = 0 if ok else self._consecutive + 1
            if not ok:
                self._last = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "error": (problem or "unknown")[:500]}
            self._trim(now)

    def _trim(self, now: float) -> None:
        while self._calls and self._calls[0][0] < now - self.window_s:
            self._calls.popleft()

    def state(self) -> str:
        """``ok``, ``degraded`` or ``failing`` (see the module docstring)."""
        with self._lock:
            self._trim(time.monotonic())
            if self._consecutive:
                return "failing"
            return "degraded" if any(not ok for _, ok in self._calls) else "ok"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready state, counts in the window and the last failure."""
        state = self.state()
        with self._lock:
            return {"state": state, "window_s": self.window_s, "calls_in_window": len(self._calls),
                    "failures_in_window": sum(1 for _, ok in self._calls if not ok),
                    "consecutive_failures": self._consecutive, "last_failure": self._last}

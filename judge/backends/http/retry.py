"""When and how long to wait before retrying an HTTP request.

Only transient failures are retried: transport errors (connect, read, dropped connection,
timeout), HTTP 408, 429 and 5xx, and malformed bodies (usually a cut connection). Other 4xx
answers are the caller's mistake and fail at once. Waits grow exponentially with jitter up to a
cap; a server's ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` is honoured,
bounded by ``retry_after_max``.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

TRANSIENT_STATUS = frozenset({408, 429})


def is_transient_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying.

    >>> [is_transient_status(s) for s in (400, 404, 408, 429, 500, 503)]
    [False, False, True, True, True, True]
    """
    return status in TRANSIENT_STATUS or 500 <= status <= 599


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a server asked for, from ``retry-after-ms`` or ``Retry-After``.

    >>> retry_after_seconds({"retry-after": "3"})
    3.0
    >>> retry_after_seconds({"retry-after": "soon"}) is None
    True
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RetryPolicy:
    """Capped exponential backoff with jitter.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        base: the first wait in seconds; each retry doubles it.
        cap: the longest backoff wait in seconds.
        retry_after_max: the longest wait granted to a server's ``Retry-After``.
    """

    max_retries: int = 4
    base: float = 0.5
    cap: float = 8.0
    retry_after_max: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based).

        >>> p = RetryPolicy(base=1, cap=4, rng=random.Random(0))
        >>> 1 <= p.delay(1) <= 2, p.delay(9) <= 4, p.delay(0, retry_after=30)
        (True, True, 30.0)
        """
        if retry_after is not None:
            return float(min(self.retry_after_max, retry_after))
        backoff = min(self.cap, self.base * 2.0 ** attempt)
        return float(backoff * (0.5 + 0.5 * self.rng.random()))  # jitter: clients do not retry in step

"""Logprob-weighted scores: the expected score over the score tokens' probabilities."""

from __future__ import annotations

import math
from collections.abc import Sequence

from judge.types import TokenLogprob


def expected_score(tokens: Sequence[TokenLogprob], text: str, span: tuple[int, int],
                   scale: tuple[float, float]) -> float | None:
    """Expected score at the token that holds the score literal starting at ``span[0]``.

    The token texts must concatenate to ``text``. Alternatives at that position that read as an
    integer inside ``scale`` are renormalised; returns None when offsets do not line up or no
    alternative is a score.

    >>> toks = [TokenLogprob(token='{"score": ', logprob=0.0),
    ...         TokenLogprob(token="4", logprob=math.log(0.6),
    ...                      top={"4": math.log(0.6), "5": math.log(0.4)}),
    ...         TokenLogprob(token="}", logprob=0.0)]
    >>> round(expected_score(toks, '{"score": 4}', (10, 11), (1, 5)), 2)
    4.4
    """
    offset = 0
    for tok in tokens:
        end = offset + len(tok.token)
        if offset <= span[0] < end:
            if text[offset:end] != tok.token:
                return None
            lead = span[0] - offset  # characters of the token before the digit (e.g. a space)
            total = weighted = 0.0
            alternatives = dict(tok.top) or {tok.token: tok.logprob}
            for alt, logprob in alternatives.items():
                digits = alt[lead:].strip() if len(alt) > lead else ""
                if not digits.isdigit():
                    continue
                value = int(digits)
                if scale[0] <= value <= scale[1]:
                    p = math.exp(logprob)
                    total += p
                    weighted += p * value
            return weighted / total if total > 0 else None
        offset = end
    return None

"""The head's input: principle, prompt and response embeddings and their interactions.

Feature set ``pqr-v1`` for principle ``p``, prompt ``q``, response ``r`` (unit vectors of size
d) and surface statistics ``s`` of the response (``stats-v1``, six numbers)::

    [ r,  p*r,  q*r,  |p-r|,  |q-r|,  p,  q,  s,  vec(p ⊗ s) ]          size 7d + 6 + 6d

The products tie the response to the principle (``p*r``, ``p ⊗ s``), so one head can prefer
the short answer under one principle and the long one under another. Mean-pooled sentence
embeddings say little about how long or how formatted a text is, hence ``s``: word and line
counts, length relative to the prompt and markdown density.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

FEATURES = "pqr-v1"
STATS = "stats-v1"
STAT_NAMES: tuple[str, ...] = (
    "log_words", "log_lines", "log_words_vs_prompt", "markdown_line_fraction",
    "log_emphasis_marks", "has_code_block",
)

_WORD = re.compile(r"\w+", re.UNICODE)
_MD_LINE = re.compile(r"^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|\||>\s)")
_EMPHASIS = re.compile(r"\*\*|__|`")


def text_stats(response: str, prompt: str) -> list[float]:
    """The six ``stats-v1`` numbers of a response (see :data:`STAT_NAMES`).

    >>> [round(x, 3) for x in text_stats("# Title\\n- a\\n- b", "Why?")]
    [1.386, 1.386, 0.693, 1.0, 0.0, 0.0]
    """
    words = len(_WORD.findall(response))
    lines = [ln for ln in response.splitlines() if ln.strip()]
    md = sum(1 for ln in lines if _MD_LINE.match(ln))
    q_words = len(_WORD.findall(prompt))
    return [
        math.log1p(words),
        math.log1p(len(lines)),
        math.log1p(words) - math.log1p(q_words),
        md / len(lines) if lines else 0.0,
        math.log1p(len(_EMPHASIS.findall(response))),
        1.0 if "```" in response else 0.0,
    ]


def stats_matrix(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """``stats-v1`` for (response, prompt) pairs, as a float32 array."""
    return np.asarray([text_stats(r, q) for r, q in pairs], dtype=np.float32).reshape(
        len(pairs), len(STAT_NAMES))


def feature_dim(dim: int) -> int:
    """Size of ``pqr-v1`` for embeddings of size ``dim``."""
    n = len(STAT_NAMES)
    return 7 * dim + n + n * dim


def build_features(p: Any, q: Any, r: Any, s: Any) -> Any:
    """``pqr-v1`` rows from batched torch tensors (shapes (n, d), (n, d), (n, d), (n, 6))."""
    import torch

    outer = (p.unsqueeze(2) * s.unsqueeze(1)).flatten(1)
    return torch.cat([r, p * r, q * r, (p - r).abs(), (q - r).abs(), p, q, s, outer], dim=1)


def build_features_np(p: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``pqr-v1`` rows from numpy arrays (the same layout as :func:`build_features`)."""
    outer = (p[:, :, None] * s[:, None, :]).reshape(len(p), -1)
    out: np.ndarray = np.concatenate(
        [r, p * r, q * r, np.abs(p - r), np.abs(q - r), p, q, s, outer], axis=1,
        dtype=np.float32)
    return out

"""Stable content hashes used as identities (free-text principles, templates, run records)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def text_hash(text: str, length: int = 12) -> str:
    """Hex sha256 prefix of a text.

    A lone surrogate (which UTF-8 cannot encode) is hashed by its code point rather than
    crashing the caller, so a planner can still name the bad row.

    >>> text_hash("prefer concise answers")
    'ab6b90a5511c'
    >>> text_hash("a\\ud800") != text_hash("a\\ud801")
    True
    """
    return hashlib.sha256(_utf8(text)).hexdigest()[:length]


def _utf8(text: str) -> bytes:
    # surrogatepass changes nothing for valid text: every existing hash stays the same
    return text.encode("utf-8", "surrogatepass")


def json_hash(value: Any, length: int = 16) -> str:
    """Hash of a JSON-serialisable value, independent of dict key order.

    >>> json_hash({"b": 1, "a": [1, 2]}) == json_hash({"a": [1, 2], "b": 1})
    True
    """
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(_utf8(blob)).hexdigest()[:length]

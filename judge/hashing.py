"""Stable content hashes used as identities (free-text principles, templates, run records)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def text_hash(text: str, length: int = 12) -> str:
    """Hex sha256 prefix of a text.

    >>> text_hash("prefer concise answers")
    'ab6b90a5511c'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def json_hash(value: Any, length: int = 16) -> str:
    """Hash of a JSON-serialisable value, independent of dict key order.

    >>> json_hash({"b": 1, "a": [1, 2]}) == json_hash({"a": [1, 2], "b": 1})
    True
    """
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:length]

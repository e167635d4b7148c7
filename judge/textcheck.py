"""Find text that cannot be encoded: lone surrogates (the only invalid code points a str holds).

``json.loads('"\\ud800"')`` succeeds and gives a string that no UTF-8 encoder, tokenizer or hash
accepts, so one such string would fail every item batched with it. The boundaries that take text
in (the JSONL reader, ``judge serve`` requests, the Python API) check with :func:`find_bad_text`
and reject only that item, naming where the bad character is.

>>> first_bad_char("ok \\ud800 here")
3
>>> bad = find_bad_text({"prompt": "hi", "responses": ["fine", "bad \\udfff"]})
>>> bad.field, bad.index
('responses[1]', 4)
>>> bad.message()
'responses[1]: character 4 is a lone surrogate (U+DFFF), not valid Unicode text; remove it or \
re-encode the input as UTF-8'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judge.errors import InputError

_BAD = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class BadText:
    """Where the first unencodable character sits.

    Attributes:
        field: a path such as ``responses[1]`` or ``labels[0].principle``.
        index: the character's index in that string.
        char: the character itself.
    """

    field: str
    index: int
    char: str

    def problem(self) -> str:
        """What is wrong and how to fix it (without the field)."""
        return (f"character {self.index} is a lone surrogate (U+{ord(self.char):04X}), not "
                "valid Unicode text; remove it or re-encode the input as UTF-8")

    def message(self) -> str:
        """The field, what is wrong, and how to fix it, in one line."""
        return f"{self.field}: {self.problem()}"


def require_clean(value: Any, where: str | None = None, *, path: str | None = None,
                  line: int | None = None) -> None:
    """Raise an :class:`InputError` naming ``where`` (e.g. ``"item 3"``), the field and the
    position when ``value`` holds text UTF-8 cannot encode (for batch APIs: one call names the
    bad item instead of failing the batch later with a bare UnicodeEncodeError).

    >>> require_clean([{"prompt": "ok"}, {"prompt": "x\\ud800"}][1], "item 1")
    Traceback (most recent call last):
    ...
    judge.errors.InputError: item 1, field 'prompt': character 1 is a lone surrogate (U+D800), \
not valid Unicode text; remove it or re-encode the input as UTF-8
    """
    bad = find_bad_text(value)
    if bad is None:
        return
    if where is None:
        raise InputError(bad.problem(), path=path, line=line, field=bad.field)
    error = InputError(f"{where}, field '{bad.field}': {bad.problem()}", path=path, line=line)
    error.field = bad.field
    raise error


def first_bad_char(text: str) -> int | None:
    """Index of the first character UTF-8 cannot encode, or None for clean text."""
    if text.isascii():
        return None
    match = _BAD.search(text)
    return match.start() if match else None


def find_bad_text(value: Any, where: str = "") -> BadText | None:
    """The first string in ``value`` (nested mappings, lists, tuples; keys too) that UTF-8 cannot
    encode, or None when all of it is clean."""
    if isinstance(value, str):
        at = first_bad_char(value)
        return None if at is None else BadText(where or "text", at, value[at])
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and (at := first_bad_char(key)) is not None:
                return BadText(f"{where or 'object'} key {key!r}", at, key[at])
            if (found := find_bad_text(item, name)) is not None:
                return found
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for n, item in enumerate(value):
            if (found := find_bad_text(item, f"{where}[{n}]")) is not None:
                return found
    return None


def encodable(text: str) -> str:
    """``text`` with each unencodable character replaced by U+FFFD (for hashing and logs).

    >>> encodable("a\\ud800b")
    'a\\ufffdb'
    """
    return text if first_bad_char(text) is None else _BAD.sub("\ufffd", text)

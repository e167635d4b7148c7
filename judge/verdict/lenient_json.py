"""A small lenient JSON reader that records every repair and where each value sits in the text.

It accepts strict JSON plus a short list of *safe* deviations, each noted in ``repairs``:
single-quoted strings, unquoted keys, trailing commas, Python literals (True/False/None) and raw
control characters inside strings. Anything else fails with :class:`JSONFail`. Scalars come back
as :class:`Leaf` with their character span, so callers can point back into the original text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_LITERALS: tuple[tuple[str, Any, str | None], ...] = (
    ("true", True, None), ("false", False, None), ("null", None, None),
    ("True", True, "Python literal"), ("False", False, "Python literal"),
    ("None", None, "Python literal"),
    ("NaN", float("nan"), "non-JSON number"), ("Infinity", float("inf"), "non-JSON number"),
    ("-Infinity", float("-inf"), "non-JSON number"),
)
_MAX_DEPTH = 64


class JSONFail(Exception):
    """The text at this position is not (repairable) JSON.

    Attributes:
        at_end: the text ran out before the value closed (a truncated value, not a malformed one).
        too_deep_at: where nesting passed the limit (None for other failures); no object that
            starts before it and encloses it can be read, so a caller scanning for objects may
            resume there, which keeps a scan of deeply nested text linear.
    """

    def __init__(self, message: str, *, at_end: bool = False,
                 too_deep_at: int | None = None) -> None:
        super().__init__(message)
        self.at_end = at_end
        self.too_deep_at = too_deep_at


@dataclass
class Leaf:
    """A scalar value with its span in the source text."""

    value: Any
    start: int
    end: int
    quoted: bool = False
    """True when the value was written as a string."""


@dataclass
class Obj:
    """An object: key/value pairs in source order (duplicates kept)."""

    pairs: list[tuple[str, Any]]
    start: int
    end: int

    def get(self, key: str) -> Any:
        """The last value for ``key`` (None if absent)."""
        found = [v for k, v in self.pairs if k == key]
        return found[-1] if found else None


@dataclass
class Arr:
    """An array with its span."""

    items: list[Any]
    start: int
    end: int


@dataclass
class _State:
    text: str
    pos: int
    repairs: set[str] = field(default_factory=set)
    depth: int = 0


def parse_object_at(text: str, start: int) -> tuple[Obj, set[str]]:
    """Parse the object that begins at ``text[start] == '{'``.

    Returns:
        The object and the set of repairs applied (empty for strict JSON).

    Raises:
        JSONFail: not a complete, repairable object.

    >>> obj, repairs = parse_object_at("x {'a': 1,} y", 2)
    >>> obj.get("a").value, sorted(repairs)
    (1, ['single-quoted string', 'trailing comma'])
    """
    st = _State(text, start)
    value = _value(st)
    if not isinstance(value, Obj):
        raise JSONFail("not an object")
    return value, st.repairs


def _skip_ws(st: _State) -> None:
    text, n = st.text, len(st.text)
    while st.pos < n and text[st.pos] in " \t\r\n":
        st.pos += 1


def _peek(st: _State) -> str:
    _skip_ws(st)
    if st.pos >= len(st.text):
        raise JSONFail("unexpected end of text", at_end=True)
    return st.text[st.pos]


def _value(st: _State) -> Any:
    c = _peek(st)
    if c == "{":
        return _object(st)
    if c == "[":
        return _array(st)
    if c in "\"'":
        return _string(st)
    m = _NUMBER.match(st.text, st.pos)
    if m and not st.text.startswith("-Infinity", st.pos):
        start = st.pos
        st.pos = m.end()
        raw = m.group()
        try:
            number: float = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
        except ValueError:  # more digits than int() accepts: not a usable score anyway
            number = float("inf")
        return Leaf(number, start, st.pos)
    for word, val, repair in _LITERALS:
        if st.text.startswith(word, st.pos):
            start = st.pos
            st.pos += len(word)
            if repair:
                st.repairs.add(repair)
            return Leaf(val, start, st.pos)
    raise JSONFail(f"unexpected character {c!r} at {st.pos}")


def _enter(st: _State) -> None:
    st.depth += 1
    if st.depth > _MAX_DEPTH:
        raise JSONFail("nested too deeply", too_deep_at=st.pos)


def _object(st: _State) -> Obj:
    _enter(st)
    start = st.pos
    st.pos += 1
    pairs: list[tuple[str, Any]] = []
    if _peek(st) == "}":
        st.pos += 1
        st.depth -= 1
        return Obj(pairs, start, st.pos)
    while True:
        c = _peek(st)
        if c in "\"'":
            key = _string(st).value
        else:
            m = _BARE_KEY.match(st.text, st.pos)
            if not m:
                raise JSONFail(f"expected a key at {st.pos}")
            key = m.group()
            st.pos = m.end()
            st.repairs.add("unquoted key")
        if _peek(st) != ":":
            raise JSONFail(f"expected ':' at {st.pos}")
        st.pos += 1
        pairs.append((key, _value(st)))
        c = _peek(st)
        if c == ",":
            st.pos += 1
            if _peek(st) == "}":
                st.repairs.add("trailing comma")
                st.pos += 1
                break
            continue
        if c == "}":
            st.pos += 1
            break
        raise JSONFail(f"expected ',' or '}}' at {st.pos}")
    st.depth -= 1
    return Obj(pairs, start, st.pos)


def _array(st: _State) -> Arr:
    _enter(st)
    start = st.pos
    st.pos += 1
    items: list[Any] = []
    if _peek(st) == "]":
        st.pos += 1
        st.depth -= 1
        return Arr(items, start, st.pos)
    while True:
        items.append(_value(st))
        c = _peek(st)
        if c == ",":
            st.pos += 1
            if _peek(st) == "]":
                st.repairs.add("trailing comma")
                st.pos += 1
                break
            continue
        if c == "]":
            st.pos += 1
            break
        raise JSONFail(f"expected ',' or ']' at {st.pos}")
    st.depth -= 1
    return Arr(items, start, st.pos)


def _string(st: _State) -> Leaf:
    text, start = st.text, st.pos
    quote = text[start]
    i = start + 1
    out: list[str] = ['"']
    while True:
        if i >= len(text):
            raise JSONFail("unterminated string", at_end=True)
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise JSONFail("unterminated string", at_end=True)
            nxt = text[i + 1]
            out.append("'" if nxt == "'" else "\\" + nxt)
            i += 2
            continue
        if ch == quote:
            break
        if ch == '"':
            out.append('\\"')
        else:
            if ch < " ":
                st.repairs.add("control character in string")
            out.append(ch)
        i += 1
    out.append('"')
    try:
        value = json.loads("".join(out), strict=False)
    except json.JSONDecodeError as exc:
        raise JSONFail(f"bad string escape at {start}: {exc.msg}") from None
    if quote == "'":
        st.repairs.add("single-quoted string")
    st.pos = i + 1
    return Leaf(value, start, st.pos, quoted=True)

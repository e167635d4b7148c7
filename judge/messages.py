"""Turn the shapes RL frameworks and datasets use for prompts and responses into plain text.

A prompt or response may be a string, a list of chat messages (``{"role", "content"}``), or a
message whose ``content`` is a list of parts (``{"type": "text", "text": ...}``). The judge sees
plain text:

* a prompt with one user turn becomes that turn's text (system turns are left out, since the
  judge's own instructions replace them); a longer conversation becomes a transcript with one
  ``Role: text`` paragraph per turn;
* a response (a completion) becomes the text of its assistant turns, joined by blank lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judge.errors import InputError


def content_text(content: Any) -> str:
    """The text of a message's ``content`` (a string, or a list of parts with text parts).

    Raises:
        InputError: the content is null, not text, or has no text part.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and part.get("type", "text") == "text":
                if not isinstance(part.get("text"), str):
                    raise InputError("a text part of a message has no 'text' string")
                parts.append(part["text"])
        if content and not parts:
            raise InputError("message content has no text part")
        return "".join(parts)
    raise InputError(f"message content must be text or a list of parts, got "
                     f"{type(content).__name__}")


def _messages(value: Any, what: str) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str) and value and all(
            isinstance(m, Mapping) for m in value):
        return list(value)
    raise InputError(f"{what} must be a string or a list of chat messages "
                     f"({{'role': ..., 'content': ...}}), got {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, (list, tuple)) and not value:
        return "an empty list"
    return "null" if value is None else type(value).__name__


def prompt_text(value: Any) -> str:
    """The prompt the judge sees.

    >>> prompt_text([{"role": "system", "content": "Be brief."},
    ...              {"role": "user", "content": "2+2?"}])
    '2+2?'
    """
    if isinstance(value, str):
        return value
    turns = [m for m in _messages(value, "a prompt") if m.get("role") != "system"]
    if len(turns) == 1 and turns[0].get("role", "user") == "user":
        return content_text(turns[0].get("content"))
    return "\n\n".join(f"{str(m.get('role', 'user')).capitalize()}: "
                       f"{content_text(m.get('content'))}" for m in turns)


#: Keys that hold a response's text in an object, tried in this order.
TEXT_KEYS = ("text", "content", "response")


def response_text(value: Any) -> str:
    """The response the judge sees.

    A string; an object with ``text``, ``content`` or ``response`` (a chat message is one);
    or a list of chat messages, whose assistant turns are joined by blank lines.

    >>> response_text([{"role": "assistant", "content": "4"}])
    '4'
    >>> response_text({"id": "a", "text": "four"})
    'four'

    Raises:
        InputError: any other shape (an object is never judged as an empty text).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in TEXT_KEYS:
            if key in value:
                inner = value[key]
                if key == "content":
                    return content_text(inner)
                if isinstance(inner, str):
                    return inner
                raise InputError(f"'{key}' must be text, got {_describe(inner)}")
        raise InputError(f"an object response needs one of {', '.join(TEXT_KEYS)} "
                         f"(it has {', '.join(map(str, value)) or 'no keys'})")
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise InputError(f"a response must be text, an object with one of "
                         f"{', '.join(TEXT_KEYS)}, or a list of chat messages; got "
                         f"{_describe(value)}")
    messages = _messages(value, "a response")
    said = [m for m in messages if m.get("role", "assistant") == "assistant"]
    return "\n\n".join(content_text(m.get("content")) for m in (said or messages))

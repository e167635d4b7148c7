"""A scripted backend: replays given replies and records every request.

It is how tests and users drive the whole pipeline without a model::

    >>> from judge.backends.scripted import ScriptedBackend
    >>> b = ScriptedBackend(['{"scores": {"model-1": 4}, "best-to-worst": ["model-1"]}'])
    >>> from judge.types import ChatMessage, GenerationRequest
    >>> out = b.generate([GenerationRequest(messages=(ChatMessage(role="user", content="hi"),))])
    >>> out[0].text[:10], len(b.requests)
    ('{"scores":', 1)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from judge.backends.shared.options import BackendOptions, parse_options
from judge.errors import ConfigError
from judge.types import Generation, GenerationRequest

Reply = str | Generation
ReplyFn = Callable[[GenerationRequest], Reply]


class ScriptedBackend:
    """Replays replies in call order, or computes each from the request.

    Args:
        replies: reply texts (or full :class:`Generation` objects) used in order, or a function
            of the request returning one.
        name: the spec recorded in provenance.
        cycle: start again from the first reply when the script runs out, instead of raising.

    Attributes:
        requests: every request received, in order.
    """

    supports_structured = True
    supports_logprobs = True

    def __init__(
        self, replies: Iterable[Reply] | ReplyFn, *, name: str = "scripted",
        cycle: bool = False,
    ) -> None:
        self.name = name
        self.model: str | None = None
        self.requests: list[GenerationRequest] = []
        self._fn: ReplyFn | None = replies if callable(replies) else None
        self._replies: list[Reply] = [] if callable(replies) else list(replies)
        self._next = 0
        self._cycle = cycle
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path, *, cycle: bool = False) -> ScriptedBackend:
        """Load replies from a file with one JSON-encoded string per line.

        Raises:
            ConfigError: the file is missing or a line is not a JSON string.
        """
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"scripted backend: reply file '{p}' does not exist")
        replies: list[Reply] = []
        for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{p}:{lineno}: not valid JSON ({exc.msg}); each line must be one "
                    'JSON-encoded string, e.g. "{\\"scores\\": ...}"'
                ) from None
            if not isinstance(value, str):
                raise ConfigError(
                    f"{p}:{lineno}: expected a JSON string, got {type(value).__name__}; "
                    "encode each reply with json.dumps(text)"
                )
            replies.append(value)
        return cls(replies, name=f"scripted:{p}", cycle=cycle)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Answer each request from the script, in order."""
        out: list[Generation] = []
        for req in requests:
            with self._lock:
                self.requests.append(req)
                reply = self._take(req)
            out.append(reply if isinstance(reply, Generation)
                       else Generation(text=reply, finish_reason="stop"))
        return out

    def _take(self, req: GenerationRequest) -> Reply:
        if self._fn is not None:
            return self._fn(req)
        if self._next >= len(self._replies):
            if not self._cycle or not self._replies:
                raise ConfigError(
                    f"scripted backend ran out of replies after {len(self._replies)} "
                    "(give one reply per judge call, or cycle=True)"
                )
            self._next = 0
        reply = self._replies[self._next]
        self._next += 1
        return reply

    def close(self) -> None:
        """Nothing to release."""


class ScriptedOptions(BackendOptions):
    """Options of the scripted backend."""

    cycle: bool = False
    """Start again from the first reply when the script runs out."""


def create(target: str, **options: Any) -> ScriptedBackend:
    """Factory for ``scripted:FILE``: replay the replies in FILE."""
    opts = parse_options(ScriptedOptions, "scripted", options)
    if not target:
        raise ConfigError("scripted backend needs a reply file: --backend scripted:REPLIES.jsonl")
    return ScriptedBackend.from_file(target, cycle=opts.cycle)

"""The backend contracts.

Two kinds of engine sit behind the judge:

* :class:`TextBackend` — a generative LLM. A batch of chat requests in, a batch of
  :class:`~judge.types.Generation` out, in the same order. Per-item failures come back as
  ``Generation(error=...)``; only whole-backend failures raise.
* :class:`ScoringBackend` — something that scores responses directly (a distilled reward head).
  It bypasses prompt templates: :class:`~judge.items.Item` objects (the one input type) in, one
  float per response out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from judge.items import Item
from judge.types import Generation, GenerationRequest


@runtime_checkable
class TextBackend(Protocol):
    """A generative judge engine."""

    #: The spec string this backend was built from (recorded in provenance).
    name: str
    #: The model identifier (path or served name), when there is one.
    model: str | None
    #: Whether ``GenerationRequest.json_schema`` is honoured.
    supports_structured: bool
    #: Whether ``Sampling.top_logprobs`` is honoured.
    supports_logprobs: bool

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Complete every request; the result list has the same length and order."""
        ...

    def close(self) -> None:
        """Release engines, processes and connections (idempotent)."""
        ...


@runtime_checkable
class ScoringBackend(Protocol):
    """A direct scorer such as a distilled reward head."""

    name: str
    model: str | None

    def score_batch(self, items: Sequence[Item]) -> list[list[float]]:
        """Score each item's responses, in their order, under the item's principle (resolved:
        a :class:`~judge.principles.Principle`); one float per response."""
        ...

    def close(self) -> None:
        """Release resources (idempotent)."""
        ...

"""The driver's stand-in for a judge whose backend only Ray workers load.

With ``--engine ray`` the driver needs the judge's identity (fingerprint, provenance, the
principles it resolves), never its model. :func:`describe` has one Ray task, placed like a
worker (same CPUs and GPUs), build the backend, read what identifies it, and close it; the
driver then builds its :class:`~judge.core.Judge` around a :class:`DescribedBackend` that
carries those values and refuses to judge. So a ``vllm:`` judge is not loaded on the driver (on
a 1-GPU node its engine and an actor's would not both fit), and a ``launch=llama.cpp`` server is
not started there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judge.errors import CapabilityError

#: The backend attributes a judge's identity and behaviour read.
DESCRIBED = ("name", "model", "fingerprint", "scoring", "supports_structured",
             "supports_logprobs")


def describe_backend(backend: Any) -> dict[str, Any]:
    """What identifies a loaded backend (see :data:`DESCRIBED`)."""
    from judge.backends.base import ScoringBackend
    from judge.identity import backend_fingerprint

    return {"name": backend.name, "model": backend.model,
            "fingerprint": backend_fingerprint(backend),
            "scoring": isinstance(backend, ScoringBackend),
            "supports_structured": bool(getattr(backend, "supports_structured", False)),
            "supports_logprobs": bool(getattr(backend, "supports_logprobs", False))}


class DescribedBackend:
    """A backend's identity without the backend: it judges nothing."""

    def __init__(self, described: dict[str, Any]) -> None:
        self.name: str = described["name"]
        self.model: str | None = described["model"]
        self._fingerprint: str | None = described["fingerprint"]
        self.supports_structured: bool = described["supports_structured"]
        self.supports_logprobs: bool = described["supports_logprobs"]

    def fingerprint(self) -> str | None:
        """The loaded backend's own fingerprint."""
        return self._fingerprint

    def generate(self, requests: Sequence[Any]) -> list[Any]:
        """Refused: the Ray workers judge."""
        raise CapabilityError(f"backend '{self.name}' is loaded in the Ray workers only; the "
                              "driver cannot judge with it")

    def close(self) -> None:
        """Nothing to release."""


class DescribedScorer(DescribedBackend):
    """:class:`DescribedBackend` for a scoring backend (a reward head)."""

    def score_batch(self, items: Sequence[Any]) -> list[list[float]]:
        """Refused: the Ray workers score."""
        raise CapabilityError(f"backend '{self.name}' is loaded in the Ray workers only; the "
                              "driver cannot score with it")


def stand_in(described: dict[str, Any]) -> DescribedBackend:
    """The stand-in for a described backend (scoring or text)."""
    return DescribedScorer(described) if described["scoring"] else DescribedBackend(described)

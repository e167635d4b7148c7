"""The judge's identity: everything in its configuration that can change a verdict.

:meth:`judge.Judge.config` returns a frozen :class:`JudgeConfig`; its :meth:`~JudgeConfig.
fingerprint` keys every resumable run (``judge label``'s journal, ``judge bench run``'s records),
so work done under another configuration is never reused. A backend may contribute its own
identity with a ``fingerprint()`` method (a reward head returns its weights' hash); otherwise
its name and model stand for it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from judge.hashing import json_hash
from judge.record import RECORD_SCHEMA


class JudgeConfig(BaseModel):
    """What a judge is: backend, model, templates, sampling, ordering, default principle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: str
    model: str | None
    backend_fingerprint: str | None = None
    """What the backend says identifies it beyond its name (e.g. a head's weights hash)."""
    template: str | None
    """The listwise template's name (None for direct scorers, which use no template)."""
    template_hash: str | None
    templates: dict[str, str | None]
    """Mode -> template hash, for every mode the judge can run (None where it has none)."""
    default_principle: str | None
    """Hash of the default principle's text."""
    seed: int
    permutations: int
    shuffle: bool
    structured: bool
    sampling: dict[str, Any] | None
    """Decoding settings (None for direct scorers)."""
    record: str = RECORD_SCHEMA
    """The labelled-record schema the run writes."""
    pointwise: bool = False
    """Lists judged one response at a time (``Judge(pointwise=True)``)."""

    def identity(self) -> dict[str, Any]:
        """The configuration as hashed for resume keys (``pointwise`` only when on, so judges
        from before the option keep their fingerprints and bench runs stay resumable)."""
        dumped = self.model_dump(mode="json")
        if not self.pointwise:
            del dumped["pointwise"]
        return dumped

    def fingerprint(self) -> str:
        """A short content hash of the whole configuration."""
        return json_hash(self.identity())


def backend_fingerprint(backend: Any) -> str | None:
    """The backend's own identity, when it offers one (a ``fingerprint()`` method)."""
    method = getattr(backend, "fingerprint", None)
    value = method() if callable(method) else None
    return None if value is None else str(value)

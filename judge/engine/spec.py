"""A picklable recipe for a judge: what a Ray worker builds its own judge from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from judge.core import Judge


@dataclass(frozen=True)
class JudgeSpec:
    """The backend spec string and the :class:`~judge.core.Judge` keyword arguments.

    Example:
        >>> import pickle
        >>> spec = JudgeSpec("head", {"principle": "correct-then-concise"})
        >>> pickle.loads(pickle.dumps(spec)) == spec
        True
    """

    backend: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Judge:
        """A new judge (the backend is loaded here)."""
        return Judge(self.backend, **self.options)

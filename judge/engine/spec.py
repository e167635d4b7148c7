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

    def describe(self) -> dict[str, Any]:
        """Load the backend, read what identifies it, release it (run in a Ray task)."""
        from judge.engine.described import describe_backend

        judge = self.build()
        try:
            return describe_backend(judge.backend)
        finally:
            judge.close()

    def build_described(self, described: dict[str, Any]) -> Judge:
        """The judge around a stand-in of a backend described by :meth:`describe`: the same
        fingerprint and provenance as :meth:`build`, without loading the model."""
        from judge.engine.described import stand_in

        options = {k: v for k, v in self.options.items() if k != "backend_options"}
        return Judge(stand_in(described), **options)

"""Factory for ``scripted:FILE`` specs."""

from __future__ import annotations

from typing import Any

from judge.backends.scripted import ScriptedBackend
from judge.errors import ConfigError


def create(target: str, **options: Any) -> ScriptedBackend:
    """Build a scripted backend replaying the replies in ``target``."""
    if not target:
        raise ConfigError("scripted backend needs a reply file: --backend scripted:REPLIES.jsonl")
    unknown = set(options) - {"cycle"}
    if unknown:
        raise ConfigError(f"scripted backend: unknown option(s) {sorted(unknown)}; known: cycle")
    return ScriptedBackend.from_file(target, cycle=bool(options.get("cycle", False)))

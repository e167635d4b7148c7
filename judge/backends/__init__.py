"""Backends, chosen by a spec string and imported lazily.

=====================  ==============================================  ==================
spec                   engine                                          extra
=====================  ==============================================  ==================
``scripted:FILE``      replays replies from FILE (one JSON string      (none)
                       per line)
``transformers:PATH``  a local causal LM, batched ``generate``         ``hf``
``vllm:PATH``          vLLM's offline engine                           ``vllm``
``openai:URL#MODEL``   any OpenAI-compatible server                    (none)
``head`` / ``head:DIR``  a distilled reward head (the shipped one, or  ``embed``
                       DIR)
=====================  ==============================================  ==================
"""

from __future__ import annotations

import importlib
from typing import Any

from judge.backends.base import ScoringBackend, TextBackend
from judge.backends.scripted import ScriptedBackend
from judge.errors import ConfigError

Backend = TextBackend | ScoringBackend

# kind -> "module:factory". Factories take (target: str, **options) and return a backend.
_FACTORIES: dict[str, str] = {
    "scripted": "judge.backends.scripted_factory:create",
    "transformers": "judge.backends.hf.engine:create",
    "vllm": "judge.backends.vllm.engine:create",
    "openai": "judge.backends.http.client:create",
    "head": "judge.distill.backend:create",
}


def backend_kinds() -> list[str]:
    """The backend kinds a spec may start with."""
    return sorted(_FACTORIES)


def load_backend(spec: str, **options: Any) -> Backend:
    """Build a backend from a spec string such as ``transformers:./model``.

    Args:
        spec: ``KIND`` or ``KIND:TARGET`` (see the module docstring).
        **options: backend-specific options, validated by the backend.

    Raises:
        ConfigError: the kind is unknown or the target is missing.
        MissingDependency: the backend's extra is not installed.
    """
    kind, _, target = spec.partition(":")
    if kind not in _FACTORIES:
        raise ConfigError(
            f"unknown backend '{spec}': the spec must start with one of "
            f"{', '.join(k + ':' for k in backend_kinds())} (e.g. transformers:./my-model)"
        )
    module_name, _, func = _FACTORIES[kind].partition(":")
    module = importlib.import_module(module_name)
    factory = getattr(module, func)
    return factory(target, **options)  # type: ignore[no-any-return]


__all__ = ["Backend", "ScoringBackend", "ScriptedBackend", "TextBackend", "backend_kinds",
           "load_backend"]

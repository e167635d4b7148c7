"""Principle-conditioned judging and reward modeling.

Rank or score responses under a one-line principle with a generative judge (transformers, vLLM,
any OpenAI-compatible server) or a distilled reward head; benchmark judges; label datasets for RL.

>>> import judge
>>> judge.resolve_principle("correct-then-concise").category
'style'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from judge._version import __version__
from judge.errors import (
    ArtifactError,
    AssetsNotFound,
    BackendError,
    BackendRequestError,
    BackendUnavailable,
    BenchmarkError,
    CapabilityError,
    ConfigError,
    InputError,
    JudgeError,
    MissingDependency,
    PrincipleError,
    TemplateError,
)

if TYPE_CHECKING:
    from judge.backends import ScoringBackend, TextBackend, load_backend
    from judge.backends.scripted import ScriptedBackend
    from judge.core import Judge
    from judge.items import Item, RankItem
    from judge.label import LabelOptions, label_dataset
    from judge.principles import Principle, PrincipleLibrary, default_library, resolve_principle
    from judge.rl import Reward, RewardError
    from judge.templates import PromptTemplate, load_template
    from judge.types import ChatMessage, Generation, GenerationRequest, Judgment, Sampling
    from judge.verdict.parse import ParsedVerdict, parse_verdict

#: Public names imported on first use (``import judge`` loads only the version and the errors).
_LAZY: dict[str, str] = {
    "ScoringBackend": "judge.backends", "TextBackend": "judge.backends",
    "load_backend": "judge.backends", "ScriptedBackend": "judge.backends.scripted",
    "Judge": "judge.core", "Item": "judge.items", "RankItem": "judge.items",
    "LabelOptions": "judge.label", "label_dataset": "judge.label",
    "ParsedVerdict": "judge.verdict.parse", "parse_verdict": "judge.verdict.parse",
    "Principle": "judge.principles", "PrincipleLibrary": "judge.principles",
    "default_library": "judge.principles", "resolve_principle": "judge.principles",
    "Reward": "judge.rl", "RewardError": "judge.rl",
    "PromptTemplate": "judge.templates", "load_template": "judge.templates",
    "ChatMessage": "judge.types", "Generation": "judge.types",
    "GenerationRequest": "judge.types", "Judgment": "judge.types", "Sampling": "judge.types",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'judge' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ArtifactError",
    "AssetsNotFound",
    "BackendError",
    "BackendRequestError",
    "BackendUnavailable",
    "BenchmarkError",
    "CapabilityError",
    "ChatMessage",
    "ConfigError",
    "Generation",
    "GenerationRequest",
    "InputError",
    "Item",
    "Judge",
    "JudgeError",
    "Judgment",
    "LabelOptions",
    "MissingDependency",
    "ParsedVerdict",
    "Principle",
    "PrincipleError",
    "PrincipleLibrary",
    "PromptTemplate",
    "RankItem",
    "Reward",
    "RewardError",
    "Sampling",
    "ScoringBackend",
    "ScriptedBackend",
    "TemplateError",
    "TextBackend",
    "__version__",
    "default_library",
    "label_dataset",
    "load_backend",
    "load_template",
    "parse_verdict",
    "resolve_principle",
]

"""Principle-conditioned judging and reward modeling.

Rank or score responses under a one-line principle with a generative judge (transformers, vLLM,
any OpenAI-compatible server) or a distilled reward head; benchmark judges; label datasets for RL.

>>> import judge
>>> judge.resolve_principle("correct-then-concise").category
'style'
"""

from __future__ import annotations

from judge._version import __version__
from judge.backends import ScoringBackend, TextBackend, load_backend
from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
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
from judge.items import Item, RankItem
from judge.label import LabelOptions, label_dataset
from judge.verdict.parse import ParsedVerdict, parse_verdict
from judge.principles import Principle, PrincipleLibrary, default_library, resolve_principle
from judge.rl import Reward, RewardError
from judge.templates import PromptTemplate, load_template
from judge.types import ChatMessage, Generation, GenerationRequest, Judgment, Sampling

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

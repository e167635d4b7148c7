"""Typed values that travel along the data path: requests to backends, their results, verdicts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]
Status = Literal["ok", "repaired", "partial", "inconsistent", "unparsed", "backend_error"]
"""A verdict's status (see :data:`STATUSES`)."""
Mode = Literal["listwise", "pairwise", "pointwise"]

#: Every verdict status, best first. ``ok``: every run parsed cleanly; ``repaired``: parsed after
#: safe repairs; ``partial``: some permutation runs failed, the rest are aggregated;
#: ``inconsistent``: the judge's scores contradict its own ranking; ``unparsed``: no verdict could
#: be read; ``backend_error``: the backend failed on this item.
STATUSES: tuple[str, ...] = ("ok", "repaired", "partial", "inconsistent", "unparsed",
                             "backend_error")
#: Statuses whose verdict has complete scores and a ranking that agrees with them. Only these
#: carry numbers; every other status has ``scores`` and ``ranking`` None.
USABLE_STATUSES: frozenset[str] = frozenset({"ok", "repaired", "partial"})
#: The status of an input row that could not be judged (a row status, never a verdict's).
INVALID_INPUT = "invalid_input"
#: Every status an output row can have.
ROW_STATUSES: tuple[str, ...] = (*STATUSES, INVALID_INPUT)
#: The former name of :data:`USABLE_STATUSES`.
PARSED_STATUSES = USABLE_STATUSES


class ChatMessage(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class Sampling(BaseModel):
    """Decoding settings. Judging defaults to greedy decoding with an explicit seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.0, ge=0.0)
    """0 means greedy decoding."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, ge=1)
    """Upper bound on generated tokens; a verdict cut here is reported as truncated."""
    seed: int | None = 0
    """Sampling seed, used when temperature > 0."""
    top_logprobs: int = Field(0, ge=0, le=20)
    """When > 0, ask the backend for this many alternatives per generated token."""


class GenerationRequest(BaseModel):
    """One chat to complete. Backends receive these in batches and answer in the same order."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[ChatMessage, ...]
    sampling: Sampling = Sampling()
    json_schema: dict[str, Any] | None = None
    """When set, ask the engine to constrain the answer (after any thinking) to this schema."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Free-form tags (item id, permutation) recorded by scripted backends; engines ignore it."""


class TokenLogprob(BaseModel):
    """One generated token with its log-probability and the top alternatives at its position."""

    token: str
    logprob: float
    top: dict[str, float] = Field(default_factory=dict)
    """Alternative token text -> logprob (includes the chosen token when the engine reports it)."""


class Usage(BaseModel):
    """Token counts for one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


class Generation(BaseModel):
    """A backend's answer to one request. ``error`` set means this item failed in the backend."""

    text: str = ""
    finish_reason: str | None = None
    """"stop", "length" (cut by max_tokens), or the engine's own word."""
    logprobs: list[TokenLogprob] | None = None
    usage: Usage = Usage()
    latency_s: float = 0.0
    error: str | None = None
    """A per-item backend failure (after retries). The run goes on; the verdict is backend_error."""
    flags: list[str] = Field(default_factory=list)
    """What the engine did that the verdict should record (e.g. ``constrained``)."""


class PrincipleRef(BaseModel):
    """How a verdict names the principle it was judged under."""

    id: str
    """Library id, or ``text:<hash>`` for a free-text principle."""
    version: int | None = None
    hash: str
    """Content hash of the principle text the judge saw."""


class Provenance(BaseModel):
    """Everything needed to reproduce or audit a verdict."""

    principle: PrincipleRef
    template: str | None
    template_hash: str | None
    backend: str
    model: str | None
    sampling: Sampling | None
    seed: int
    order: list[list[str]]
    """The caller's ids in the order shown to the judge, one list per permutation."""
    structured: bool = False
    package_version: str


class Judgment(BaseModel):
    """A parsed verdict for one item, keyed by the caller's response ids."""

    mode: Mode
    ids: list[str]
    """The caller's response ids, in the caller's order."""
    scores: dict[str, float] | None = None
    """Per-response score on the template's scale (``scale``); None unless the status is usable."""
    ranking: list[str] | None = None
    """Best-to-worst ids, agreeing with ``scores`` (score ties broken by shown position, then the
    caller's order); None unless the status is usable."""
    reasoning: str | None = None
    """The judge's thinking block, when it wrote one."""
    status: Status
    problems: list[str] = Field(default_factory=list)
    """Why the verdict was repaired, flagged or unparsed, in plain words."""
    flags: list[str] = Field(default_factory=list)
    """Machine-readable warnings, e.g. ``ranking_contradicts_scores``, ``truncated``."""
    raw: str | list[str] | None = None
    """The judge's raw text (a list with one entry per permutation when several ran)."""
    scale: tuple[float, float] | None = None
    """The score scale, e.g. (1, 5); None for unbounded scores (reward heads)."""
    logprob_scores: dict[str, float] | None = None
    """Expected score from the score tokens' probabilities, when the backend returned logprobs."""
    consistency: float | None = None
    """Mean Kendall tau between the rankings of the permutation runs (1 = fully consistent)."""
    runs: int = 1
    """How many permutation runs were judged."""
    parsed_runs: int = 0
    """How many of those gave a usable verdict (and were aggregated)."""
    item_id: str | None = None
    provenance: Provenance

    @property
    def parsed(self) -> bool:
        """Whether this verdict carries usable scores and ranking."""
        return self.status in USABLE_STATUSES

    def best(self) -> str | None:
        """The best response's id, or None when there is no ranking."""
        return self.ranking[0] if self.ranking else None

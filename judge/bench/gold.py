"""The gold item of a benchmark: a principle, a prompt, several responses, and a gold order.

One row of a suite (JSONL line or dataset row)::

    {"id": "vpn-concise", "principle": "correct-then-concise", "prompt": "What does a VPN do?",
     "responses": {"a": "...", "b": "...", "c": "..."},
     "scores": {"a": 5, "b": 3, "c": 1},          # gold scores, higher is better, and/or
     "ranking": ["a", "b", "c"],                   # gold best-to-worst order
     "category": "style", "domain": "chat", "metadata": {"source": "hand-written"}}

``responses`` takes every shape :func:`judge.items.normalize_responses` reads (a list, ids
``"0"``, ``"1"``...; a list of ``{"id", "text"}`` objects; chat messages), and ``scores`` may be a
list aligned with the responses; this makes rows that round-trip through Arrow / Hugging Face
``datasets`` possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from judge.hashing import json_hash, text_hash
from judge.items import normalize_responses

#: The RABench principle categories and domains (recommended vocabulary; others are accepted).
CATEGORIES: tuple[str, ...] = ("content", "logic", "tone", "style", "structure")
DOMAINS: tuple[str, ...] = ("chat", "code", "safety", "math")


class GoldItem(BaseModel):
    """One ranking list with its gold order.

    Gold is given as ``scores`` (higher is better; equal scores are gold ties), as ``ranking``
    (a strict best-to-worst order), or both (then the ranking must not contradict the scores).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    """Unique within the suite."""
    principle: str = Field(min_length=1)
    """A library principle id (``correct-then-concise``) or the principle's text."""
    prompt: str
    responses: dict[str, str]
    """Response id -> text; at least two responses."""
    scores: dict[str, float] | None = None
    """Gold score per response id (higher is better)."""
    ranking: list[str] | None = None
    """Gold best-to-worst order of all response ids."""
    category: str = Field(min_length=1)
    """Principle category: content, logic, tone, style or structure (RABench's five)."""
    domain: str = Field(min_length=1)
    """Task domain: chat, code, safety or math (RABench's four)."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Anything else (source, upstream ids, a readable ``principle_name``)."""

    @field_validator("id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        responses = data.get("responses")
        ids: list[str] | None = None
        if isinstance(responses, Mapping):
            # Arrow structs give every row every key; absent ones come back as None.
            responses = {str(k): v for k, v in responses.items() if v is not None}
        if responses is not None:
            data["responses"] = normalize_responses(responses)
            ids = list(data["responses"])
        scores = data.get("scores")
        if isinstance(scores, (list, tuple)) and ids is not None and len(scores) == len(ids):
            data["scores"] = dict(zip(ids, scores, strict=True))
        elif isinstance(scores, Mapping):
            data["scores"] = {str(k): v for k, v in scores.items() if v is not None}
        if isinstance(data.get("ranking"), (list, tuple)):
            data["ranking"] = [str(r) for r in data["ranking"]]
        if data.get("metadata") is None:
            data.pop("metadata", None)
        return data

    @field_validator("responses")
    @classmethod
    def _two_or_more(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) < 2:
            raise ValueError(f"needs at least two responses to rank, got {len(v)}")
        return v

    @model_validator(mode="after")
    def _gold(self) -> GoldItem:
        ids = set(self.responses)
        if self.scores is None and self.ranking is None:
            raise ValueError("gold missing: give 'scores' (id -> number) and/or 'ranking' "
                             "(best-to-worst ids)")
        if self.scores is not None and set(self.scores) != ids:
            raise ValueError(_id_mismatch("scores", set(self.scores), ids))
        if self.ranking is not None:
            duplicated = len(self.ranking) != len(set(self.ranking))
            if duplicated or set(self.ranking) != ids:
                raise ValueError(_id_mismatch("ranking", set(self.ranking), ids, duplicated))
            if self.scores is not None:
                for better, worse in zip(self.ranking, self.ranking[1:], strict=False):
                    if self.scores[better] < self.scores[worse]:
                        raise ValueError(
                            f"ranking puts '{better}' above '{worse}' but scores say "
                            f"{self.scores[better]:g} < {self.scores[worse]:g}")
        return self

    def gold(self) -> dict[str, float]:
        """Gold value per response id, higher is better.

        The gold scores when given; otherwise ``k - position`` from the ranking (k..1).

        >>> GoldItem(id="x", principle="p q", prompt="q", responses=["a", "b", "c"],
        ...           ranking=["1", "2", "0"], category="style", domain="chat").gold()
        {'0': 1.0, '1': 3.0, '2': 2.0}
        """
        if self.scores is not None:
            return {i: float(self.scores[i]) for i in self.responses}
        k = len(self.ranking or [])
        pos = {rid: n for n, rid in enumerate(self.ranking or [])}
        return {i: float(k - pos[i]) for i in self.responses}

    def content_hash(self) -> str:
        """Hash of everything in the item (a record's identity, with the judge config)."""
        return json_hash(self.model_dump(mode="json"))

    def principle_name(self) -> str:
        """A short readable name for per-principle tables."""
        name = self.metadata.get("principle_name")
        if isinstance(name, str) and name:
            return name
        text = " ".join(self.principle.split())
        return text if len(text) <= 48 else f"{text[:40]}... #{text_hash(text, 6)}"

    def to_rank_item(self) -> dict[str, Any]:
        """The dict :meth:`judge.Judge.rank` takes."""
        return {"id": self.id, "principle": self.principle, "prompt": self.prompt,
                "responses": dict(self.responses)}


def _id_mismatch(field: str, got: set[str], want: set[str], duplicated: bool = False) -> str:
    parts = []
    if duplicated:
        parts.append("has duplicated ids")
    if got - want:
        parts.append(f"names unknown response ids {sorted(got - want)}")
    if want - got:
        parts.append(f"misses response ids {sorted(want - got)}")
    return f"'{field}' " + " and ".join(parts) + f" (response ids: {sorted(want)})"

"""Request and error shapes of ``POST /score`` and the error answers every endpoint documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from judge.errors import InputError


class ResponseRef(BaseModel):
    """One response with the caller's id (ids come back in the answer's ``ids``)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    text: str


class ScoreRequest(BaseModel):
    """``POST /score`` body: responses as strings, or as ``{"id", "text"}`` objects."""

    model_config = ConfigDict(extra="forbid")

    principle: str | None = Field(None, min_length=1, max_length=50_000)
    prompt: str
    responses: list[str | ResponseRef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ScoreRequest:
        seen: dict[str, int] = {}
        for n, r in enumerate(self.responses):
            if isinstance(r, ResponseRef):
                if r.id in seen:
                    raise ValueError(f"responses[{n}]: id {r.id!r} was already used by "
                                     f"responses[{seen[r.id]}]; ids must be unique")
                seen[r.id] = n
        if seen and len(seen) != len(self.responses):
            raise ValueError("give every response an id, or none")
        return self

    def texts(self) -> list[str]:
        """The response texts, in order."""
        return [r.text if isinstance(r, ResponseRef) else r for r in self.responses]

    def ids(self) -> list[str] | None:
        """The caller's ids, or None when responses were plain strings."""
        ids = [r.id for r in self.responses if isinstance(r, ResponseRef)]
        return ids or None


class GroupScoreRequest(BaseModel):
    """``POST /group_score`` body: one sample, judged with the others of its group."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    response: str
    principle: str | None = Field(None, min_length=1, max_length=50_000)
    group: str | None = Field(None, min_length=1, max_length=200)
    """The caller's group id (veRL's ``uid``); default: a hash of prompt and principle."""
    group_size: int | None = Field(None, ge=1)
    """How many samples the group will have (default: the server's ``--group-size``)."""


class BadRequest(Exception):
    """An answer with a 4xx/5xx status and a message (the app turns it into ``ErrorBody``)."""

    def __init__(self, status: int, message: str, detail: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: ``error`` says what is wrong, where, and how to fix it."""

    error: str
    detail: list[dict[str, Any]] | None = None


_WHY = {
    400: "the body is not valid JSON",
    401: "missing or wrong bearer token",
    408: "the body did not arrive within the body timeout",
    413: "the body is larger than --max-body-bytes",
    422: "invalid fields, too many items, unknown principle, duplicate keys or ids, or text "
         "that is not valid Unicode (field and position named)",
    503: "the scoring backend failed on this request",
    504: "scoring took longer than --request-timeout",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": why} for status, why in _WHY.items()}


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` hook: a key given twice in one object is an error, not "last one wins".

    >>> import json
    >>> json.loads('{"a": 1, "a": 2}', object_pairs_hook=no_duplicate_keys)
    Traceback (most recent call last):
    ...
    ValueError: the key 'a' appears twice in one JSON object; send each key once
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one JSON object; send each "
                             "key once")
        out[key] = value
    return out


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI request-body entry for an endpoint that parses its own body."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


def check_count(n: int, limit: int, what: str) -> None:
    """Refuse a request with more items than ``--max-items`` allows.

    Raises:
        InputError: naming the field and the limit.
    """
    if n > limit:
        raise InputError(f"{n} items; the limit is {limit} per request (--max-items)", field=what)

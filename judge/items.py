"""Input items: what the judge is asked to rank or score."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from judge.errors import InputError
from judge.principles import Principle


class RankItem(BaseModel):
    """Rank several responses to one prompt (also used for one response, pointwise).

    ``responses`` may be a mapping of the caller's ids to texts, or a list (ids ``"0"``, ``"1"``…).
    ``principle`` falls back to the judge's default principle when None.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, arbitrary_types_allowed=True)

    prompt: str
    responses: dict[str, str]
    principle: str | Principle | None = None
    id: str | None = None

    @field_validator("responses", mode="before")
    @classmethod
    def _coerce(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return {str(i): r for i, r in enumerate(v)}
        if isinstance(v, Mapping):
            return {str(k): r for k, r in v.items()}
        return v

    @field_validator("responses")
    @classmethod
    def _non_empty(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("needs at least one response")
        return v

    @field_validator("id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return None if v is None else str(v)


def coerce_item(value: RankItem | Mapping[str, Any], *, path: str | None = None,
                line: int | None = None) -> RankItem:
    """Validate a dict (e.g. a JSONL row) into a :class:`RankItem`.

    A row may give ``response`` (one text) instead of ``responses``.

    Raises:
        InputError: naming the file, line and field at fault.
    """
    if isinstance(value, RankItem):
        return value
    if not isinstance(value, Mapping):
        raise InputError(f"expected a JSON object, got {type(value).__name__}", path=path,
                         line=line)
    data = dict(value)
    if "responses" not in data and "response" in data:
        data["responses"] = [data.pop("response")]
    try:
        return RankItem.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is required" + (" (give 'responses' as a list or an id -> text object, or "
                                   "'response')" if field == "responses" else "")
        raise InputError(msg, path=path, line=line, field=field) from None

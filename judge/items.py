"""Input items: what the judge is asked to rank or score, and the one reader of ``responses``.

Every path into the judge (``Judge.rank``, ``judge rank``, ``judge label``, the server, the RL
reward functions, benchmark suites) reads responses with :func:`normalize_responses`, which
accepts these shapes and refuses anything else with the field and the response's index:

=======================================  ==================================================
``["text a", "text b"]``                 ids ``"0"``, ``"1"``...
``{"a": "text a", "b": "text b"}``       the object's keys are the ids
``[{"id": "a", "text": "..."}, ...]``    ``text``, ``content`` or ``response``; ``id`` optional
                                         (the position when absent)
``[[{"role": "assistant", ...}], ...]``  chat messages: the assistant turns' content, joined
=======================================  ==================================================

A value of an id -> text object may itself be an object or a chat-message list, read the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from judge.errors import ConfigError, InputError
from judge.messages import prompt_text, response_text
from judge.principles import Principle
from judge.textcheck import find_bad_text


def normalize_responses(value: Any, *, field: str = "responses") -> dict[str, str]:
    """Response id -> text from any accepted shape (see the module table).

    >>> normalize_responses([{"id": "a", "text": "yes"}, {"content": "no"}])
    {'a': 'yes', '1': 'no'}

    Raises:
        InputError: naming ``field`` and the bad response's index (or id).
    """
    if isinstance(value, Mapping):
        pairs = [(str(k), v, f"{field}.{k}" if field else str(k)) for k, v in value.items()]
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        pairs = []
        for n, v in enumerate(value):
            ident = v.get("id") if isinstance(v, Mapping) else None
            pairs.append((str(n) if ident is None else str(ident), v, f"{field}[{n}]"))
    else:
        raise InputError(f"must be a list of responses or an id -> text object, got "
                         f"{'null' if value is None else type(value).__name__}", field=field)
    if not pairs:
        raise InputError("needs at least one response", field=field)
    out: dict[str, str] = {}
    for ident, v, where in pairs:
        if ident in out:
            raise InputError(f"duplicate response id '{ident}'", field=where)
        try:
            out[ident] = response_text(v)
        except InputError as exc:
            raise InputError(exc.detail, field=where) from None
    return out


class Item(BaseModel):
    """Rank several responses to one prompt (also used for one response, pointwise).

    ``responses`` takes any shape :func:`normalize_responses` reads; ``prompt`` may be chat
    messages. ``principle`` falls back to the judge's default principle when None.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, arbitrary_types_allowed=True)

    prompt: str
    responses: dict[str, str]
    principle: str | Principle | None = None
    id: str | None = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt(cls, v: Any) -> Any:
        if v is None or isinstance(v, str):
            return v
        try:
            return prompt_text(v)
        except InputError as exc:
            raise InputError(exc.detail, field="prompt") from None

    @field_validator("responses", mode="before")
    @classmethod
    def _responses(cls, v: Any) -> Any:
        return normalize_responses(v)

    @field_validator("id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return None if v is None else str(v)


#: The former name of :class:`Item`.
RankItem = Item


def resolved_principle(item: Item) -> Principle:
    """The principle of an item whose principle has been resolved (what a scoring backend
    receives: see :class:`judge.backends.base.ScoringBackend`).

    Raises:
        ConfigError: the item carries no principle, or only unresolved text.
    """
    if not isinstance(item.principle, Principle):
        raise ConfigError("a scored item must carry its resolved principle "
                          "(judge.principles.resolve_principle)")
    return item.principle


def coerce_item(value: Item | Mapping[str, Any], *, path: str | None = None,
                line: int | None = None, index: int | None = None) -> Item:
    """Validate a dict (e.g. a JSONL row) into an :class:`Item`.

    A row may give ``response`` (one text) instead of ``responses``. ``index`` is the item's
    position in a batch call, named in the error.

    Raises:
        InputError: naming the file, line (or batch index) and field at fault.
    """
    if isinstance(value, Item):
        _check_text({"prompt": value.prompt, "responses": value.responses}, path, line, index)
        return value
    if not isinstance(value, Mapping):
        raise InputError(f"expected a JSON object, got {type(value).__name__}", path=path,
                         line=line, index=index)
    _check_text(value, path, line, index)
    data = dict(value)
    if data.get("responses") is None and "response" in data:
        data["responses"] = [data.pop("response")]
    try:
        return Item.model_validate(data)
    except InputError as exc:
        raise InputError(exc.detail, path=path, line=line, field=exc.field,
                         index=index) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is required" + (" (give 'responses' as a list or an id -> text object, or "
                                   "'response')" if field == "responses" else "")
        raise InputError(msg, path=path, line=line, field=field, index=index) from None


def _check_text(value: Any, path: str | None, line: int | None, index: int | None) -> None:
    """Refuse text that UTF-8 cannot encode (a lone surrogate) here, naming where it is, rather
    than letting it fail a whole batch later inside a tokenizer or a hash."""
    bad = find_bad_text(value)
    if bad is not None:
        raise InputError(bad.problem(), path=path, line=line, field=bad.field, index=index)


def coerce_items(values: Sequence[Item | Mapping[str, Any]]) -> list[Item]:
    """Validate a batch; an error names the bad item's index."""
    return [coerce_item(v, index=n) for n, v in enumerate(values)]

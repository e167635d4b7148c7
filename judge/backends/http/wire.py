"""The OpenAI chat-completions wire format: request bodies out, validated responses in.

Servers differ in small ways (llama.cpp's ``json_object`` + schema, vLLM's ``structured_outputs``
and ``reasoning_content``), so the structured-output form is a choice. llama.cpp's server ignores
integer ``minimum``/``maximum`` (it would let a 1-5 score be 8000000000000000), so in that form a
small bounded integer is sent as the enum of its values, which it does enforce. Response bodies are
validated with pydantic; anything malformed raises :class:`MalformedResponse`, which the
backend turns into that item's error (never a crash).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from judge.backends.shared.constrain import prepare_schema
from judge.backends.shared.tokens import byte_pieces
from judge.types import GenerationRequest, TokenLogprob, Usage

StructuredForm = Literal["json_schema", "json_object", "structured_outputs"]


_FORBIDDEN = -9999.0
_MAX_ENUM = 256   # widest integer range sent as an enum (json_object form)
_MAX_PERMUTED = 5  # longest ranking sent to llama.cpp as its permutations (5! = 120)
_DATA_KEYS = frozenset({"enum", "const", "default", "examples"})   # values, not subschemas


class MalformedResponse(ValueError):
    """A response body that is not a usable chat completion."""


def chat_body(request: GenerationRequest, *, model: str | None, structured: StructuredForm,
              max_tokens_field: str = "max_tokens", thinking: bool | None = None,
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for one request.

    >>> from judge.types import ChatMessage, Sampling
    >>> r = GenerationRequest(messages=(ChatMessage(role="user", content="hi"),),
    ...                       sampling=Sampling(max_tokens=8))
    >>> sorted(chat_body(r, model="m", structured="json_schema"))
    ['max_tokens', 'messages', 'model', 'seed', 'temperature', 'top_p']
    """
    s = request.sampling
    body: dict[str, Any] = {
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "temperature": s.temperature, "top_p": s.top_p, max_tokens_field: s.max_tokens,
    }
    if model:
        body["model"] = model
    if s.seed is not None:
        body["seed"] = s.seed
    if s.top_logprobs > 0:
        body["logprobs"] = True
        body["top_logprobs"] = s.top_logprobs
    schema = request.json_schema
    if schema is not None:
        if structured == "json_schema":
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "verdict", "schema": schema, "strict": True}}
        elif structured == "json_object":
            body["response_format"] = {"type": "json_object", "schema": bounds_as_enums(
                prepare_schema(schema, max_ids=_MAX_PERMUTED))}
        else:
            body["structured_outputs"] = {"json": schema}
    if thinking is not None:
        body["chat_template_kwargs"] = {"enable_thinking": thinking}
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def bounds_as_enums(schema: Any) -> Any:
    """A copy of ``schema`` whose integers with both bounds (at most 256 values) are enums.

    For servers whose grammar ignores ``minimum``/``maximum`` but enforces ``enum`` (llama.cpp;
    its rankings become permutation enums through
    :func:`judge.backends.shared.constrain.prepare_schema`, as for the local engines).

    >>> bounds_as_enums({"type": "object", "properties": {
    ...     "score": {"type": "integer", "minimum": 1, "maximum": 3}}})["properties"]["score"]
    {'type': 'integer', 'enum': [1, 2, 3]}
    """
    if isinstance(schema, list):
        return [bounds_as_enums(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k in _DATA_KEYS else bounds_as_enums(v) for k, v in schema.items()}
    lo, hi = out.get("minimum"), out.get("maximum")
    if out.get("type") == "integer" and "enum" not in out and type(lo) is int \
            and type(hi) is int and 0 <= hi - lo < _MAX_ENUM:   # type(): bool is no bound
        del out["minimum"], out["maximum"]
        out["enum"] = list(range(lo, hi + 1))
    return out


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _TopLogprob(_Loose):
    token: str
    logprob: float
    bytes: list[int] | None = None


class _TokenLogprob(_TopLogprob):
    top_logprobs: list[_TopLogprob] = Field(default_factory=list)


class _Logprobs(_Loose):
    content: list[_TokenLogprob] | None = None


class _Message(_Loose):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _Choice(_Loose):
    message: _Message
    finish_reason: str | None = None
    logprobs: _Logprobs | None = None


class _Usage(_Loose):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Completion(_Loose):
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


def parse_completion(data: Any) -> dict[str, Any]:
    """Generation fields from a decoded response body.

    A reasoning server's separate thinking (``reasoning_content``) is put back in front of the
    answer as ``<think>…</think>`` so the verdict parser sees the same text as from a local
    engine; the logprobs then start with one entry standing for that block (logprob 0).

    Raises:
        MalformedResponse: the body is not a chat completion.
    """
    try:
        completion = _Completion.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise MalformedResponse(f"not a chat completion ({where}: {first['msg']})") from None
    choice = completion.choices[0]
    content = choice.message.content or ""
    reasoning = choice.message.reasoning_content or choice.message.reasoning
    prefix = f"<think>{reasoning}</think>" if reasoning else ""
    logprobs = None
    if choice.logprobs is not None and choice.logprobs.content is not None:
        logprobs = _logprobs(choice.logprobs.content, content)
        if logprobs is not None and prefix:
            logprobs.insert(0, TokenLogprob(token=prefix, logprob=0.0))
    usage = completion.usage or _Usage()
    return {"text": prefix + content, "finish_reason": choice.finish_reason,
            "logprobs": logprobs,
            "usage": Usage(prompt_tokens=usage.prompt_tokens,
                           completion_tokens=usage.completion_tokens)}


def _logprobs(entries: list[_TokenLogprob], content: str) -> list[TokenLogprob] | None:
    """Token entries whose texts concatenate to ``content`` exactly, else None.

    Entries after the content (vLLM lists the stop token, e.g. ``<|im_end|>``) are dropped.
    """
    covered = _covering_prefix(entries, content)
    if covered is None:
        return None
    entries = entries[:covered]
    if entries and all(e.bytes is not None for e in entries):
        pieces = byte_pieces([bytes(e.bytes or []) for e in entries], content)
    else:
        pieces = [e.token for e in entries]
    if pieces is None or "".join(pieces) != content:
        return None
    out = []
    for entry, piece in zip(entries, pieces, strict=True):
        top: dict[str, float] = {}
        for alt in entry.top_logprobs:
            if alt.logprob > _FORBIDDEN:   # vLLM lists grammar-masked tokens at -9999
                top.setdefault(alt.token, alt.logprob)
        top.setdefault(entry.token, entry.logprob)
        out.append(TokenLogprob(token=piece, logprob=entry.logprob, top=top))
    return out


def _covering_prefix(entries: list[_TokenLogprob], content: str) -> int | None:
    """How many leading entries spell ``content`` (by bytes when given, else by text)."""
    target = content.encode("utf-8")
    total = b""
    if not target:
        return 0
    for n, entry in enumerate(entries, 1):
        total += bytes(entry.bytes) if entry.bytes is not None else entry.token.encode("utf-8")
        if total == target:
            return n
        if len(total) >= len(target):
            return None
    return None

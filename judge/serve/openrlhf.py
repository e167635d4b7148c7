"""OpenRLHF's remote reward-model protocol, as pure functions.

OpenRLHF (``--reward.remote_url http://host:port/get_reward``) POSTs
``{"query": [...], "prompts": [...], "labels": [...]}`` (older versions send only ``query``):
``query[i]`` is the decoded prompt *plus* the generated response, special tokens included;
``prompts[i]`` is the prompt as the policy saw it (chat template applied). It reads
``{"rewards": [...], "scores": [...], "extra_logs": {...}}``, with ``scores`` in [0, 1] for
dynamic filtering and ``extra_logs`` values logged per sample.

This is the one place that reads and writes that protocol, for ``judge serve``'s
``/get_reward`` and for :meth:`judge.rl.Reward.openrlhf` alike:

* :func:`split_query` finds the user's prompt and the response in a query: after ``prompts[i]``
  when the query contains it, else after the last assistant-turn header of a known chat format
  (the prompt is missing or was cut from the left), else after the longest common prefix;
* :func:`parse_label` reads a principle (and a prompt override) from a label: an object, or a
  JSON object in a string, with ``principle`` / ``prompt`` keys; a plain string label is a
  principle only with ``labels_are_principles`` (OpenRLHF's labels usually carry reference
  answers);
* :func:`parse_request` / :func:`parse_body` turn a request into :class:`Sample` objects;
* :func:`format_response` writes the answer, with the same ``extra_logs`` keys on both paths.

It imports nothing heavy (no fastapi, no torch), so RL code can use it cheaply.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from judge.errors import InputError


class OpenRLHFRequest(BaseModel):
    """The request body. ``principle`` (one for the whole request) is this toolkit's extension.

    Empty lists are valid (OpenRLHF sends them to one of several reward endpoints) and get
    empty answers."""

    model_config = ConfigDict(extra="ignore")

    query: list[str]
    prompts: list[str] | None = None
    labels: list[Any] | None = None
    principle: str | None = Field(None, min_length=1)

    @field_validator("query", "prompts", mode="before")
    @classmethod
    def _one_string(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _lengths(self) -> OpenRLHFRequest:
        for name in ("prompts", "labels"):
            value = getattr(self, name)
            if value is not None and len(value) != len(self.query):
                raise ValueError(f"'{name}' has {len(value)} entries but 'query' has "
                                 f"{len(self.query)}; they must line up one per sample")
        return self


@dataclass(frozen=True)
class Sample:
    """One sample ready to score.

    Attributes:
        prompt: the user's prompt (chat markup removed), or the label's prompt override.
        response: the generated response (end-of-turn and padding tokens removed).
        exact_split: whether ``prompts[i]`` was found in the query (False: a fallback split
            was used; logged as ``judge_exact_split``).
        principle: the request's ``principle``, else the label's, else None (the caller's
            default applies).
    """

    prompt: str
    response: str
    exact_split: bool
    principle: str | None = None


# Special tokens that end a generation or pad it, across common chat formats.
_END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "</s>", "<eos>", "<pad>",
               "<|end_of_text|>", "<end_of_turn>", "[PAD]")
_LEAD_TOKENS = re.compile(r"^(?:\s*(?:<\|begin_of_text\|>|<s>|<bos>|<pad>|<\|endoftext\|>))+")
_CHATML_USER = re.compile(r"<\|im_start\|>user\s*\n(.*?)(?:<\|im_end\|>|$)", re.DOTALL)
_LLAMA3_USER = re.compile(
    r"<\|start_header_id\|>user<\|end_header_id\|>\s*(.*?)(?:<\|eot_id\|>|$)", re.DOTALL)
_INST_USER = re.compile(r"\[INST\](.*?)\[/INST\]", re.DOTALL)
_GEMMA_USER = re.compile(r"<start_of_turn>user\s*\n(.*?)(?:<end_of_turn>|$)", re.DOTALL)
_ANY_SPECIAL = re.compile(r"<\|[^|<>\n]{1,40}\|>|</?s>|<bos>|<eos>|<pad>")
# Where the assistant's turn starts, per chat format (the first format found wins; within it,
# the last header).
_ASSISTANT_HEADERS = (
    re.compile(r"<\|im_start\|>assistant[^\n]*\n"),                         # ChatML (Qwen)
    re.compile(r"<\|start_header_id\|>assistant<\|end_header_id\|>\s*"),    # Llama 3
    re.compile(r"<start_of_turn>model\n"),                                   # Gemma
    re.compile(r"<\|assistant\|>\n?"),                                       # Phi-3, Zephyr
    re.compile(r"\[/INST\]\s*"),                                             # Mistral / Llama 2
    re.compile(r"(?:^|\n)Assistant:\s*"),                                    # plain transcripts
)
_PLAIN_USER = re.compile(r"(?:^|\n)User:(.*?)(?=\nAssistant:|\Z)", re.DOTALL)


def strip_end_tokens(text: str) -> str:
    """Drop trailing end-of-sequence / padding tokens.

    >>> strip_end_tokens("The answer is 4.<|im_end|><|endoftext|>")
    'The answer is 4.'
    """
    # a loop, not a regex: "\s*(token)+\s*$" backtracks quadratically over a long whitespace
    # run, and a degenerate policy sample can be 100k newlines
    text = text.rstrip()
    while (end := next((t for t in _END_TOKENS if text.endswith(t)), None)) is not None:
        text = text[:-len(end)].rstrip()
    return text


def user_prompt(prompt: str) -> str:
    """The last user turn of a chat-templated prompt (ChatML, Llama 3, [INST], Gemma, plain
    ``User:`` / ``Assistant:`` transcripts); a prompt without recognised markup is returned with
    special tokens removed.

    >>> user_prompt("<|im_start|>system\\nBe kind.<|im_end|>\\n<|im_start|>user\\nHi?<|im_end|>\\n"
    ...             "<|im_start|>assistant\\n")
    'Hi?'
    """
    for pattern in (_CHATML_USER, _LLAMA3_USER, _GEMMA_USER, _INST_USER, _PLAIN_USER):
        found = pattern.findall(prompt)
        if found:
            return str(found[-1]).strip()
    return _ANY_SPECIAL.sub("", prompt).strip()


def _after_prompt(query: str, prompt: str) -> str | None:
    """What follows ``prompt`` in ``query``: at the start, after leading BOS/pad tokens, or
    after its last occurrence; None when the query does not contain it."""
    if query.startswith(prompt):
        return query[len(prompt):]
    stripped_q, stripped_p = _LEAD_TOKENS.sub("", query), _LEAD_TOKENS.sub("", prompt)
    if stripped_p and stripped_q.startswith(stripped_p):
        return stripped_q[len(stripped_p):]
    at = query.rfind(prompt)
    return query[at + len(prompt):] if at >= 0 else None


def _after_header(query: str) -> tuple[str, str] | None:
    """(user prompt, response) split at the last assistant-turn header; None without one."""
    for pattern in _ASSISTANT_HEADERS:
        cut = max((m.end() for m in pattern.finditer(query)), default=-1)
        if cut < 0:
            continue
        head = query[:cut]
        turns = _PLAIN_USER.findall(head) if pattern is _ASSISTANT_HEADERS[-1] else []
        asked = str(turns[-1]).strip() if turns else user_prompt(head)
        return asked, query[cut:]
    return None


def split_query(query: str, prompt: str | None) -> Sample:
    """Split ``query`` (prompt + response) into the user prompt and the response.

    In order: the response follows ``prompt`` where the query contains it (``exact_split``);
    else it follows the last assistant-turn header of a known chat format (ChatML, Llama 3,
    Gemma, Phi-3, ``[/INST]``, ``Assistant:``), for a missing or left-truncated prompt; else
    the longest common prefix with ``prompt``; else the whole query is the response.

    >>> s = split_query("<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n4<|im_end|>",
    ...                 "<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n")
    >>> (s.prompt, s.response, s.exact_split)
    ('2+2?', '4', True)
    >>> split_query("<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\nHello!", None)
    Sample(prompt='Hi', response='Hello!', exact_split=False, principle=None)
    """
    if prompt and (rest := _after_prompt(query, prompt)) is not None:
        return Sample(user_prompt(prompt), strip_end_tokens(rest).strip(), True)
    if (found := _after_header(query)) is not None:
        asked, rest = found
    elif prompt:
        n, limit = 0, min(len(query), len(prompt))
        while n < limit and query[n] == prompt[n]:
            n += 1
        asked, rest = user_prompt(prompt), query[n:]
    else:
        asked, rest = "", _LEAD_TOKENS.sub("", query)
    return Sample(asked, strip_end_tokens(rest).strip(), False)


def _label_text(data: Mapping[str, Any], key: str, where: str, *, strict: bool) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        if not strict:  # a label's own fields (a reference prompt as a list...) are not ours
            return None
        raise InputError(f"must be text, not {type(value).__name__}", field=f"{where}.{key}")
    return value.strip() or None


def parse_label(label: Any, *, labels_are_principles: bool = False,
                where: str = "label") -> tuple[str | None, str | None]:
    """(principle, prompt override) from one OpenRLHF label.

    An object, or a string holding a JSON object, gives its ``principle`` and ``prompt`` keys;
    another string is a principle only with ``labels_are_principles``; anything else gives
    nothing.

    Raises:
        InputError: the label's ``principle`` is not text (``where`` names it); a ``prompt``
            that is not text is ignored.

    >>> parse_label('{"principle": "no-sycophancy"}')
    ('no-sycophancy', None)
    >>> parse_label("42"), parse_label("Be brief.", labels_are_principles=True)
    ((None, None), ('Be brief.', None))
    """
    data: Any = label
    if isinstance(label, str):
        text = label.strip()
        data = None
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = None
        if not isinstance(data, Mapping):
            return (text if labels_are_principles and text else None), None
    if not isinstance(data, Mapping):
        return None, None
    return (_label_text(data, "principle", where, strict=True),
            _label_text(data, "prompt", where, strict=False))


def label_group(label: Any, where: str = "label") -> tuple[str | None, int | None]:
    """(group id, group size) from one label: an object (or a JSON object in a string) with
    ``group`` or ``uid`` and optionally ``group_size``; (None, None) otherwise.

    Raises:
        InputError: ``group_size`` is not a positive integer (``where`` names the label).

    >>> label_group({"uid": "p-3", "group_size": 8}), label_group("reference answer")
    (('p-3', 8), (None, None))
    """
    data: Any = label
    if isinstance(label, str) and label.strip().startswith("{"):
        try:
            data = json.loads(label)
        except json.JSONDecodeError:
            return None, None
    if not isinstance(data, Mapping):
        return None, None
    group = data.get("group", data.get("uid"))
    size = data.get("group_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise InputError(f"must be a positive integer, not {size!r}", field=f"{where}.group_size")
    return (None if group is None or group == "" else str(group)), size


def parse_request(request: OpenRLHFRequest, *,
                  labels_are_principles: bool = False) -> list[Sample]:
    """The samples of a validated request, in order.

    A sample's principle is the request's ``principle``, else its label's (None when neither
    has one); a label's ``prompt`` replaces the prompt found in the query.
    """
    samples = []
    for n, query in enumerate(request.query):
        split = split_query(query, request.prompts[n] if request.prompts is not None else None)
        label = request.labels[n] if request.labels is not None else None
        principle, prompt = parse_label(label, labels_are_principles=labels_are_principles,
                                        where=f"labels[{n}]")
        samples.append(replace(split, prompt=prompt or split.prompt,
                               principle=request.principle or principle))
    return samples


def parse_body(body: Any, *, labels_are_principles: bool = False) -> list[Sample]:
    """The samples of a decoded JSON request body.

    Raises:
        InputError: the body does not have OpenRLHF's shape (the field is named).
    """
    if not isinstance(body, Mapping):
        raise InputError("the request body must be a JSON object with 'query'")
    try:
        request = OpenRLHFRequest.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise InputError(err["msg"], field=field) from None
    return parse_request(request, labels_are_principles=labels_are_principles)


def to_unit_interval(reward: float, scale: tuple[float, float] | None) -> float:
    """Map a reward to [0, 1] for OpenRLHF's ``scores``: min-max on a bounded scale (a
    generative judge's 1-5), else the logistic function (a head's utility).

    >>> to_unit_interval(3.0, (1.0, 5.0)), round(to_unit_interval(0.0, None), 2)
    (0.5, 0.5)
    """
    if scale is not None:
        lo, hi = scale
        return min(1.0, max(0.0, (reward - lo) / (hi - lo))) if hi > lo else 0.5
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, reward))))


def format_response(samples: Sequence[Sample], rewards: Sequence[float | None], *,
                    failed: Sequence[bool], scales: Sequence[tuple[float, float] | None],
                    extra_logs: Mapping[str, Sequence[float]] | None = None) -> dict[str, Any]:
    """The JSON body OpenRLHF reads: ``rewards``, the same mapped to [0, 1] as ``scores``
    (``scales[i]`` is reward i's range, None when unbounded; a ``None`` reward stays ``null``),
    and per-sample ``extra_logs``: ``judge_failed``, ``judge_exact_split`` and any others given.

    >>> out = format_response([split_query("Q: 2+2? A: 4", "Q: 2+2? A:")], [0.0],
    ...                       failed=[False], scales=[None])
    >>> out["rewards"], out["scores"]
    ([0.0], [0.5])
    >>> out["extra_logs"]
    {'judge_failed': [0.0], 'judge_exact_split': [1.0]}
    """
    logs = {"judge_failed": [1.0 if f else 0.0 for f in failed],
            "judge_exact_split": [1.0 if s.exact_split else 0.0 for s in samples]}
    if clash := sorted(set(extra_logs or {}) & set(logs)):
        raise ValueError(f"extra_logs may not replace {clash}")
    logs.update({k: [float(x) for x in v] for k, v in (extra_logs or {}).items()})
    if any(len(v) != len(samples) for v in (rewards, scales, *logs.values())):
        raise ValueError("rewards, scales and extra_logs need one entry per sample")
    return {"rewards": [None if r is None else float(r) for r in rewards],
            "scores": [None if r is None else to_unit_interval(float(r), s)
                       for r, s in zip(rewards, scales, strict=True)],
            "extra_logs": logs}

"""OpenRLHF's remote reward-model protocol, as pure functions.

OpenRLHF (``--reward.remote_url http://host:port/get_reward``) POSTs
``{"query": [...], "prompts": [...], "labels": [...]}``: ``query[i]`` is the decoded prompt
*plus* the generated response, special tokens included; ``prompts[i]`` is the prompt as the
policy saw it (chat template applied). It expects ``{"rewards": [...], "scores": [...],
"extra_logs": {...}}``, with ``scores`` in [0, 1] for dynamic filtering and ``extra_logs``
values logged per sample.

These helpers split each query into the user's prompt and the response, pick the principle
for each sample, and format the answer. They import nothing heavy, so RL adapters can reuse
them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from judge.errors import InputError


class OpenRLHFRequest(BaseModel):
    """The request body. ``principle`` (one for the whole request) is this server's extension."""

    model_config = ConfigDict(extra="ignore")

    query: list[str] = Field(min_length=1)
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
        prompt: the user's prompt (chat markup removed).
        response: the generated response (trailing end-of-sequence tokens removed).
        exact_split: whether ``prompts[i]`` was found at the start of the query (False means a
            fallback split was used; it is counted in ``extra_logs``).
    """

    prompt: str
    response: str
    exact_split: bool


# Special tokens that end a generation or pad it, across common chat formats.
_END_TOKENS = re.compile(
    r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<\|end\|>|</s>|<eos>|<pad>|"
    r"<\|end_of_text\|>|<end_of_turn>|\[PAD\]))+\s*$")
_LEAD_TOKENS = re.compile(r"^(?:\s*(?:<\|begin_of_text\|>|<s>|<bos>|<pad>|<\|endoftext\|>))+")
_CHATML_USER = re.compile(r"<\|im_start\|>user\s*\n(.*?)(?:<\|im_end\|>|$)", re.DOTALL)
_LLAMA3_USER = re.compile(
    r"<\|start_header_id\|>user<\|end_header_id\|>\s*(.*?)(?:<\|eot_id\|>|$)", re.DOTALL)
_INST_USER = re.compile(r"\[INST\](.*?)\[/INST\]", re.DOTALL)
_GEMMA_USER = re.compile(r"<start_of_turn>user\s*\n(.*?)(?:<end_of_turn>|$)", re.DOTALL)
_ANY_SPECIAL = re.compile(r"<\|[^|<>\n]{1,40}\|>|</?s>|<bos>|<eos>|<pad>")


def strip_end_tokens(text: str) -> str:
    """Drop trailing end-of-sequence / padding tokens.

    >>> strip_end_tokens("The answer is 4.<|im_end|><|endoftext|>")
    'The answer is 4.'
    """
    return _END_TOKENS.sub("", text)


def user_prompt(prompt: str) -> str:
    """The last user turn of a chat-templated prompt (ChatML, Llama 3, [INST], Gemma); a prompt
    without recognised markup is returned with special tokens removed.

    >>> user_prompt("<|im_start|>system\\nBe kind.<|im_end|>\\n<|im_start|>user\\nHi?<|im_end|>\\n"
    ...             "<|im_start|>assistant\\n")
    'Hi?'
    """
    for pattern in (_CHATML_USER, _LLAMA3_USER, _GEMMA_USER, _INST_USER):
        found = pattern.findall(prompt)
        if found:
            return str(found[-1]).strip()
    return _ANY_SPECIAL.sub("", prompt).strip()


def split_query(query: str, prompt: str | None) -> Sample:
    """Split ``query`` (prompt + response) into the user prompt and the response.

    The response is what follows ``prompt`` in ``query``: found at the start, else after
    leading BOS/pad tokens, else anywhere (last occurrence). When the prompt is not found at all
    (e.g. it was truncated), the response is what follows the longest common prefix and
    ``exact_split`` is False. Without ``prompt`` the whole query is the response.

    >>> s = split_query("<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n4<|im_end|>",
    ...                 "<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n")
    >>> (s.prompt, s.response, s.exact_split)
    ('2+2?', '4', True)
    """
    if not prompt:
        return Sample("", strip_end_tokens(_LEAD_TOKENS.sub("", query)).strip(), prompt == "")
    exact = True
    if query.startswith(prompt):
        rest = query[len(prompt):]
    else:
        stripped_q, stripped_p = _LEAD_TOKENS.sub("", query), _LEAD_TOKENS.sub("", prompt)
        if stripped_p and stripped_q.startswith(stripped_p):
            rest = stripped_q[len(stripped_p):]
        elif (at := query.rfind(prompt)) >= 0:
            rest = query[at + len(prompt):]
        else:
            n = 0
            limit = min(len(query), len(prompt))
            while n < limit and query[n] == prompt[n]:
                n += 1
            rest, exact = query[n:], False
    return Sample(user_prompt(prompt), strip_end_tokens(rest).strip(), exact)


def principle_for_sample(label: Any, *, request_principle: str | None,
                         default_principle: str | None, labels_are_principles: bool,
                         index: int) -> str:
    """The principle for sample ``index``.

    Order: the request's ``principle``; then the sample's label when it is an object with a
    ``principle`` key, or (with ``labels_are_principles``) a non-empty string; then the
    server's default.

    Raises:
        InputError: no principle could be found for the sample.
    """
    if request_principle:
        return request_principle
    if isinstance(label, Mapping) and isinstance(label.get("principle"), str) and \
            label["principle"].strip():
        return str(label["principle"])
    if labels_are_principles and isinstance(label, str) and label.strip():
        return label
    if default_principle:
        return default_principle
    raise InputError(
        f"sample {index}: no principle — send \"principle\" in the body, put "
        "{\"principle\": ...} in labels[i], or start the server with --principle",
        field="principle")


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


def format_response(rewards: Sequence[float], *, scale: tuple[float, float] | None = None,
                    extra_logs: Mapping[str, Sequence[float]] | None = None) -> dict[str, Any]:
    """The JSON body OpenRLHF expects.

    >>> format_response([0.0], extra_logs={"exact_split": [1.0]})
    {'rewards': [0.0], 'scores': [0.5], 'extra_logs': {'exact_split': [1.0]}}
    """
    return {"rewards": [float(r) for r in rewards],
            "scores": [to_unit_interval(float(r), scale) for r in rewards],
            "extra_logs": {k: [float(x) for x in v] for k, v in (extra_logs or {}).items()}}

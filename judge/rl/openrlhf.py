"""OpenRLHF's remote reward-model protocol for :meth:`judge.rl.Reward.openrlhf`.

OpenRLHF POSTs ``{"query": [...], "prompts": [...], "labels": [...]}`` (older versions send
only ``query``) and reads ``{"rewards": [...], "scores": [...], "extra_logs": {...}}``. The
request model, the prompt/response split, the user-turn extraction and the [0, 1] ``scores``
come from :mod:`judge.serve.openrlhf` (shared with ``judge serve``). This module adds:

* a split for queries whose prompt is missing or was cut from the left: the last assistant-turn
  header of a known chat format (ChatML, Llama 3, Gemma, Phi-3, Mistral ``[/INST]``,
  ``Assistant:``) marks where the response begins;
* principles from labels: an object (or a JSON object in a string) with a ``principle`` key, or
  with ``labels_are_principles`` a plain string label. By default a plain string label is left
  alone, since OpenRLHF's ``labels`` usually carry reference answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from judge.errors import InputError
from judge.serve.openrlhf import (
    OpenRLHFRequest,
    split_query,
    strip_end_tokens,
    to_unit_interval,
    user_prompt,
)

# Where the assistant's turn starts, per chat format (the last match wins).
_ASSISTANT_HEADERS = (
    re.compile(r"<\|im_start\|>assistant[^\n]*\n"),                         # ChatML (Qwen)
    re.compile(r"<\|start_header_id\|>assistant<\|end_header_id\|>\s*"),    # Llama 3
    re.compile(r"<start_of_turn>model\n"),                                   # Gemma
    re.compile(r"<\|assistant\|>\n?"),                                       # Phi-3, Zephyr
    re.compile(r"\[/INST\]\s*"),                                             # Mistral / Llama 2
    re.compile(r"(?:^|\n)Assistant:\s*"),                                    # plain transcripts
)
_PLAIN_USER = re.compile(r"(?:^|\n)User:\s*(.*?)\s*(?=\nAssistant:|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Sample:
    """One sample of an OpenRLHF request, ready for the judge.

    Attributes:
        prompt: the user's prompt (chat markup removed).
        response: the generated response (end-of-turn and padding tokens removed).
        principle: from the label, or None for the reward's default.
        exact_split: whether ``prompts[i]`` was found in the query.
    """

    prompt: str
    response: str
    principle: str | None
    exact_split: bool


def split_sample(query: str, prompt: str | None) -> tuple[str, str, bool]:
    """(user prompt, response, exact) for one query.

    >>> split_sample("<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\nHello!<|im_end|>",
    ...              None)
    ('Hi', 'Hello!', False)
    """
    if prompt:
        shared = split_query(query, prompt)
        if shared.exact_split:
            return shared.prompt, shared.response, True
    cut, plain = -1, False
    for pattern in _ASSISTANT_HEADERS:
        for match in pattern.finditer(query):
            cut = max(cut, match.end())
        if cut >= 0:
            plain = pattern is _ASSISTANT_HEADERS[-1]
            break
    if cut < 0:  # no prompt found and no known header: the judge sees the whole query
        return user_prompt(prompt or ""), strip_end_tokens(query).strip(), False
    head = query[:cut]
    turns = _PLAIN_USER.findall(head) if plain else []
    asked = str(turns[-1]).strip() if turns else user_prompt(head)
    return asked, strip_end_tokens(query[cut:]).strip(), False


def parse_label(label: Any, *, labels_are_principles: bool = False
                ) -> tuple[str | None, str | None]:
    """(principle, prompt override) from one OpenRLHF label.

    >>> parse_label('{"principle": "no-sycophancy"}')
    ('no-sycophancy', None)
    >>> parse_label("42"), parse_label("Be brief.", labels_are_principles=True)
    ((None, None), ('Be brief.', None))
    """
    if label is None:
        return None, None
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
    principle, prompt = data.get("principle"), data.get("prompt")
    return (str(principle) if principle else None, str(prompt) if prompt else None)


def parse_body(body: Mapping[str, Any], *, labels_are_principles: bool = False) -> list[Sample]:
    """The samples of an OpenRLHF request body.

    Raises:
        InputError: the body does not have OpenRLHF's shape.
    """
    if not isinstance(body, Mapping):
        raise InputError("the request body must be a JSON object with 'query'")
    try:
        request = OpenRLHFRequest.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise InputError(err["msg"], field=field) from None
    samples = []
    for n, query in enumerate(request.query):
        prompt = request.prompts[n] if request.prompts is not None else None
        asked, response, exact = split_sample(query, prompt)
        label = request.labels[n] if request.labels is not None else None
        principle, prompt_override = parse_label(label,
                                                 labels_are_principles=labels_are_principles)
        samples.append(Sample(prompt=prompt_override or asked, response=response,
                              principle=request.principle or principle, exact_split=exact))
    return samples


def response_body(rewards: Sequence[float | None], scales: Sequence[tuple[float, float] | None],
                  failed: Sequence[bool], exact: Sequence[bool]) -> dict[str, Any]:
    """The answer OpenRLHF reads: rewards, the same mapped to [0, 1] as ``scores`` (for its
    dynamic filtering), and per-sample logs. A ``None`` reward stays ``null`` in both."""
    return {"rewards": [None if r is None else float(r) for r in rewards],
            "scores": [None if r is None else to_unit_interval(float(r), s)
                       for r, s in zip(rewards, scales, strict=True)],
            "extra_logs": {"judge_failed": [1.0 if f else 0.0 for f in failed],
                           "judge_exact_split": [1.0 if e else 0.0 for e in exact]}}

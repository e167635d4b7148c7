"""Constrained decoding for the transformers backend with llguidance.

A verdict grammar is the template's JSON schema, optionally preceded by a thinking block, so a
reasoning judge can still think before it answers:

* ``off``: the answer is the JSON object from the first token;
* ``optional``: ``<think>…</think>`` may come first (the model decides), then the JSON;
* ``open``: the prompt already opened ``<think>`` (some chat templates do), so the model writes
  its thoughts, must close them with ``</think>``, then the JSON.

:class:`GrammarProcessor` is a transformers ``LogitsProcessor`` holding one llguidance matcher
per batch row (None for unconstrained rows). It masks tokens the grammar forbids and forces EOS
once the grammar is complete.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any, Literal

from judge.errors import ConfigError, missing_dependency

ThinkMode = Literal["off", "optional", "open"]

#: JSON compiler options: compact JSON (no whitespace between tokens). With free whitespace a
#: weak model pads forever instead of answering; llguidance's ignore-pattern may repeat, so even
#: "at most one space" is not a bound.
JSON_OPTIONS = {"whitespace_flexible": False}


def _llguidance() -> Any:
    try:
        import llguidance
        import llguidance.hf
    except ImportError:
        raise missing_dependency("structured outputs with transformers", "llguidance",
                                 "hf") from None
    return llguidance


#: Largest id list turned into an explicit set of permutations (6! = 720 alternatives).
MAX_PERMUTATION = 6


def prepare_schema(schema: Any, max_ids: int = MAX_PERMUTATION) -> Any:
    """Tighten a verdict schema so that every schema-valid answer is also a valid verdict.

    A ranking is "k entries drawn from k ids" in JSON schema terms (``minItems == maxItems ==
    len(enum)``), which still allows repeats; engines do not implement ``uniqueItems``. For up to
    ``max_ids`` (default :data:`MAX_PERMUTATION`) ids such an array becomes an ``enum`` of all
    orderings, so a constrained judge cannot list an id twice.

    >>> prepare_schema({"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 2,
    ...                 "maxItems": 2})
    {'enum': [['a', 'b'], ['b', 'a']]}
    """
    if isinstance(schema, list):
        return [prepare_schema(s, max_ids) for s in schema]
    if not isinstance(schema, dict):
        return schema
    choices = schema.get("items", {}).get("enum") if isinstance(schema.get("items"), dict) else None
    if (isinstance(choices, list) and 1 <= len(choices) <= max_ids
            and len(set(map(json.dumps, choices))) == len(choices)
            and schema.get("minItems") == schema.get("maxItems") == len(choices)):
        return {"enum": [list(p) for p in itertools.permutations(choices)]}
    return {key: prepare_schema(value, max_ids) for key, value in schema.items()}


def verdict_lark(schema: dict[str, Any], think: ThinkMode = "off") -> str:
    """The verdict grammar in llguidance's Lark dialect (also what vLLM's guidance backend reads).

    >>> print(verdict_lark({"type": "object"}, "optional").splitlines()[0])
    start: think? verdict
    """
    body = json.dumps({**schema, "x-guidance": {**schema.get("x-guidance", {}), **JSON_OPTIONS}})
    if think == "off":
        head = "start: verdict\n"
    elif think == "optional":
        head = ('start: think? verdict\n'
                'think: thought /[ \\n]*/\n'
                'thought[lazy]: /<think>(.|\\n)*<\\/think>/\n')
    elif think == "open":
        head = ('start: think verdict\n'
                'think: thought /[ \\n]*/\n'
                'thought[lazy]: /(.|\\n)*<\\/think>/\n')
    else:
        raise ConfigError(f"unknown thinking mode '{think}' (off, optional, open)")
    return head + "verdict: %json " + body + "\n"


def verdict_grammar(schema: dict[str, Any], think: ThinkMode = "off") -> str:
    """The compiled llguidance grammar for a verdict schema (see :func:`prepare_schema`).

    >>> "%json" in verdict_grammar({"type": "object"}, "optional")
    True
    """
    ll = _llguidance()
    return str(ll.LLMatcher.grammar_from_lark(verdict_lark(prepare_schema(schema), think)))


class MatcherFactory:
    """Builds llguidance matchers for one tokenizer (the tokenizer conversion is done once)."""

    def __init__(self, tokenizer: Any, vocab_size: int, eos_ids: Sequence[int]) -> None:
        ll = _llguidance()
        self._ll = ll
        try:
            self.ll_tokenizer = ll.hf.from_tokenizer(tokenizer, n_vocab=vocab_size,
                                                     eos_token=list(eos_ids))
        except ValueError as exc:
            raise ConfigError(f"structured outputs need a fast (Rust) tokenizer: {exc}") from None
        self.vocab_size = vocab_size
        self._pristine: dict[str, Any] = {}     # grammar -> an unused matcher to copy

    def matcher(self, grammar: str) -> Any:
        """A fresh matcher for ``grammar``.

        Raises:
            ConfigError: the grammar (the template's schema) is not usable.
        """
        pristine = self._pristine.get(grammar)
        if pristine is None:
            is_error, messages = self._ll.LLMatcher.validate_grammar_with_warnings(
                grammar, self.ll_tokenizer)
            if is_error:
                raise ConfigError(f"the verdict schema cannot be compiled for constrained "
                                  f"decoding: {'; '.join(messages)}")
            pristine = self._pristine[grammar] = self._ll.LLMatcher(
                self.ll_tokenizer, grammar, log_level=0)
        return pristine.deep_copy()        # copying skips compiling the grammar again


class GrammarProcessor:
    """A ``LogitsProcessor`` constraining each batch row with its own matcher.

    Args:
        matchers: one llguidance matcher per row, or None for an unconstrained row.
        eos_ids: the end-of-sequence ids; a finished grammar may only emit these.

    Attributes:
        errors: per row, why constraining stopped early (None when it went fine).
    """

    def __init__(self, matchers: Sequence[Any | None], eos_ids: Sequence[int]) -> None:
        self.matchers = list(matchers)
        self.eos_ids = list(eos_ids)
        self.errors: list[str | None] = [None] * len(self.matchers)
        self._done = [m is None for m in self.matchers]
        self._prompt_len: int | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self._prompt_len is None:
            self._prompt_len = int(input_ids.shape[1])
        else:
            self._consume(input_ids)
        active = [i for i, done in enumerate(self._done) if not done]
        if not active:
            return scores
        words = (scores.shape[1] + 31) // 32
        bitmask = torch.full((len(self.matchers), words), -1, dtype=torch.int32)
        for i in active:
            matcher: Any = self.matchers[i]
            if matcher.is_stopped():
                bitmask[i] = 0
                for eos in self.eos_ids:
                    bitmask[i, eos // 32] |= _bit(eos % 32)
            else:
                self._ll_fill(matcher, bitmask, i)
            if not bool(bitmask[i].any()):
                self.errors[i] = "the grammar allowed no token (dead end); stopped the answer"
                for eos in self.eos_ids:
                    bitmask[i, eos // 32] |= _bit(eos % 32)
        shifts = torch.arange(32, dtype=torch.int32)
        allowed = ((bitmask.unsqueeze(-1) >> shifts) & 1).reshape(len(self.matchers), -1)
        allowed = allowed[:, :scores.shape[1]].to(scores.device).bool()
        rows = torch.tensor(active, device=scores.device)
        masked = scores.clone()
        sub = masked[rows]
        masked[rows] = sub.masked_fill(~allowed[rows], float("-inf"))
        return masked

    def _ll_fill(self, matcher: Any, bitmask: Any, row: int) -> None:
        import llguidance.torch

        llguidance.torch.fill_next_token_bitmask(matcher, bitmask, row)

    def _consume(self, input_ids: Any) -> None:
        last = input_ids[:, -1].tolist()
        for i, token in enumerate(last):
            if self._done[i]:
                continue
            if token in self.eos_ids:
                self._done[i] = True
                continue
            matcher: Any = self.matchers[i]
            if not matcher.consume_token(int(token)):
                self.errors[i] = f"the grammar rejected a token: {matcher.get_error()}"
                self._done[i] = True

    def finalize(self, sequences: Any) -> None:
        """Feed each row's last token (generate makes no call after the final step)."""
        if self._prompt_len is not None and sequences.shape[1] > self._prompt_len:
            self._consume(sequences)

    def stopped(self, row: int) -> bool:
        """Whether row ``row``'s grammar is complete and admits nothing more."""
        matcher = self.matchers[row]
        return matcher is not None and bool(matcher.is_stopped())


def _bit(n: int) -> int:
    """The int32 value with bit ``n`` set (bit 31 is the sign bit)."""
    return (1 << n) - (1 << 32) if n == 31 else 1 << n

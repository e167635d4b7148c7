"""Chat prompts for local engines: the tokenizer's own chat template, thinking, length checks.

Shared by the transformers and vLLM backends, so both see byte-identical prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from judge.backends.shared.constrain import ThinkMode
from judge.errors import ConfigError
from judge.types import ChatMessage, GenerationRequest

Thinking = Literal["auto", "on", "off"]


def normalise_thinking(value: bool | str | None) -> Thinking:
    """Accept ``true``/``false``/``on``/``off``/``auto`` for the thinking option."""
    if value is None or value == "auto":
        return "auto"
    if value is True or value in ("on", "true", "yes"):
        return "on"
    if value is False or value in ("off", "false", "no"):
        return "off"
    raise ConfigError(f"thinking must be auto, on or off, not {value!r}")


@dataclass
class PromptPlan:
    """One request made ready for a local engine."""

    ids: list[int]
    think: ThinkMode
    max_new_tokens: int
    error: str | None = None
    flags: list[str] = field(default_factory=list)


class ChatRenderer:
    """Renders requests with a tokenizer's chat template and checks them against the context.

    Args:
        tokenizer: a Hugging Face tokenizer with a chat template.
        thinking: ``auto`` leaves the template's default; ``on``/``off`` pass
            ``enable_thinking`` to the template (Qwen3 style) and decide whether a structured
            answer may start with a ``<think>`` block. In ``auto`` mode thinking is allowed
            when the template mentions ``<think>``.
        context_length: prompt plus answer must fit in this many tokens.
        template_kwargs: extra keyword arguments for ``apply_chat_template``.
    """

    def __init__(self, tokenizer: Any, *, thinking: Thinking = "auto", context_length: int,
                 template_kwargs: dict[str, Any] | None = None) -> None:
        template = getattr(tokenizer, "chat_template", None)
        if not template:
            raise ConfigError("the model's tokenizer has no chat template; use an instruct/chat "
                              "model or set tokenizer.chat_template")
        source = template if isinstance(template, str) else " ".join(map(str, template.values()))
        self.tokenizer = tokenizer
        self.thinking = thinking
        self.thinking_allowed = (thinking == "on" or
                                 (thinking == "auto" and "<think>" in source))
        self.context_length = context_length
        self.kwargs = dict(template_kwargs or {})
        if thinking != "auto":
            self.kwargs.setdefault("enable_thinking", thinking == "on")

    def render(self, messages: Sequence[ChatMessage]) -> tuple[str, list[str]]:
        """The prompt text (generation prompt included) and flags about how it was built."""
        turns = [{"role": m.role, "content": m.content} for m in messages]
        try:
            return self._apply(turns), []
        except Exception as exc:  # noqa: BLE001 - templates raise their own jinja errors
            if not turns or turns[0]["role"] != "system" or len(turns) < 2:
                raise ConfigError(f"the chat template failed: {exc}") from None
            merged = [{"role": turns[1]["role"],
                       "content": turns[0]["content"] + "\n\n" + turns[1]["content"]},
                      *turns[2:]]
            try:
                return self._apply(merged), ["system_merged_into_user"]
            except Exception:  # noqa: BLE001
                raise ConfigError(f"the chat template failed: {exc}") from None

    def _apply(self, turns: list[dict[str, str]]) -> str:
        text = self.tokenizer.apply_chat_template(turns, add_generation_prompt=True,
                                                  tokenize=False, **self.kwargs)
        return str(text)

    def think_mode(self, prompt: str) -> ThinkMode:
        """How a structured answer may begin after this prompt."""
        if not self.thinking_allowed:
            return "off"
        tail = prompt.rstrip()
        if tail.endswith("</think>"):
            return "off"      # the template closed an empty thought (thinking switched off)
        if tail.endswith("<think>"):
            return "open"     # the template opened the thought for the model
        return "optional"

    def plan(self, request: GenerationRequest) -> PromptPlan:
        """Tokenize a request and fit its answer budget into the context.

        A prompt that does not fit is never cut: the plan carries an error instead. An answer
        budget that would overflow the context is lowered to what fits (a verdict cut there is
        reported with ``finish_reason="length"``).
        """
        text, flags = self.render(request.messages)
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        room = self.context_length - len(ids)
        max_new = request.sampling.max_tokens
        if room < 1:
            return PromptPlan(ids, "off", 0, error=(
                f"the prompt has {len(ids)} tokens but the model's context is "
                f"{self.context_length}; the prompt is never truncated, so shorten the "
                "responses or use a model with a longer context"), flags=flags)
        if max_new > room:
            flags.append("max_tokens_clamped_to_context")
            max_new = room
        return PromptPlan(ids, self.think_mode(text), max_new, flags=flags)


def eos_token_ids(tokenizer: Any, generation_config: Any | None) -> list[int]:
    """All end-of-sequence ids from the generation config and the tokenizer."""
    ids: list[int] = []
    configured = getattr(generation_config, "eos_token_id", None) if generation_config else None
    for value in (configured, getattr(tokenizer, "eos_token_id", None)):
        if value is None:
            continue
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            if int(v) not in ids:
                ids.append(int(v))
    if not ids:
        raise ConfigError("the model defines no end-of-sequence token (eos_token_id)")
    return ids


def context_length_of(config: Any, tokenizer: Any) -> int:
    """The model's context window from its config (or the tokenizer's limit)."""
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for name in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        value = getattr(text_config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 10**7:
        return limit
    raise ConfigError("cannot tell the model's context length; pass -B context_length=N")

"""The vLLM backend: vLLM's offline engine in this process (``--backend vllm:PATH``).

Prompts are rendered with the model's chat template by the same code as the transformers
backend (:class:`judge.backends.shared.chat.ChatRenderer`), checked against ``max_model_len`` (a prompt
that does not fit becomes that item's error instead of failing the batch) and sent to
``LLM.generate`` as token ids in one batch. Prefix caching is on, and the judge templates put
principle and prompt before the candidates, so permutations of one item share their prefix.

Structured verdicts use vLLM's ``structured_outputs`` with the ``guidance`` (llguidance) backend
by default, the engine the transformers backend uses too, and compact JSON: a JSON schema when
the judge answers directly; when the model may think first, the Lark grammar of
:mod:`judge.backends.shared.constrain` (thinking block, then the JSON). With ``reasoning_parser`` set,
vLLM itself starts the constraint after the thinking.

Options (``-B KEY=VALUE``): ``tensor_parallel_size``, ``dtype``, ``max_model_len``,
``gpu_memory_utilization``, ``enable_prefix_caching`` (true), ``seed`` (0), ``thinking``
(auto|on|off), ``structured_backend`` (guidance|xgrammar|auto), ``compact_json`` (true:
no free whitespace inside a constrained verdict), ``reasoning_parser``,
``trust_remote_code``, ``enforce_eager``, ``engine_kwargs`` (JSON object of other ``LLM`` args).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from judge.backends.shared.chat import ChatRenderer, PromptPlan, normalise_thinking
from judge.backends.shared.constrain import prepare_schema, verdict_lark
from judge.backends.shared.options import (
    BackendOptions,
    json_object_option,
    make_generation,
    parse_options,
)
from judge.backends.shared.tokens import token_pieces
from judge.errors import ConfigError, missing_dependency
from judge.types import Generation, GenerationRequest, Sampling, TokenLogprob, Usage

#: vLLM reports tokens masked by a grammar with this logprob.
_FORBIDDEN = -9999.0


class VLLMOptions(BackendOptions):
    """Options of the vLLM backend."""

    tensor_parallel_size: int = Field(1, ge=1)
    dtype: str = "auto"
    max_model_len: int | None = Field(None, ge=2)
    gpu_memory_utilization: float | None = Field(None, gt=0, le=1)
    enable_prefix_caching: bool = True
    seed: int = 0
    thinking: bool | Literal["auto", "on", "off"] = "auto"
    structured_backend: Literal["guidance", "xgrammar", "auto"] = "guidance"
    compact_json: bool = True
    """Constrained JSON without free whitespace (a weak model can otherwise pad forever)."""
    reasoning_parser: str | None = None
    trust_remote_code: bool = False
    enforce_eager: bool = False
    engine_kwargs: dict[str, Any] = Field(default_factory=dict)

    _json_object = field_validator("engine_kwargs", mode="before")(json_object_option)


def _vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise missing_dependency("vLLM backend", "vllm", "vllm") from None
    return vllm


def _template_mentions_think(model: str) -> bool:
    """Whether a local model's chat template knows ``<think>`` (read before the engine starts)."""
    folder = Path(model)
    if not folder.is_dir():
        return False
    for name in ("chat_template.jinja", "chat_template.json", "tokenizer_config.json"):
        path = folder / name
        if path.is_file() and "<think>" in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def create(target: str, **options: Any) -> VLLMBackend:
    """Factory for ``vllm:PATH``."""
    if not target:
        raise ConfigError("vllm backend needs a model: --backend vllm:PATH")
    opts = parse_options(VLLMOptions, "vllm", options)
    return VLLMBackend(target, opts)


class VLLMBackend:
    """vLLM's offline engine behind the :class:`~judge.backends.base.TextBackend` protocol.

    Args:
        model: a model folder or hub id.
        options: validated :class:`VLLMOptions`.
    """

    supports_structured = True
    supports_logprobs = True

    def __init__(self, model: str, options: VLLMOptions | None = None) -> None:
        vllm = _vllm()
        self.options = opts = options or VLLMOptions()
        self.name = f"vllm:{model}"
        self.model = model
        thinking = normalise_thinking(opts.thinking)
        backend = opts.structured_backend
        structured_config: dict[str, Any] = {}
        if opts.reasoning_parser:
            structured_config["reasoning_parser"] = opts.reasoning_parser
        kwargs: dict[str, Any] = {
            "model": model, "tensor_parallel_size": opts.tensor_parallel_size,
            "dtype": opts.dtype, "seed": opts.seed, "trust_remote_code": opts.trust_remote_code,
            "enable_prefix_caching": opts.enable_prefix_caching,
            "enforce_eager": opts.enforce_eager,
        }
        if opts.max_model_len:
            kwargs["max_model_len"] = opts.max_model_len
        if opts.gpu_memory_utilization:
            kwargs["gpu_memory_utilization"] = opts.gpu_memory_utilization
        kwargs.update(opts.engine_kwargs)
        # Thinking before a constrained answer needs the Lark grammar, which only the guidance
        # (llguidance) backend reads; a reasoning parser makes vLLM handle thinking itself.
        may_think = thinking == "on" or (thinking == "auto" and _template_mentions_think(model))
        self._lark = may_think and not opts.reasoning_parser and backend == "guidance"
        if backend != "auto":
            # vLLM reads the whitespace switch per engine, and only for an explicit backend.
            structured_config["backend"] = backend
            structured_config["disable_any_whitespace"] = opts.compact_json
        if structured_config:
            kwargs["structured_outputs_config"] = structured_config
        self._vllm = vllm
        self.llm = vllm.LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.renderer = ChatRenderer(self.tokenizer, thinking=thinking,
                                     context_length=self._context_length())
        self._closed = False

    def _context_length(self) -> int:
        config = getattr(self.llm, "model_config", None)
        length = getattr(config, "max_model_len", None) or self.options.max_model_len
        if not isinstance(length, int):
            raise ConfigError("cannot tell vLLM's max_model_len; pass -B max_model_len=N")
        return length  # a prompt of exactly this length is refused by plan() (no answer room)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Complete every request in one engine call; same length and order as ``requests``."""
        results: list[Generation | None] = [None] * len(requests)
        batch: list[tuple[int, PromptPlan]] = []
        for i, req in enumerate(requests):
            plan = self.renderer.plan(req)
            if plan.error:
                results[i] = make_generation(error=plan.error, flags=plan.flags)
            else:
                batch.append((i, plan))
        if batch:
            prompts = [{"prompt_token_ids": plan.ids} for _, plan in batch]
            params = [self._sampling_params(requests[i], plan) for i, plan in batch]
            started = time.perf_counter()
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
            latency = time.perf_counter() - started
            if len(outputs) != len(batch):
                raise ConfigError(f"vLLM returned {len(outputs)} outputs for {len(batch)} prompts")
            for (i, plan), output in zip(batch, outputs, strict=True):
                results[i] = self._to_generation(output, plan, requests[i], latency)
        return [r if r is not None else Generation(error="internal: no result") for r in results]

    def _sampling_params(self, request: GenerationRequest, plan: PromptPlan) -> Any:
        s: Sampling = request.sampling
        kwargs: dict[str, Any] = {
            "temperature": s.temperature, "top_p": s.top_p, "max_tokens": plan.max_new_tokens,
            "skip_special_tokens": False,
        }
        if s.temperature > 0 and s.seed is not None:
            kwargs["seed"] = s.seed
        if s.top_logprobs > 0:
            kwargs["logprobs"] = s.top_logprobs
        if request.json_schema is not None:
            from vllm.sampling_params import StructuredOutputsParams

            schema = prepare_schema(request.json_schema)
            if self._lark and plan.think != "off":
                kwargs["structured_outputs"] = StructuredOutputsParams(
                    grammar=verdict_lark(schema, plan.think))
            else:
                kwargs["structured_outputs"] = StructuredOutputsParams(json=schema)
        return self._vllm.SamplingParams(**kwargs)

    def _to_generation(self, output: Any, plan: PromptPlan, request: GenerationRequest,
                       latency: float) -> Generation:
        flags = list(plan.flags)
        if request.json_schema is not None:
            flags.append("constrained" if plan.think == "off" or not self._lark
                         else "constrained_after_thinking")
        if not output.outputs:
            return make_generation(error="vLLM returned no completion", flags=flags)
        completion = output.outputs[0]
        ids = [int(t) for t in completion.token_ids]
        eos = self.renderer.tokenizer.eos_token_id
        if completion.finish_reason == "stop" and ids and ids[-1] == eos:
            ids = ids[:-1]
        text = str(completion.text)
        logprobs = None
        if request.sampling.top_logprobs > 0 and completion.logprobs is not None:
            logprobs = self._logprobs(ids, text, completion.logprobs)
        return make_generation(
            text=text, finish_reason=completion.finish_reason, logprobs=logprobs,
            latency_s=latency, flags=flags,
            usage=Usage(prompt_tokens=len(plan.ids),
                        completion_tokens=len(completion.token_ids)))

    def _logprobs(self, ids: list[int], text: str, steps: Any) -> list[TokenLogprob] | None:
        def decode(tokens: list[int]) -> str:
            return str(self.tokenizer.decode(tokens, skip_special_tokens=False))

        pieces = token_pieces(decode, ids, text)
        if pieces is None:
            return None
        out = []
        for token, piece, step in zip(ids, pieces, steps, strict=False):
            top: dict[str, float] = {}
            chosen = None
            for alt, entry in sorted(step.items(), key=lambda kv: -kv[1].logprob):
                if int(alt) != token and not entry.logprob > _FORBIDDEN:
                    continue   # a token the grammar masked out
                alt_text = entry.decoded_token if entry.decoded_token is not None \
                    else decode([int(alt)])
                top.setdefault(alt_text, float(entry.logprob))
                if int(alt) == token:
                    chosen = float(entry.logprob)
            if chosen is None:
                return None
            out.append(TokenLogprob(token=piece, logprob=chosen, top=top))
        return out if len(out) == len(ids) else None

    def close(self) -> None:
        """Drop the engine (idempotent)."""
        if not self._closed:
            self._closed = True
            self.llm = None

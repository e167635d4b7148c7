"""The transformers backend: a local causal LM with batched ``generate``.

``--backend transformers:PATH`` loads any local causal LM with its own chat template (a folder, or
a ``.gguf`` file, converted once to a cached folder by :mod:`judge.backends.shared.gguf_convert`).
Requests are grouped by answer budget, sorted by prompt length and packed into batches under a
row cap and a token budget (:mod:`judge.backends.hf.batching`); the tokens a batch's prompts share are
computed once and the key/value cache is allocated once (:mod:`judge.backends.hf.kvcache`).
Greedy decoding is the default (batched results equal one-at-a-time results); sampling is
seeded per request (see :mod:`judge.backends.shared.sampling`). With a JSON schema on the
request the answer is constrained by llguidance (:mod:`judge.backends.shared.constrain`).
Logprobs are the model's next-token distribution before temperature, renormalised over the
tokens the grammar allows at that step when the answer is constrained (as vLLM reports them), so
at a score position the top alternatives are the valid scores.

Options (``-B KEY=VALUE``): ``device`` (auto|cpu|cuda|cuda:N|mps), ``dtype``
(auto|float32|bfloat16|float16), ``batch_size`` (rows per batch, 64), ``batch_tokens`` (cache
slots per batch, rows x (longest prompt + answer budget), 65536), ``kv_cache``
(auto|static|dynamic), ``share_prefix`` (true), ``thinking`` (auto|on|off),
``context_length`` (default: the model's), ``trust_remote_code``, ``attn_implementation``,
``device_map`` (e.g. auto, for a model split over GPUs).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from judge.backends.hf.batching import plan_batches, shared_prefix
from judge.backends.hf.kvcache import BatchCache, CacheKind
from judge.backends.shared.chat import (
    ChatRenderer,
    PromptPlan,
    context_length_of,
    eos_token_ids,
    normalise_thinking,
)
from judge.backends.shared.gguf_convert import converted_folder, is_gguf
from judge.backends.shared.logprobs import LogprobRecorder
from judge.backends.shared.options import (
    BackendOptions,
    make_generation,
    parse_options,
    require_device,
)
from judge.backends.shared.quiet import quiet_loading
from judge.backends.shared.tokens import token_pieces
from judge.errors import ConfigError, missing_dependency
from judge.types import Generation, GenerationRequest, TokenLogprob, Usage

log = logging.getLogger(__name__)


class HFOptions(BackendOptions):
    """Options of the transformers backend."""

    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    batch_size: int = Field(64, ge=1)
    batch_tokens: int = Field(65536, ge=1)
    kv_cache: CacheKind = "auto"
    share_prefix: bool = True
    thinking: bool | Literal["auto", "on", "off"] = "auto"
    context_length: int | None = Field(None, ge=2)
    trust_remote_code: bool = False
    attn_implementation: str | None = None
    device_map: str | None = None


def create(target: str, **options: Any) -> HFBackend:
    """Factory for ``transformers:PATH``."""
    if not target:
        raise ConfigError("transformers backend needs a model: --backend transformers:PATH")
    return HFBackend.load(target, **options)


def _torch_and_transformers() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError:
        raise missing_dependency("transformers backend", "transformers", "hf") from None
    return torch, transformers


class HFBackend:
    """A local causal LM behind the :class:`~judge.backends.base.TextBackend` protocol.

    Args:
        model: a loaded causal LM (``AutoModelForCausalLM``).
        tokenizer: its tokenizer (must have a chat template).
        name: the spec recorded in provenance.
        model_id: the model's path or hub id.
        batch_size: most rows per ``generate`` call.
        batch_tokens: most cache slots per call, counted as rows x (longest prompt + answer
            budget).
        kv_cache: ``static``, ``dynamic`` or ``auto`` (see :class:`~judge.backends.hf.kvcache.BatchCache`).
        share_prefix: run the opening every prompt of a batch shares once.
        thinking: ``auto``, ``on`` or ``off``
            (see :class:`judge.backends.shared.chat.ChatRenderer`).
        context_length: overrides the model's context window.
    """

    supports_logprobs = True

    def __init__(self, model: Any, tokenizer: Any, *, name: str = "transformers",
                 model_id: str | None = None, batch_size: int = 64, batch_tokens: int = 65536,
                 kv_cache: CacheKind = "auto", share_prefix: bool = True,
                 thinking: bool | str = "auto", context_length: int | None = None) -> None:
        self.name = name
        self.model = model_id
        self.engine = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.cache = BatchCache(model, kind=kv_cache, share_prefix=share_prefix)
        self.eos_ids = eos_token_ids(tokenizer, getattr(model, "generation_config", None))
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad) if pad is not None else self.eos_ids[0]
        self.renderer = ChatRenderer(
            tokenizer, thinking=normalise_thinking(thinking),
            context_length=context_length or context_length_of(model.config, tokenizer))
        self._matchers: Any = None
        self._grammars: dict[tuple[str, str], str] = {}
        self._texts: dict[int, str] = {}
        self._closed = False
        try:
            import llguidance  # noqa: F401
            self.supports_structured = True
        except ImportError:
            self.supports_structured = False

    @classmethod
    def load(cls, path: str, **options: Any) -> HFBackend:
        """Load a model directory (or hub id) with validated options."""
        opts = parse_options(HFOptions, "transformers", options)
        torch, transformers = _torch_and_transformers()
        device = opts.device
        require_device(device, "transformers")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype: Any = opts.dtype
        if dtype == "auto":
            dtype = torch.float32 if str(device).startswith("cpu") else "auto"
        else:
            dtype = getattr(torch, dtype)
        kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": opts.trust_remote_code}
        if opts.attn_implementation:
            kwargs["attn_implementation"] = opts.attn_implementation
        if opts.device_map:
            kwargs["device_map"] = opts.device_map
        folder = path
        if is_gguf(path):
            folder = str(converted_folder(path))
        elif not Path(path).exists() and path.startswith((".", "/", "~")):
            raise ConfigError(f"transformers backend: model folder '{path}' does not exist")
        try:
            with quiet_loading():
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    folder, trust_remote_code=opts.trust_remote_code)
                model = transformers.AutoModelForCausalLM.from_pretrained(folder, **kwargs)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"transformers backend: cannot load '{path}': {exc}") from None
        if not opts.device_map:
            model = model.to(device)
        model.eval()
        return cls(model, tokenizer, name=f"transformers:{path}", model_id=path,
                   batch_size=opts.batch_size, batch_tokens=opts.batch_tokens,
                   kv_cache=opts.kv_cache, share_prefix=opts.share_prefix, thinking=opts.thinking,
                   context_length=opts.context_length)

    # ------------------------------------------------------------------ generation
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Complete every request; same length and order as ``requests``."""
        results: list[Generation | None] = [None] * len(requests)
        groups: dict[int, list[tuple[int, PromptPlan]]] = defaultdict(list)
        for i, req in enumerate(requests):
            plan = self.renderer.plan(req)
            if plan.error:
                results[i] = make_generation(error=plan.error, flags=plan.flags)
            else:
                groups[plan.max_new_tokens].append((i, plan))
        try:
            for max_new, members in groups.items():
                batches = plan_batches([len(p.ids) for _, p in members], max_new,
                                       max_rows=self.batch_size, max_tokens=self.batch_tokens)
                for batch in batches:
                    chunk = [members[n] for n in batch]
                    for (i, _), gen in zip(chunk, self._run_safely(chunk, requests, max_new),
                                           strict=True):
                        results[i] = gen
        finally:
            self.cache.clear()
        return [r if r is not None else Generation(error="internal: no result") for r in results]

    def _run_safely(self, chunk: list[tuple[int, PromptPlan]],
                    requests: Sequence[GenerationRequest], max_new: int) -> list[Generation]:
        """Run a batch; on an engine error (e.g. out of memory) retry it as two halves, down to
        single items."""
        try:
            return self._run_batch(chunk, requests, max_new)
        except (RuntimeError, ValueError) as exc:
            if len(chunk) == 1:
                log.warning("generation failed: %s", exc)
                return [Generation(error=f"transformers generate failed: {exc}")]
            log.warning("batch of %d failed (%s); retrying in halves", len(chunk), exc)
            self.cache.clear()
            half = (len(chunk) + 1) // 2
            return (self._run_safely(chunk[:half], requests, max_new)
                    + self._run_safely(chunk[half:], requests, max_new))

    def _run_batch(self, chunk: list[tuple[int, PromptPlan]],
                   requests: Sequence[GenerationRequest], max_new: int) -> list[Generation]:
        torch, transformers = _torch_and_transformers()
        device = self.engine.device
        width = max(len(p.ids) for _, p in chunk)
        shared = self.cache.prefix_length(shared_prefix([p.ids for _, p in chunk])
                                          if len(chunk) > 1 else 0)
        # rows: shared prefix | left padding | the row's own tokens (the mask hides the padding)
        input_ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (_, plan) in enumerate(chunk):
            own = len(plan.ids) - shared
            input_ids[row, :shared] = torch.tensor(plan.ids[:shared])
            input_ids[row, width - own:] = torch.tensor(plan.ids[shared:])
            attention[row, :shared] = 1
            attention[row, width - own:] = 1
        settings = [requests[i].sampling for i, _ in chunk]
        processors: list[Any] = []
        grammar = self._grammar_processor(chunk, requests)
        if grammar is not None:
            processors.append(grammar)
        recorder = None
        if any(s.top_logprobs > 0 for s in settings):
            # after the grammar, before temperature: the model's distribution over what the
            # grammar allows at each step (what vLLM reports under structured outputs too)
            recorder = LogprobRecorder([s.top_logprobs for s in settings])
            processors.append(recorder)
        if any(s.temperature > 0 for s in settings):
            from judge.backends.shared.sampling import RowSampler

            processors.append(RowSampler(settings, device))
        config = transformers.GenerationConfig(
            max_new_tokens=max_new, do_sample=False, num_beams=1, temperature=1.0, top_p=1.0,
            repetition_penalty=1.0, eos_token_id=self.eos_ids, pad_token_id=self.pad_id,
            return_dict_in_generate=True, disable_compile=True,   # shapes change every batch
        )
        started = time.perf_counter()
        with torch.inference_mode():
            cache = self.cache.build(chunk[0][1].ids[:shared], len(chunk), width + max_new)
            extra = {} if cache is None else {self.cache.arg: cache}
            out = self.engine.generate(
                input_ids=input_ids.to(device), attention_mask=attention.to(device),
                generation_config=config,
                logits_processor=transformers.LogitsProcessorList(processors), **extra)
        latency = time.perf_counter() - started
        for processor in (grammar, recorder):
            if processor is not None:
                processor.finalize(out.sequences)
        new_tokens = out.sequences[:, width:].tolist()
        gens = []
        for row, (i, plan) in enumerate(chunk):
            gens.append(self._finish(row, plan, new_tokens[row], settings[row], recorder,
                                     grammar, requests[i].json_schema is not None, latency))
        return gens

    def _grammar_processor(self, chunk: list[tuple[int, PromptPlan]],
                           requests: Sequence[GenerationRequest]) -> Any | None:
        if all(requests[i].json_schema is None for i, _ in chunk):
            return None
        from judge.backends.shared.constrain import (
            GrammarProcessor,
            MatcherFactory,
            verdict_grammar,
        )

        if self._matchers is None:
            self._matchers = MatcherFactory(self.tokenizer, self._vocab_size(), self.eos_ids)
        matchers: list[Any] = []
        for i, plan in chunk:
            schema = requests[i].json_schema
            if schema is None:
                matchers.append(None)
                continue
            key = (json.dumps(schema, sort_keys=True), plan.think)
            if key not in self._grammars:
                self._grammars[key] = verdict_grammar(schema, plan.think)
            matchers.append(self._matchers.matcher(self._grammars[key]))
        return GrammarProcessor(matchers, self.eos_ids)

    def _vocab_size(self) -> int:
        emb = self.engine.get_output_embeddings()
        if emb is not None and hasattr(emb, "weight"):
            return int(emb.weight.shape[0])
        return int(self.engine.config.get_text_config().vocab_size)

    def _finish(self, row: int, plan: PromptPlan, tokens: list[int], sampling: Any,
                recorder: LogprobRecorder | None, grammar: Any | None, structured: bool,
                latency: float) -> Generation:
        flags = list(plan.flags)
        stop = next((n for n, t in enumerate(tokens) if t in self.eos_ids), None)
        ids = tokens if stop is None else tokens[:stop]
        finish = "length" if stop is None else "stop"
        text = self._decode(ids)
        if structured and grammar is not None:
            flags.append("constrained" if plan.think == "off" else "constrained_after_thinking")
            if stop is None and grammar.stopped(row):
                finish = "stop"  # the answer completed on the last allowed token
            if grammar.errors[row]:
                flags.append("constraint_failed")
                log.warning("constrained decoding: %s", grammar.errors[row])
        logprobs = None
        if sampling.top_logprobs > 0 and recorder is not None:
            logprobs = self._logprobs(ids, text, recorder.row(row, len(ids)))
        return make_generation(
            text=text, finish_reason=finish, logprobs=logprobs, latency_s=latency, flags=flags,
            usage=Usage(prompt_tokens=len(plan.ids), completion_tokens=len(ids) + (stop is not None)),
        )

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=False,
                                         clean_up_tokenization_spaces=False))

    def _token_text(self, token: int) -> str:
        text = self._texts.get(token)
        if text is None:
            text = self._texts[token] = self._decode([token])
        return text

    def _logprobs(self, ids: list[int], text: str,
                  steps: list[tuple[float, list[int], list[float]]] | None
                  ) -> list[TokenLogprob] | None:
        if steps is None:
            return None
        pieces = token_pieces(self._decode, ids, text) if ids else []
        if pieces is None:
            return None
        out = []
        for token, piece, (chosen, top_ids, top_values) in zip(ids, pieces, steps, strict=True):
            top: dict[str, float] = {}
            for alt, value in zip(top_ids, top_values, strict=True):
                if math.isfinite(value):          # tokens the grammar forbids are left out
                    top.setdefault(self._token_text(int(alt)), float(value))
            top.setdefault(self._token_text(token), chosen)
            out.append(TokenLogprob(token=piece, logprob=chosen, top=top))
        return out

    def close(self) -> None:
        """Drop the model (idempotent)."""
        if not self._closed:
            self._closed = True
            self.cache.clear()
            self.engine = None
            self.cache.engine = None

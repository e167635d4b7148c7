"""The key/value cache a batch's ``generate`` starts from.

Two savings, both exact in arithmetic (greedy texts stay those of one-at-a-time generation):

- **shared prefix**: the tokens every row of a batch opens with (a judge's system prompt and
  principle, often 90 % of the prompt) are run through the model once, on one row, and their
  keys and values are copied into every row's cache; ``generate`` then only reads each row's
  own tail. The last prefix is kept, so the next batch with the same opening reuses it.
- **static slots**: with ``kind="static"`` the cache is allocated once at its final size
  (prompt + answer budget) instead of growing by a copy at every step.

Rows are laid out ``prefix | padding | own tokens``; the attention mask hides the padding and
``generate`` numbers positions from the mask, so each row sees exactly its own prompt.
Models whose cache is not one plain attention layer per block (sliding windows, linear
attention, hybrids), or whose generation config names a cache of its own, get neither saving: :meth:`BatchCache.build` returns ``None`` and
``generate`` makes its own cache.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

CacheKind = Literal["auto", "static", "dynamic"]


class BatchCache:
    """Builds per-batch caches for one model.

    Args:
        engine: the loaded causal LM.
        kind: ``static`` (allocated once), ``dynamic`` (grows per step) or ``auto`` (static
            where the model declares its forward compilable, which is what a static cache needs).
        share_prefix: compute a batch's common opening once.
        min_prefix: shorter common openings are not worth a separate forward pass.
    """

    def __init__(self, engine: Any, *, kind: CacheKind = "auto", share_prefix: bool = True,
                 min_prefix: int = 16) -> None:
        self.engine = engine
        if kind == "auto":
            kind = "static" if getattr(engine, "_can_compile_fullgraph", False) else "dynamic"
        self.kind = kind
        self.share_prefix = share_prefix
        self.min_prefix = min_prefix
        params = inspect.signature(engine.forward).parameters
        # transformers renamed ``past_key_values`` to ``cache`` during 5.x
        self.arg = "cache" if "cache" in params else "past_key_values"
        self._logits_arg = "logits_to_keep" in params
        self._plain: bool | None = None
        self._memo: tuple[tuple[int, ...], list[tuple[Any, Any]]] | None = None

    def prefix_length(self, common: int) -> int:
        """How much of a ``common`` opening to share (0: none)."""
        if not self.share_prefix or common < self.min_prefix or not self._usable():
            return 0
        return common

    def build(self, prefix: list[int], rows: int, max_len: int) -> Any | None:
        """A cache holding ``prefix`` in each of ``rows`` rows with room for ``max_len`` tokens,
        or ``None`` when ``generate`` should make its own."""
        if not self._usable():
            return None
        if not prefix and self.kind == "dynamic":
            return None
        cache = self._new(max_len)
        if prefix:
            for layer, (keys, values) in enumerate(self._prefix_states(prefix)):
                cache.update(keys.expand(rows, -1, -1, -1), values.expand(rows, -1, -1, -1), layer)
        return cache

    def clear(self) -> None:
        """Forget the remembered prefix (its memory)."""
        self._memo = None

    # ------------------------------------------------------------------ internals
    def _new(self, max_len: int) -> Any:
        import transformers

        config = self.engine.config
        if self.kind == "static":
            return transformers.StaticCache(config=config, max_cache_len=max_len)
        return transformers.DynamicCache(config=config)

    def _usable(self) -> bool:
        if self._plain is None:
            import transformers
            from transformers.cache_utils import DynamicLayer, StaticLayer

            config = self.engine.config
            declared = getattr(getattr(self.engine, "generation_config", None),
                               "cache_implementation", None)
            if declared is not None:            # the model asks generate for its own cache
                self._plain = False
                return False
            dynamic = transformers.DynamicCache(config=config)
            static = transformers.StaticCache(config=config, max_cache_len=8)
            self._plain = (bool(dynamic.layers) and len(dynamic.layers) == len(static.layers)
                           and all(type(x) is DynamicLayer for x in dynamic.layers)
                           and all(type(x) is StaticLayer for x in static.layers))
        return self._plain

    def _prefix_states(self, prefix: list[int]) -> list[tuple[Any, Any]]:
        """Per layer (keys, values) of ``prefix`` on one row, reusing the last prefix computed."""
        key = tuple(prefix)
        if self._memo is not None:
            known, states = self._memo
            if len(known) >= len(key) and known[:len(key)] == key:
                n = len(key)
                return [(k[:, :, :n], v[:, :, :n]) for k, v in states]
        import torch
        import transformers

        cache: Any = transformers.DynamicCache(config=self.engine.config)
        kwargs: dict[str, Any] = {self.arg: cache, "use_cache": True}
        if self._logits_arg:
            kwargs["logits_to_keep"] = 1
        ids = torch.tensor([prefix], dtype=torch.long, device=self.engine.device)
        with torch.inference_mode():
            self.engine(input_ids=ids, **kwargs)
        states = [(layer.keys, layer.values) for layer in cache.layers]
        self._memo = (key, states)
        return states

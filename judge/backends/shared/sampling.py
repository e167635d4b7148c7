"""Per-row seeded sampling as a transformers ``LogitsProcessor``.

``generate`` draws from one global RNG for the whole batch, so a row's sample would depend on
which other rows share its batch. Here each row has its own ``torch.Generator`` seeded from its
request: the processor samples the row's token itself and leaves only that token finite, and
``generate`` runs greedy. A request's output therefore depends only on its prompt, its
sampling settings and its seed. Greedy rows (temperature 0) are left untouched.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from judge.types import Sampling


class RowSampler:
    """Samples each row with its own temperature, top-p and seed."""

    def __init__(self, settings: Sequence[Sampling], device: Any) -> None:
        import torch

        self.settings = list(settings)
        self.generators: list[Any | None] = []
        for s in self.settings:
            if s.temperature > 0:
                seed = s.seed if s.seed is not None else secrets.randbits(63)
                gen = torch.Generator(device=device)
                gen.manual_seed(int(seed))
                self.generators.append(gen)
            else:
                self.generators.append(None)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        out = scores
        for row, (s, gen) in enumerate(zip(self.settings, self.generators, strict=True)):
            if gen is None:
                continue
            logits = scores[row].float() / s.temperature
            probs = torch.softmax(logits, dim=-1)
            if s.top_p < 1.0:
                probs = _top_p(probs, s.top_p)
            if not bool(torch.isfinite(probs).all()) or float(probs.sum()) <= 0:
                continue  # every token masked: leave the row to greedy (the grammar handles it)
            token = int(torch.multinomial(probs, 1, generator=gen))
            if out is scores:
                out = scores.clone()
            out[row].fill_(float("-inf"))
            out[row, token] = 0.0
        return out


def _top_p(probs: Any, top_p: float) -> Any:
    """Keep the smallest set of most likely tokens whose mass reaches ``top_p``."""
    import torch

    sorted_probs, order = torch.sort(probs, descending=True)
    cumulative = torch.cumsum(sorted_probs, dim=-1)
    drop = cumulative - sorted_probs >= top_p
    sorted_probs = sorted_probs.masked_fill(drop, 0.0)
    kept = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return kept / kept.sum()

"""Progress for `judge distill fit`: texts embedded, then epochs trained."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judge.cli.progress import NoProgress, Progress

#: Texts per call to the wrapped embedder: the embedding cache's own batch, so runs through the
#: cache embed exactly as before.
CHUNK = 512


class CountingEmbedder:
    """Wraps an embedder: embeds in chunks of :data:`CHUNK` and counts each chunk on ``bar``.

    Everything else (``info``, options) is the wrapped embedder's.
    """

    def __init__(self, inner: Any, bar: Progress | None = None) -> None:
        self._inner = inner
        self.bar: Progress = bar if bar is not None else NoProgress()
        self.info = inner.info

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def embed(self, texts: Sequence[str]) -> Any:
        """The wrapped embedder's vectors for ``texts``."""
        import numpy as np

        if len(texts) <= CHUNK:
            vectors = self._inner.embed(texts)
            self.bar.update(len(texts))
            return vectors
        parts = []
        for start in range(0, len(texts), CHUNK):
            part = texts[start:start + CHUNK]
            parts.append(self._inner.embed(part))
            self.bar.update(len(part))
        return np.concatenate(parts)


def texts_to_embed(items: Sequence[Any], config: Any, cache: Any = None) -> int:
    """How many texts ``fit_head(items, ..., config)`` will send to the embedder: each split's
    distinct principles, prompts and responses, less what the embedding cache already holds."""
    from judge.distill.cache import text_key
    from judge.distill.labels import split_items

    split = split_items(items, test_fraction=config.test_fraction, seed=config.split_seed)
    parts = [part for part in split if part]
    per_part = [list(dict.fromkeys([it.principle for it in part] + [it.prompt for it in part]
                                   + [r for it in part for r in it.responses]))
                for part in parts]
    if cache is None:
        return sum(len(texts) for texts in per_part)
    keys = list(dict.fromkeys(text_key(t) for texts in per_part for t in texts))
    return len(keys) - len(cache.get_many(keys))

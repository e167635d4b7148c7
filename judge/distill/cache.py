"""An on-disk embedding cache keyed by text content hash and embedder, so retraining never
re-embeds.

One SQLite file per embedder (named by :meth:`EmbedderInfo.cache_key`, which covers the model,
its revision and the input format) maps ``sha256(text)`` to the raw float32 bytes of the vector.
Nothing is pickled. The default folder is ``$JUDGE_CACHE_DIR`` or ``./.judge-cache``.

With an engine (:mod:`judge.engine`, e.g. ``judge distill fit --engine ray``) the texts missing
from the cache are embedded by the engine's workers, each holding an embedder built from an
:class:`EmbedderSpec`, and stored batch by batch as they come back (so an interrupted run keeps
its work, as without one).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from judge.distill.embedders import Embedder, load_embedder
from judge.engine.base import Engine, Row
from judge.errors import ConfigError

log = logging.getLogger(__name__)

_CHUNK = 500  # SQLite host-parameter limit is 999 on old builds


def default_cache_dir() -> Path:
    """``$JUDGE_CACHE_DIR`` when set, else ``./.judge-cache``."""
    return Path(os.environ.get("JUDGE_CACHE_DIR") or ".judge-cache")


def text_key(text: str) -> str:
    """The content hash a text is stored under."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors of one embedder, stored under ``root/embeddings/<cache key>.sqlite``.

    Args:
        root: cache folder (created on first use).
        embedder: the embedder whose vectors are stored.

    Example:
        >>> import tempfile
        >>> from judge.distill.embedders import HashEmbedder
        >>> cache = EmbeddingCache(tempfile.mkdtemp(), HashEmbedder(16))
        >>> v = cache.embed(["a", "b", "a"])
        >>> v.shape, cache.misses, cache.embed(["b"]).shape, cache.misses
        ((3, 16), 2, (1, 16), 2)
    """

    def __init__(self, root: str | Path, embedder: Embedder, *, engine: Engine | None = None,
                 on_embedded: Callable[[int], None] | None = None) -> None:
        self.embedder = embedder
        self.engine = engine
        self.on_embedded = on_embedded
        self.dim = embedder.info.dim
        folder = Path(root) / "embeddings"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{embedder.info.cache_key()}.sqlite"
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, data BLOB)")
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors among ``keys``."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, data in self._db.execute(
                    f"SELECT key, data FROM vec WHERE key IN ({marks})", chunk):
                vec = np.frombuffer(data, dtype=np.float32)
                if vec.shape[0] == self.dim:
                    found[key] = vec
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Store vectors (replacing any under the same key)."""
        rows = [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        self._db.executemany("INSERT OR REPLACE INTO vec (key, data) VALUES (?, ?)", rows)
        self._db.commit()

    def embed(self, texts: Sequence[str], batch: int = 512) -> np.ndarray:
        """Vectors for ``texts``, embedding (and storing) only the ones not cached yet.

        Args:
            texts: the texts, duplicates allowed.
            batch: texts embedded and committed at a time, so an interrupted run keeps its work
                (with an engine: texts per worker batch).
        """
        keys = [text_key(t) for t in texts]
        found = self.get_many(keys)
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in missing:
                missing[key] = text
        self.hits += len(set(keys)) - len(missing)
        self.misses += len(missing)
        pending = list(missing.items())
        if self.engine is not None and pending:
            self._embed_on(self.engine, pending, batch, found)
            pending = []
        for start in range(0, len(pending), batch):
            part = pending[start:start + batch]
            vectors = self.embedder.embed([t for _, t in part])
            new = {k: vectors[i] for i, (k, _) in enumerate(part)}
            self.put_many(new)
            found.update(new)
            log.info("embedded %d/%d new texts", min(start + batch, len(pending)), len(pending))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out

    def _embed_on(self, engine: Engine, pending: list[tuple[str, str]], batch: int,
                  found: dict[str, np.ndarray]) -> None:
        want = self.embedder.info.cache_key()

        def stored(rows: list[Row]) -> None:
            other = next((r["embedder"] for r in rows if r["embedder"] != want), None)
            if other is not None:
                raise ConfigError(f"a worker's embedder is {other}, not this run's {want}: give "
                                  "every node the same model files")
            new = {r["key"]: np.asarray(r["vector"], dtype=np.float32) for r in rows}
            self.put_many(new)
            found.update(new)
            if self.on_embedded is not None:
                self.on_embedded(len(rows))

        engine.map(embed_rows, ({"key": k, "text": t} for k, t in pending), batch_size=batch,
                   on_batch=stored)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vec").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def embed_with(embedder: Embedder, texts: Sequence[str],
               cache: EmbeddingCache | None = None) -> np.ndarray:
    """Embed through ``cache`` when given, else directly (duplicates embedded once)."""
    if cache is not None:
        return cache.embed(texts)
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, embedder.info.dim), dtype=np.float32)
    vectors = embedder.embed(unique)
    index = {t: i for i, t in enumerate(unique)}
    return vectors[[index[t] for t in texts]]


@dataclass(frozen=True)
class EmbedderSpec:
    """A picklable recipe for an embedder (what an engine's workers build theirs from)."""

    spec: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Embedder:
        """The embedder (:func:`judge.distill.embedders.load_embedder`)."""
        return load_embedder(self.spec, **self.options)


def embed_rows(embedder: Embedder, rows: list[Row]) -> list[Row]:
    """A worker's batch function: ``{key, text}`` rows -> ``{key, embedder, vector}`` (a float32
    vector as a list of floats, which JSON carries exactly)."""
    vectors = embedder.embed([r["text"] for r in rows])
    name = embedder.info.cache_key()
    return [{"key": r["key"], "embedder": name, "vector": v.tolist()}
            for r, v in zip(rows, vectors, strict=True)]

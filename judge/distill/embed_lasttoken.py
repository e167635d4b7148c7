"""The last real token's hidden state of a causal LM, as in "Reusing Embeddings" (arXiv 2502.04357).

A text is tokenised with the model's own special tokens; when it is longer than ``max_tokens``
the *start* is cut (truncation from the left) so the last token is still the text's real end.
Batches are padded on ``padding_side``; the vector is read at the last position whose attention
mask is 1, and position ids are rebuilt from the mask, so left- and right-padded batches give
the same vectors as one text at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from judge.backends.shared.quiet import quiet_loading
from judge.distill.embedders import EmbedderInfo, files_revision, l2_normalise
from judge.errors import ConfigError, missing_dependency


class LastTokenEmbedder:
    """Last-token hidden states of a local causal LM (``transformers.AutoModel``).

    Args:
        folder: model folder (config, weights, tokenizer).
        spec: the spec string recorded in :attr:`info`.
        batch_size: texts per forward pass.
        max_tokens: longest input; longer texts keep their last ``max_tokens`` tokens.
        padding_side: ``left`` or ``right`` (the result does not depend on it).
        layer: which hidden layer to read (-1 = last).
        normalise: scale vectors to unit length (heads expect it; on by default).
        device: ``cpu``, ``cuda`` ...; None picks CUDA when available.
        dtype: torch dtype name for the weights (``float32`` by default).
    """

    def __init__(self, folder: Path, *, spec: str, batch_size: int = 8, max_tokens: int = 1024,
                 padding_side: Literal["left", "right"] = "left", layer: int = -1,
                 normalise: bool = True, device: str | None = None,
                 dtype: str = "float32") -> None:
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise missing_dependency("the last-token embedder", "transformers", "hf") from exc
        if padding_side not in ("left", "right"):
            raise ConfigError(f"padding_side must be 'left' or 'right', got '{padding_side}'")
        if max_tokens < 1 or batch_size < 1:
            raise ConfigError("max_tokens and batch_size must be >= 1")
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = getattr(torch, dtype, None)
        if not isinstance(torch_dtype, torch.dtype):
            raise ConfigError(f"unknown dtype '{dtype}' (use float32, bfloat16 or float16)")
        with quiet_loading():
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self.model = AutoModel.from_pretrained(str(folder), dtype=torch_dtype)
        self.tokenizer.padding_side = padding_side
        self.tokenizer.truncation_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model.to(self.device)
        self.model.eval()
        self.batch_size, self.max_tokens, self.layer = batch_size, max_tokens, layer
        self.normalise = normalise
        dim = int(self.model.config.hidden_size)
        self.info = EmbedderInfo(
            spec=spec, model_id=folder.name, revision=files_revision(folder), dim=dim,
            input_format={
                "text": "raw text, tokenised with the model's own special tokens",
                "long_text": "truncate-left",
                "max_tokens": max_tokens,
                "pooling": "hidden state at the last position with attention_mask == 1",
                "layer": layer,
                "position_ids": "cumulative sum of the attention mask - 1",
                "dtype": dtype,
                "normalise": "l2" if normalise else "none",
            })

    def _forward(self, texts: Sequence[str]) -> np.ndarray:
        torch = self.torch
        enc = self.tokenizer(list(texts), padding=True, truncation=True,
                             max_length=self.max_tokens, return_tensors="pt")
        ids = enc["input_ids"].to(self.device)
        mask = enc["attention_mask"].to(self.device)
        if ids.shape[1] == 0:
            raise ConfigError("the tokenizer produced no tokens; cannot embed empty input")
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         output_hidden_states=self.layer != -1)
        hidden = out.last_hidden_state if self.layer == -1 else out.hidden_states[self.layer]
        arange = torch.arange(mask.shape[1], device=mask.device)
        last = (mask * arange).argmax(dim=1)  # last real token, for left or right padding
        vec = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
        result: np.ndarray = vec.float().cpu().numpy()
        return result

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (see the module docstring)."""
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        # An empty string gives no tokens for tokenizers without BOS; embed the EOS instead.
        safe = [t if t else (self.tokenizer.eos_token or " ") for t in texts]
        order = sorted(range(len(safe)), key=lambda i: -len(safe[i]))
        out = np.zeros((len(safe), self.info.dim), dtype=np.float32)
        with self.torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                out[chunk] = self._forward([safe[i] for i in chunk])
        return l2_normalise(out) if self.normalise else out


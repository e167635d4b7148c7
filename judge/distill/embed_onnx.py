"""A sentence-transformers encoder exported to ONNX, run by onnxruntime with ``tokenizers``:
no torch, transformers or sentence-transformers at run time.

It reproduces :mod:`judge.distill.embed_st` exactly — windows of the model's maximum length (no
overlap, each with its own ``[CLS]``/``[SEP]``), at most ``max_windows`` per text, the model's
own pooling and normalisation per window (they are part of the exported graph), the
token-count-weighted mean over windows, re-normalised — so its :class:`EmbedderInfo` is the
torch embedder's, revision included, and a head accepts it. The exported files are built once
by :mod:`judge.distill.onnx_build`; this module only reads them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from judge.distill.embedders import EmbedderInfo, l2_normalise
from judge.errors import ArtifactError, ConfigError, missing_dependency

#: The exported files: fp32 graph, its int8 dynamically quantised copy, the tokenizer and
#: ``meta.json`` (what was exported from what, and how it was verified).
MODEL_FILES = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}
TOKENIZER_FILE, META_FILE = "tokenizer.json", "meta.json"


def require_onnxruntime() -> None:
    """Raise :class:`~judge.errors.MissingDependency` with the install hint when onnxruntime or
    tokenizers cannot be imported."""
    for module, package in (("onnxruntime", "onnxruntime"), ("tokenizers", "tokenizers")):
        try:
            __import__(module)
        except ImportError as exc:
            raise missing_dependency("the onnx runtime of reward heads", package,
                                     "embed") from exc


class OnnxEmbedder:
    """An exported encoder (see the module docstring).

    Args:
        folder: a folder written by :func:`judge.distill.onnx_build.build_onnx_encoder`.
        variant: ``onnx`` (fp32) or ``onnx-int8``.
        batch_size: windows per forward pass.
        threads: onnxruntime intra-op threads; None reads ``OMP_NUM_THREADS`` (as torch does),
            else lets onnxruntime choose.
    """

    def __init__(self, folder: Path, *, variant: str = "onnx", batch_size: int = 32,
                 threads: int | None = None) -> None:
        require_onnxruntime()
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if variant not in MODEL_FILES:
            raise ConfigError(f"unknown onnx variant '{variant}': use {', '.join(MODEL_FILES)}")
        if batch_size < 1:
            raise ConfigError("batch_size must be >= 1")
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            self.info = EmbedderInfo.model_validate(meta["info"])
        except (OSError, ValueError, KeyError) as exc:
            raise ArtifactError(f"{folder / META_FILE}: unreadable ONNX export record ({exc}); "
                                "delete the folder to rebuild it") from None
        self.meta: dict[str, Any] = meta
        self.variant = variant
        self.window = int(self.info.input_format["window_tokens"])
        self.max_windows = int(self.info.input_format["max_windows"])
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.window, stride=0)
        self._plain = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._plain.no_padding()
        self._plain.no_truncation()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads is None and os.environ.get("OMP_NUM_THREADS", "").isdigit():
            threads = int(os.environ["OMP_NUM_THREADS"])
        if threads:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / MODEL_FILES[variant]), options,
                                            providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}

    def windows(self, texts: Sequence[str]) -> list[list[list[int]]]:
        """Token-id windows per text (special tokens included), capped at ``max_windows``."""
        out: list[list[list[int]]] = []
        for enc in self.tokenizer.encode_batch(list(texts)):
            out.append([enc.ids, *(o.ids for o in enc.overflowing)][:self.max_windows])
        return out

    def windows_needed(self, texts: Sequence[str]) -> list[int]:
        """How many windows each text fills, uncapped (see the torch embedder's method)."""
        limit = self.max_windows * (self.window - 2)
        out = [1] * len(texts)
        long = [n for n, t in enumerate(texts) if len(t) > limit]
        if long:
            encs = self._plain.encode_batch([texts[n] for n in long], add_special_tokens=False)
            for n, enc in zip(long, encs, strict=True):
                out[n] = max(1, -(-len(enc.ids) // (self.window - 2)))
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; the long-text policy is :mod:`judge.distill.embed_st`'s."""
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        flat = [(t, w) for t, wins in enumerate(self.windows(texts)) for w in wins]
        order = sorted(range(len(flat)), key=lambda i: -len(flat[i][1]))  # pad less
        vectors = np.zeros((len(flat), self.info.dim), dtype=np.float32)
        weights = np.array([len(w) for _, w in flat], dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            width = len(flat[chunk[0]][1])
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                window = flat[i][1]
                ids[row, :len(window)] = window
                mask[row, :len(window)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask,
                     "token_type_ids": np.zeros_like(ids)}
            vectors[chunk] = self.session.run(
                None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        vectors = l2_normalise(vectors)
        out = np.zeros((len(texts), self.info.dim), dtype=np.float32)
        owners = np.array([t for t, _ in flat])
        np.add.at(out, owners, vectors * weights[:, None])
        return l2_normalise(out)

"""Distil a judge's verdicts into a cheap principle-conditioned reward head.

Pipeline: label files (``judge rank`` output or gold suites) -> :mod:`~judge.distill.labels`
items and teacher pairs -> frozen text embeddings (:mod:`~judge.distill.embedders`, cached on
disk by :mod:`~judge.distill.cache`) -> a small head (:mod:`~judge.distill.heads`) trained with
a Bradley–Terry, regression or classification loss (:mod:`~judge.distill.train`) -> a head
directory (:mod:`~judge.distill.artifact`) that :class:`~judge.distill.head.RewardHead` loads
and scores with.

Torch is imported by the submodules that need it, never by ``import judge``.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "EmbedderInfo": "judge.distill.embedders",
    "load_embedder": "judge.distill.embedders",
    "EmbeddingCache": "judge.distill.cache",
    "LabelItem": "judge.distill.labels",
    "read_labels": "judge.distill.labels",
    "RewardHead": "judge.distill.head",
    "load_head": "judge.distill.head",
    "default_head_dir": "judge.distill.backend",
    "TrainConfig": "judge.distill.train",
    "fit_head": "judge.distill.train",
    "evaluate_head": "judge.distill.evaluate",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'judge.distill' has no attribute '{name}'")


__all__ = [
    "EmbedderInfo",
    "EmbeddingCache",
    "LabelItem",
    "RewardHead",
    "TrainConfig",
    "default_head_dir",
    "evaluate_head",
    "fit_head",
    "load_embedder",
    "load_head",
    "read_labels",
]

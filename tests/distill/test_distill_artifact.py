"""Head directories: round trip, no pickle, and clear errors for damaged or foreign heads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers.distill_data import SHORT

from judge.distill.embedders import HashEmbedder
from judge.distill.head import load_head
from judge.errors import ArtifactError


def copy(head_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(head_dir, tmp_path / "head"))


def edit_config(folder: Path, **changes: object) -> None:
    path = folder / "config.json"
    data = json.loads(path.read_text())
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    path.write_text(json.dumps(data))


def test_round_trip_scores_match_the_trained_network(trained, head_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert sorted(p.name for p in head_dir.iterdir()) == ["README.md", "config.json",
                                                          "weights.safetensors"]
    head = load_head(head_dir)
    items = trained.test_items[:6]
    batch = [(it.principle, it.prompt, list(it.responses)) for it in items]
    from judge.distill.dataset import embed_items

    expected, _ = embed_items(items, HashEmbedder(64)).scores(trained.net)
    got = head.score_batch(batch)
    assert np.allclose(np.array(got), np.array(expected), atol=1e-5)
    config = json.loads((head_dir / "config.json").read_text())
    assert config["schema_version"] == 1 and config["embedder"]["spec"] == "hash:64"
    assert {"architecture", "training", "metrics", "library_versions", "input_format"} <= set(config)
    assert config["training"]["data_hash"] and config["metrics"]["held_out"]["head"]["all"]
    card = (head_dir / "README.md").read_text()
    assert "pairwise accuracy" in card and "longer wins" in card


def test_weights_are_safetensors_not_pickle(head_dir: Path) -> None:
    blob = (head_dir / "weights.safetensors").read_bytes()
    header_len = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + header_len])
    assert "feature_mean" in header and not blob.startswith(b"\x80")  # pickle protocol marker


def test_tampered_weights_are_refused(head_dir: Path, tmp_path: Path) -> None:
    folder = copy(head_dir, tmp_path)
    data = bytearray((folder / "weights.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (folder / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256"):
        load_head(folder)


@pytest.mark.parametrize(("changes", "message"), [
    ({"schema_version": 2}, "upgrade judge"),
    ({"schema_version": 0}, "retrain"),
    ({"kind": "something-else"}, "not a judge reward-head"),
    ({"architecture__kind": "transformer"}, "architecture.kind"),
    ({"architecture__hidden": 999}, "do not fit the declared architecture"),
    ({"surprise": 1}, "surprise"),
    ({"weights__sha256": "0" * 64}, "sha256"),
])
def test_incompatible_or_edited_configs_are_refused(head_dir: Path, tmp_path: Path,
                                                    changes: dict[str, object],
                                                    message: str) -> None:
    folder = copy(head_dir, tmp_path)
    edit_config(folder, **changes)
    with pytest.raises(ArtifactError, match=message):
        load_head(folder)


def test_missing_pieces(head_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="config.json is missing"):
        load_head(tmp_path)
    folder = copy(head_dir, tmp_path)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_head(folder)


def test_embedder_mismatch_is_refused_unless_overridden(head_dir: Path) -> None:
    class Other(HashEmbedder):
        pass

    other = Other(64)
    other.info = other.info.model_copy(update={"revision": "something-else"})
    with pytest.raises(ArtifactError, match="revision"):
        load_head(head_dir, embedder=other)
    head = load_head(head_dir, embedder=other, check_embedder=False)
    assert len(head.score(SHORT, "q", ["a", "b c"])) == 2
    with pytest.raises(ArtifactError, match="32-d"):
        load_head(head_dir, embedder=HashEmbedder(32), check_embedder=False)

"""Training: every architecture and loss learns a principle-dependent preference; determinism."""

from __future__ import annotations

import pytest
import torch
from helpers.distill_data import make_items

from judge.distill.embedders import HashEmbedder
from judge.distill.heads import HeadArch
from judge.distill.labels import LabelItem
from judge.distill.train import TrainConfig, fit_head
from judge.errors import ConfigError


def test_held_out_head_beats_baselines_and_flips(trained) -> None:  # type: ignore[no-untyped-def]
    report = trained.report
    head = report["head"]["all"]["pairwise_accuracy"]
    # Half the pairs want the longer answer, half the shorter: length baselines sit at 0.5.
    assert report["baselines"]["longer_wins"]["pairwise_accuracy"] == pytest.approx(0.5)
    assert report["baselines"]["shorter_wins"]["pairwise_accuracy"] == pytest.approx(0.5)
    assert head > 0.9
    assert report["flip"]["flip_rate"] > 0.9 and report["flip"]["candidates"] > 10
    train_prompts = {it.prompt for it in trained.train_items}
    assert not train_prompts & {it.prompt for it in trained.test_items}


@pytest.mark.parametrize("kind", ["linear", "mlp", "ensemble"])
@pytest.mark.parametrize("loss", ["bt", "regression", "classification"])
def test_every_arch_and_loss_learns(kind: str, loss: str) -> None:
    arch = HeadArch(kind=kind, hidden=16, members=2 if kind == "ensemble" else 1)
    result = fit_head(make_items(60, seed=1), HashEmbedder(32),
                      TrainConfig(arch=arch, loss=loss, epochs=15, test_fraction=0.3))
    assert result.report is not None
    assert result.report["head"]["all"]["pairwise_accuracy"] > 0.8
    assert result.config["score"].loss == loss


def test_training_is_deterministic() -> None:
    items = make_items(40, seed=2)
    config = TrainConfig(arch=HeadArch(kind="ensemble", members=2, hidden=8), epochs=3)
    a = fit_head(items, HashEmbedder(32), config).net.state_dict()
    b = fit_head(items, HashEmbedder(32), config).net.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = fit_head(items, HashEmbedder(32), config.model_copy(update={"seed": 1})).net.state_dict()
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_nothing_to_learn_is_a_clear_error() -> None:
    tied = [LabelItem("p", "p", f"q{n}", ("a", "b"), (1.0, 1.0)) for n in range(10)]
    with pytest.raises(ConfigError, match="no ordered pairs"):
        fit_head(tied, HashEmbedder(16), TrainConfig(test_fraction=0.0, epochs=1))


def test_architecture_set_is_closed() -> None:
    with pytest.raises(ValueError):
        HeadArch(kind="transformer")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        HeadArch(kind="ensemble", members=1)
    with pytest.raises(ValueError):
        HeadArch(kind="mlp", members=3)

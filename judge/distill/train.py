"""Fit a head on teacher labels: split by prompt, embed once, train, evaluate held-out::

    from judge.distill import fit_head, load_embedder, read_labels, TrainConfig
    result = fit_head(read_labels(["ranked.jsonl"]).items, load_embedder("minilm"), TrainConfig())
    head = result.save("my-head")          # config.json + weights.safetensors + README.md

Training is deterministic for a given seed, data and library versions (CPU).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from judge.distill import losses
from judge.distill.artifact import SCORE_MEANING, ScoreInfo, library_versions, save_head
from judge.distill.cache import EmbeddingCache
from judge.distill.dataset import EmbeddedItems, embed_items
from judge.distill.embedders import Embedder
from judge.distill.evaluate import evaluate_embedded
from judge.distill.features import feature_dim
from judge.distill.head import RewardHead, encode_vectors, load_head
from judge.distill.heads import HeadArch, RewardNet, describe
from judge.distill.labels import LabelItem, split_items
from judge.distill.metrics import agreement
from judge.errors import ConfigError

log = logging.getLogger(__name__)

#: A principle whose embedding has cosine below this to every training principle is flagged
#: ``principle_out_of_distribution`` (scripts/train_default_head.py calibrates its own).
OOD_THRESHOLD = 0.5


class TrainConfig(BaseModel):
    """How to train a head (recorded in the head's config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arch: HeadArch = HeadArch()
    loss: losses.Loss = "bt"
    epochs: int = Field(20, ge=1, le=10_000)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(1e-3, ge=0)
    batch_size: int = Field(512, ge=1)
    seed: int = 0
    center_coef: float = Field(0.01, ge=0)
    """Bradley–Terry only: weight of the penalty that keeps scores near 0."""
    min_margin: float = Field(0.0, ge=0)
    """Pairs whose teacher scores differ by this much or less are treated as ties (dropped)."""
    threshold: float | None = None
    """Classification only: "good" means teacher score >= threshold (default: the middle of the
    teacher's scale when rows give one, else halfway between the lowest and highest training
    score)."""
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    split_seed: int = 0
    test_groups: tuple[str, ...] = ()
    """Answer sets (label ``answer_set``) held out whole as the test split; items of other
    answer sets train, items without one are split by prompt (see ``split_items``)."""
    standardise_sample: int = Field(20_000, ge=100)


def data_hash(items: Sequence[LabelItem]) -> str:
    """Order-independent hash of the label content (principles, prompts, responses, scores)."""
    digests = sorted(
        hashlib.sha256(json.dumps([it.principle, it.prompt, list(it.responses), list(it.scores),
                                   it.weight], ensure_ascii=False).encode()).hexdigest()
        for it in items)
    return hashlib.sha256("".join(digests).encode()).hexdigest()[:16]


def _pairs(data: EmbeddedItems, min_margin: float) -> tuple[torch.Tensor, ...]:
    """Winner slots, loser slots, weights and soft targets P(winner preferred)."""
    win, lose, weight, target = [], [], [], []
    for it, slots in zip(data.items, data.item_slots, strict=True):
        for i, j, p in it.targets(min_margin):
            win.append(slots[i])
            lose.append(slots[j])
            weight.append(it.weight)
            target.append(p)
    return (torch.tensor(win, dtype=torch.long), torch.tensor(lose, dtype=torch.long),
            torch.tensor(weight, dtype=torch.float32), torch.tensor(target, dtype=torch.float32))


def _slot_targets(data: EmbeddedItems, config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor,
                                                                     dict[str, float]]:
    scores = torch.tensor([s for it in data.items for s in it.scores], dtype=torch.float32)
    weights = torch.tensor([it.weight for it in data.items for _ in it.scores],
                           dtype=torch.float32)
    if config.loss == "regression":
        mean, std = float(scores.mean()), float(scores.std().clamp(min=1e-6))
        return (scores - mean) / std, weights, {"target_mean": mean, "target_std": std}
    threshold = config.threshold
    if threshold is None:
        scales = {it.scale for it in data.items}
        only = next(iter(scales)) if len(scales) == 1 else None
        threshold = ((only[0] + only[1]) / 2 if only
                     else (float(scores.min()) + float(scores.max())) / 2)
    return (scores >= threshold).float(), weights, {"threshold": float(threshold)}


def fit_net(data: EmbeddedItems, config: TrainConfig,
            on_epoch: Callable[[int, float], None] | None = None
            ) -> tuple[RewardNet, dict[str, Any]]:
    """Train a network on embedded training items (``on_epoch(epoch, loss)`` after each epoch).

    Returns:
        The network (in eval mode) and a record with the loss per epoch and the score info.

    Raises:
        ConfigError: nothing to learn from (no ordered pairs / no slots).
    """
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    net = RewardNet(config.arch, feature_dim(int(data.R.shape[1])))
    sample = torch.randperm(data.n_slots, generator=gen)[:config.standardise_sample]
    if len(sample) == 0:
        raise ConfigError("no training responses: the labels are empty after the split")
    net.set_standardisation(data.features(sample))
    extra: dict[str, float] = {}
    if config.loss == "bt":
        win, lose, weight, target = _pairs(data, config.min_margin)
        if len(win) == 0:
            raise ConfigError("no ordered pairs to learn from: every item's teacher scores tie "
                              "(lower --min-margin, or use --loss regression)")
        n = len(win)
    else:
        targets, weight, extra = _slot_targets(data, config)
        n = data.n_slots
    members = config.arch.members
    boot = (torch.poisson(torch.ones(members, n), generator=gen) if members > 1
            else torch.ones(1, n))
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(n / config.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    history = []
    net.train()
    for epoch in range(config.epochs):
        perm = torch.randperm(n, generator=gen)
        total, count = 0.0, 0
        for start in range(0, n, config.batch_size):
            idx = perm[start:start + config.batch_size]
            w = boot[:, idx] * weight[idx]
            if config.loss == "bt":
                out = net(data.features(torch.cat([win[idx], lose[idx]])))
                loss = losses.bradley_terry(out[:, :len(idx)], out[:, len(idx):], w,
                                            config.center_coef, target[idx]).sum()
            elif config.loss == "regression":
                loss = losses.regression(net(data.features(idx)), targets[idx], w).sum()
            else:
                loss = losses.classification(net(data.features(idx)), targets[idx], w).sum()
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        history.append(round(total / max(count, 1) / members, 5))
        log.info("epoch %d/%d loss %.4f", epoch + 1, config.epochs, history[-1])
        if on_epoch is not None:
            on_epoch(epoch + 1, history[-1])
    net.eval()
    return net, {"loss_per_epoch": history, "examples": n, "score": extra}


@dataclass
class FitResult:
    """A trained network with everything needed to save it as a head directory."""

    net: RewardNet
    config: dict[str, Any]
    report: dict[str, Any] | None
    train_items: list[LabelItem]
    test_items: list[LabelItem]
    seconds: dict[str, float] = field(default_factory=dict)

    def save(self, folder: str | Path, *, card: str | None = None, overwrite: bool = False,
             dtype: str = "float32") -> RewardHead:
        """Write the head directory and load it back (a round-trip check)."""
        from judge.distill.card import render_card

        text = card if card is not None else render_card(self.config)
        save_head(folder, self.config, self.net, text, overwrite=overwrite,
                  dtype=dtype)  # type: ignore[arg-type]
        return load_head(folder, runtime="torch")


def headline(report: dict[str, Any] | None) -> dict[str, Any]:
    """The few figures a card and a summary line lead with."""
    if not report:
        return {}
    overall = report["head"]["all"]
    return {
        "held_out_pairwise_accuracy": overall["pairwise_accuracy"],
        "held_out_kendall_tau": overall["kendall_tau"],
        "held_out_pairs": overall["pairs"],
        "principle_flip_rate": report["flip"]["flip_rate"],
        "flip_candidates": report["flip"]["candidates"],
        **{f"baseline_{k}": v["pairwise_accuracy"] for k, v in report["baselines"].items()},
    }


def fit_head(items: Sequence[LabelItem], embedder: Embedder, config: TrainConfig | None = None,
             *, cache: EmbeddingCache | None = None, name: str = "head",
             command: str | None = None,
             on_epoch: Callable[[int, float], None] | None = None) -> FitResult:
    """Split by prompt, embed, train and evaluate on the held-out prompts.

    Args:
        items: all label items (the split is made here, by prompt hash).
        embedder: the frozen encoder.
        config: training settings.
        cache: on-disk embedding cache (recommended: re-training then never re-embeds).
        name: the head's name.
        command: the command line that trained it (recorded).
        on_epoch: called with (epoch, mean loss) after each training epoch (progress).
    """
    config = config or TrainConfig()
    train, test = split_items(items, test_fraction=config.test_fraction, seed=config.split_seed,
                              test_groups=config.test_groups)
    if not train:
        raise ConfigError(f"all {len(items)} items fell in the test split; lower --test-fraction")
    t0 = time.perf_counter()
    train_data = embed_items(train, embedder, cache)
    test_data = embed_items(test, embedder, cache) if test else None
    t1 = time.perf_counter()
    net, record = fit_net(train_data, config, on_epoch)
    t2 = time.perf_counter()
    report = evaluate_embedded(test_data, net) if test_data is not None else None
    train_fig = agreement(train, train_data.scores(net)[0], by=None)["all"]
    seconds = {"embed": round(t1 - t0, 2), "train": round(t2 - t1, 2)}
    loss_name = config.loss
    score = ScoreInfo(loss=loss_name, meaning=SCORE_MEANING[loss_name], **record["score"])
    head_config = {
        "name": name, "embedder": embedder.info, "architecture": config.arch,
        "feature_dim": feature_dim(embedder.info.dim), "score": score,
        "training": {
            **config.model_dump(mode="json", exclude={"arch"}),
            "data_hash": data_hash(items), "items": {"train": len(train), "test": len(test)},
            "examples": record["examples"], "sources": dict(Counter(it.source for it in items)),
            "principles": len({it.principle for it in items}),
            "split": {"by": ("answer set (items without one: sha256(split_seed:prompt))"
                             if config.test_groups else "sha256(split_seed:prompt)"), "test_fraction": config.test_fraction,
                      "seed": config.split_seed, "test_answer_sets": list(config.test_groups),
                      "answer_sets": sorted({it.group for it in items if it.group})},
            "principle_index": {"vectors": encode_vectors(train_data.P.numpy()),
                                "threshold": OOD_THRESHOLD, "count": int(train_data.P.shape[0])},
            "loss_per_epoch": record["loss_per_epoch"], "seconds": seconds,
            "command": command, **describe(config.arch, feature_dim(embedder.info.dim)),
        },
        "metrics": {"headline": headline(report), "held_out": report, "train": train_fig},
        "library_versions": library_versions(),
    }
    return FitResult(net, head_config, report, train, test, seconds)

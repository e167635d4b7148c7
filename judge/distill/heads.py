"""Head architectures, from a closed set: ``linear``, ``mlp`` and ``ensemble``.

Every head standardises its input features with the training set's mean and standard deviation
(stored as buffers beside the weights), clips them to ±6, and returns one score per member: shape ``(members, n)``.
A single head has one member; an ensemble's score is the members' mean and its spread (standard
deviation) is reported as uncertainty. Members of an ensemble differ in initialisation and in
the bootstrap weights of their training pairs.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

ARCHITECTURES: tuple[str, ...] = ("linear", "mlp", "ensemble")
#: Standardised features are clipped to +-Z_CLIP so inputs unlike anything seen in training
#: cannot produce runaway scores.
Z_CLIP = 6.0


class HeadArch(BaseModel):
    """Which head to build.

    Attributes:
        kind: ``linear`` (one weight vector), ``mlp`` (hidden layers with GELU and dropout), or
            ``ensemble`` (``members`` heads of kind ``member``).
        hidden: width of each hidden layer (mlp members).
        layers: number of hidden layers (mlp members).
        dropout: dropout after each hidden layer during training.
        input_dropout: dropout on the standardised input features during training (keeps the
            head from memorising individual texts).
        members: ensemble size (1 for linear and mlp).
        member: the kind of each ensemble member.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["linear", "mlp", "ensemble"] = "mlp"
    hidden: int = Field(64, ge=1, le=8192)
    layers: int = Field(1, ge=1, le=4)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    input_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    members: int = Field(1, ge=1, le=64)
    member: Literal["linear", "mlp"] = "mlp"

    @model_validator(mode="after")
    def _members(self) -> HeadArch:
        if self.kind == "ensemble" and self.members < 2:
            raise ValueError("an ensemble needs members >= 2")
        if self.kind != "ensemble" and self.members != 1:
            raise ValueError(f"a {self.kind} head has exactly one member; use kind=ensemble")
        return self

    @property
    def member_kind(self) -> str:
        """The kind of each member network."""
        return self.member if self.kind == "ensemble" else self.kind


def _member(kind: str, in_dim: int, arch: HeadArch) -> nn.Module:
    if kind == "linear":
        return nn.Linear(in_dim, 1)
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(arch.layers):
        layers += [nn.Linear(width, arch.hidden), nn.GELU(), nn.Dropout(arch.dropout)]
        width = arch.hidden
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


class RewardNet(nn.Module):
    """Feature standardisation followed by one or more scoring networks.

    Args:
        arch: the architecture.
        in_dim: feature size (see :func:`judge.distill.features.feature_dim`).
    """

    def __init__(self, arch: HeadArch, in_dim: int) -> None:
        super().__init__()
        self.arch = arch
        self.in_dim = in_dim
        self.feature_mean: torch.Tensor
        self.feature_std: torch.Tensor
        self.register_buffer("feature_mean", torch.zeros(in_dim))
        self.register_buffer("feature_std", torch.ones(in_dim))
        self.input_dropout = nn.Dropout(arch.input_dropout, inplace=True)
        self.members = nn.ModuleList(
            [_member(arch.member_kind, in_dim, arch) for _ in range(arch.members)])

    def set_standardisation(self, features: torch.Tensor) -> None:
        """Fit the input standardisation on a sample of training features."""
        std = features.std(0)
        self.feature_mean.copy_(features.mean(0))
        # A feature (nearly) constant in training keeps its raw scale instead of being blown up.
        self.feature_std.copy_(torch.where(std < 1e-3, torch.ones_like(std), std))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Scores of shape ``(members, n)``."""
        z = (features - self.feature_mean).div_(self.feature_std).clamp_(-Z_CLIP, Z_CLIP)
        z = self.input_dropout(z)  # one mask for all members: cheaper, and members still differ
        return torch.stack([m(z).squeeze(-1) for m in self.members])

    def expected_tensors(self) -> dict[str, tuple[int, ...]]:
        """Tensor names and shapes this architecture stores."""
        return {k: tuple(v.shape) for k, v in self.state_dict().items()}


def describe(arch: HeadArch, in_dim: int) -> dict[str, Any]:
    """Parameter count and a one-line description (for cards and logs)."""
    net = RewardNet(arch, in_dim)
    params = sum(p.numel() for p in net.parameters())
    shape = (f"{arch.members} x {arch.member_kind}" if arch.kind == "ensemble"
             else arch.kind)
    if arch.member_kind == "mlp":
        shape += f" ({arch.layers} hidden layer(s) of {arch.hidden}, GELU, dropout {arch.dropout})"
    return {"parameters": int(params), "description": shape}

"""Head architectures, from a closed set: ``linear``, ``mlp`` and ``ensemble``.

Every head standardises its input features with the training set's mean and standard deviation
(stored as buffers beside the weights), clips them to ±6, and returns one score per member: shape ``(members, n)``.
A single head has one member; an ensemble's score is the members' mean and its spread (standard
deviation) is reported as uncertainty. Members of an ensemble differ in initialisation and in
the bootstrap weights of their training pairs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from judge.distill.arch import ARCHITECTURES, Z_CLIP, HeadArch

__all__ = ["ARCHITECTURES", "Z_CLIP", "HeadArch", "RewardNet", "describe"]


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

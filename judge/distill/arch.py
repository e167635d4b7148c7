"""A head's architecture, from a closed set: ``linear``, ``mlp`` and ``ensemble`` (see
:mod:`judge.distill.heads` for the torch network and :mod:`judge.distill.net_numpy` for the numpy
forward pass). Torch-free, so a head's config can be read without torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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

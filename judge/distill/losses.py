"""Training losses for reward heads.

* ``bt`` — Bradley–Terry on ordered pairs: ``-log σ(s_w - s_l)``, so ``σ(s_a - s_b)`` is the
  predicted probability that ``a`` is preferred. With a soft target ``t`` (a teacher's
  probability; ties 0.5) the loss is the cross-entropy ``-t log σ(d) - (1-t) log σ(-d)``.
  Listwise verdicts enter as all their ordered pairs. A small penalty ``center_coef · mean(s²)`` keeps scores centred on 0 (as TRL's
  ``center_rewards_coefficient`` does), since pairs only pin down differences.
* ``regression`` — mean squared error to the teacher's score, standardised over the training
  set.
* ``classification`` — binary cross-entropy: a response is "good" when its teacher score is at
  least a threshold.

Each takes per-example weights and returns a weighted mean.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

Loss = Literal["bt", "regression", "classification"]
LOSSES: tuple[str, ...] = ("bt", "regression", "classification")


def _weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (values * weights).sum(-1) / weights.sum(-1).clamp(min=1e-8)


def bradley_terry(winner: torch.Tensor, loser: torch.Tensor, weights: torch.Tensor,
                  center_coef: float = 0.0, target: torch.Tensor | None = None) -> torch.Tensor:
    """Bradley–Terry loss per member; inputs have shape ``(members, n)``; ``target`` (shape
    ``(n,)``) is P(winner preferred), 1 when not given.

    >>> w, l = torch.tensor([[2.0]]), torch.tensor([[0.0]])
    >>> round(float(bradley_terry(w, l, torch.ones(1, 1))), 4)
    0.1269
    >>> round(float(bradley_terry(w, l, torch.ones(1, 1), target=torch.tensor([0.5]))), 4)
    1.1269
    """
    diff = winner - loser
    if target is None:
        values = -F.logsigmoid(diff)
    else:
        values = -(target * F.logsigmoid(diff) + (1 - target) * F.logsigmoid(-diff))
    loss = _weighted_mean(values, weights)
    if center_coef:
        loss = loss + center_coef * _weighted_mean((winner**2 + loser**2) / 2, weights)
    return loss


def regression(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared error per member."""
    return _weighted_mean((pred - target) ** 2, weights)


def classification(logits: torch.Tensor, labels: torch.Tensor,
                   weights: torch.Tensor) -> torch.Tensor:
    """Weighted binary cross-entropy on logits per member."""
    values = F.binary_cross_entropy_with_logits(logits, labels.expand_as(logits),
                                                reduction="none")
    return _weighted_mean(values, weights)

"""Rewards for RL from a judge or a distilled head: TRL, OpenRLHF and veRL adapters.

One :class:`Reward` serves all three:

* TRL: ``GRPOTrainer(reward_funcs=[Reward(judge, on_failure="none")])``, or
  ``AsyncReward(Reward(...))`` for TRL's async path;
* OpenRLHF: ``reward.openrlhf(body)`` answers a remote-RM request (``judge serve``'s
  ``/get_reward`` shares its parsing);
* veRL: ``pkg://judge.rl.verl`` as ``reward.custom_reward_function.path``
  (``compute_score`` or ``compute_score_async``).
"""

from __future__ import annotations

from judge.rl.aio import AsyncReward
from judge.rl.groups import GroupSplitWarning
from judge.rl.reward import (
    GroupOutcome,
    Reward,
    RewardError,
    RewardGroup,
    RewardStats,
    check_on_failure,
)
from judge.rl.shaping import REWARD_MODES

__all__ = ["REWARD_MODES", "AsyncReward", "GroupOutcome", "GroupSplitWarning", "Reward",
           "RewardError", "RewardGroup", "RewardStats", "check_on_failure"]

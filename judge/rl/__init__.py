"""Rewards for RL from a judge or a distilled head: TRL, OpenRLHF and veRL adapters.

One :class:`Reward` serves all three:

* TRL: ``GRPOTrainer(reward_funcs=[Reward(judge, on_failure="none")])``;
* OpenRLHF: ``reward.openrlhf(body)`` answers a remote-RM request (``judge serve``'s
  ``/get_reward`` shares its parsing);
* veRL: ``judge/rl/verl.py``'s ``compute_score`` as ``custom_reward_function``.
"""

from __future__ import annotations

from judge.rl.reward import Reward, RewardError, RewardGroup, RewardStats, check_on_failure

__all__ = ["Reward", "RewardError", "RewardGroup", "RewardStats", "check_on_failure"]

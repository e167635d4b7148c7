"""An async face for :class:`~judge.rl.reward.Reward`, for TRL's concurrent reward functions.

TRL (1.16) runs a reward function on its own event loop when
``trl.trainer.utils.is_async_callable`` says so: an ``async def`` function, or an object whose
``__call__`` is ``async`` (objects only since 1.16; older releases would call this one as a
sync function and fail, so use :class:`Reward` itself there). Its async functions are awaited together with ``asyncio.gather``, so
a slow HTTP judge no longer holds up the other reward functions. The judge call itself runs in
a worker thread (``asyncio.to_thread``), so it never blocks that loop.

    >>> from judge.backends.scripted import ScriptedBackend
    >>> from judge.core import Judge
    >>> reward = AsyncReward(Reward(Judge(ScriptedBackend(['{"score": 4}']), principle="Be kind."),
    ...                             on_failure="none", name="kind"))
    >>> import asyncio
    >>> asyncio.run(reward(prompts=["hi"], completions=["hello"]))
    [4.0]
    >>> reward.__name__
    'kind'
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from judge.rl.reward import Reward, RewardStats


class AsyncReward:
    """``GRPOTrainer(reward_funcs=[AsyncReward(Reward(...))])``: the same rewards, awaited.

    Args:
        reward: the :class:`Reward` that does the work (its ``stats`` and name are shared).
    """

    def __init__(self, reward: Reward) -> None:
        if not isinstance(reward, Reward):
            raise TypeError(f"AsyncReward wraps a Reward, not {type(reward).__name__}")
        self.reward = reward
        self.__name__ = reward.__name__

    @property
    def stats(self) -> RewardStats:
        """The wrapped reward's counters."""
        return self.reward.stats

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                       **kwargs: Any) -> list[float | None]:
        """TRL's reward contract, as a coroutine (see :meth:`Reward.__call__`)."""
        return await asyncio.to_thread(self.reward, prompts, completions, **kwargs)

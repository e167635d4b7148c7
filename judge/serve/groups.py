"""Group rewards: per-sample calls that share a prompt are judged together, listwise.

GRPO-style trainers sample a group of responses per prompt, but veRL's workers and OpenRLHF
ask for one sample's reward at a time. :class:`GroupGatherer` holds each sample under its group
key (the caller's group id, else a hash of prompt and principle) until the group is complete
(``size`` samples) or ``window_s`` has passed since its first sample, then
:func:`judge_group` ranks what arrived in one listwise call and answers each caller with its
own :class:`SampleReward`.

When that call fails (the backend raised, or some scores are missing because a verdict could
not be parsed) the samples without a score are judged again pointwise, one call each
(``fallback``); a sample still without one gets the configured neutral value with
``judge_failed`` set, never an unflagged number.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from judge.errors import InputError
from judge.principles import Principle
from judge.serve.scorers import Item, ItemResult

log = logging.getLogger(__name__)

ScoreFn = Callable[[list[Item]], Awaitable[list[ItemResult]]]
"""Scores items (the server's micro-batcher); may raise."""


@dataclass(frozen=True)
class SampleReward:
    """One sample's answer.

    Attributes:
        score: the reward (the neutral value when ``judge_failed``).
        judge_failed: no judgment was usable, listwise or pointwise.
        fallback: the listwise call failed and the sample was judged (or tried) pointwise.
        status: the verdict status of the call that gave the score, or ``error``.
        group_size: how many samples were judged together.
        uncertainty: an ensemble head's spread for this sample, when it has one.
    """

    score: float
    judge_failed: bool
    fallback: bool
    status: str
    group_size: int
    uncertainty: float | None = None


def group_key(prompt: str, principle: Principle, group: str | None) -> str:
    """The caller's group id, else a hash of the prompt and the principle's hash.

    >>> from judge.principles import resolve_principle
    >>> p = resolve_principle("Be brief.")
    >>> group_key("q", p, "uid-7"), group_key("q", p, None) == group_key("q", p, None)
    ('id:uid-7', True)
    """
    if group is not None:
        return f"id:{group}"
    digest = hashlib.sha256(f"{p_hash(principle)}\0{prompt}".encode("utf-8", "surrogatepass"))
    return "prompt:" + digest.hexdigest()[:32]


def p_hash(principle: Principle) -> str:
    """The principle's content hash (its text when it has none)."""
    return principle.hash or principle.text


async def judge_group(score: ScoreFn, prompt: str, principle: Principle, responses: list[str],
                      neutral: float,
                      record: Callable[[bool, str | None], None] | None = None,
                      ) -> list[SampleReward]:
    """Judge ``responses`` to ``prompt`` listwise in one call, falling back as described above.

    Args:
        score: scores a list of items (one call each time it is awaited).
        neutral: the reward of a sample no judgment could score.
        record: told of every call's outcome (the server's :class:`JudgeHealth`).
    """
    n = len(responses)
    scores: list[float | None] = [None] * n
    spread: list[float | None] = [None] * n
    status = "error"
    try:
        result = (await score([Item(prompt=prompt, responses=responses, principle=principle)]))[0]
        scores, status = list(result.scores), result.status
        spread = list(result.uncertainty) if result.uncertainty else spread
        missing = any(s is None for s in scores)
        if record:
            record(not missing, f"verdict {status}: {'; '.join(result.problems)}"
                   if missing else None)
    except Exception as exc:  # noqa: BLE001 - the backend failed: fall back, never crash
        log.warning("group of %d: the listwise judge call failed (%s: %s)", n,
                    type(exc).__name__, exc)
        if record:
            record(False, f"{type(exc).__name__}: {exc}")
    statuses = [status] * n
    todo = [i for i, s in enumerate(scores) if s is None]
    fell_back = bool(todo) and n > 1
    if fell_back:
        try:
            singles = await score([Item(prompt=prompt, responses=[responses[i]],
                                        principle=principle) for i in todo])
            for i, r in zip(todo, singles, strict=True):
                scores[i], statuses[i] = r.scores[0], r.status
                spread[i] = r.uncertainty[0] if r.uncertainty else None
            if record:
                record(all(r.scores[0] is not None for r in singles),
                       "pointwise fallback: some verdicts could not be parsed")
        except Exception as exc:  # noqa: BLE001 - the fallback failed too: neutral + flag
            statuses = ["error" if i in todo else s for i, s in enumerate(statuses)]
            if record:
                record(False, f"pointwise fallback: {type(exc).__name__}: {exc}")
    out = []
    for i, s in enumerate(scores):
        failed = s is None
        out.append(SampleReward(neutral if s is None else float(s), failed,
                                fell_back and i in todo, statuses[i], n, spread[i]))
    return out


@dataclass
class _Open:
    prompt: str
    principle: Principle
    size: int | None
    responses: list[str] = field(default_factory=list)
    waiters: list[asyncio.Future[SampleReward]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class GroupGatherer:
    """Gathers samples by group key and judges each group once (see the module docstring).

    Args:
        score: the server's scoring function (its micro-batcher's ``submit``).
        window_s: longest wait after a group's first sample before judging what arrived.
        neutral: reward of a sample no judgment could score.
        max_size: a group never grows past this (the server's ``--max-items``).
        record: told of every judge call's outcome.
    """

    def __init__(self, score: ScoreFn, *, window_s: float, neutral: float, max_size: int,
                 record: Callable[[bool, str | None], None] | None = None) -> None:
        self.score, self.window_s, self.neutral = score, window_s, neutral
        self.max_size, self.record = max_size, record
        self.groups_judged = 0
        self.incomplete_groups = 0
        self._open: dict[str, _Open] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, key: str, prompt: str, principle: Principle, response: str,
               size: int | None) -> asyncio.Future[SampleReward]:
        """Add one sample to its group; the future resolves when the group has been judged.

        Raises:
            InputError: the group id is already open with another prompt or principle.
        """
        loop = asyncio.get_running_loop()
        self.check(key, prompt, principle)
        group = self._open.get(key)
        if group is None:
            group = self._open[key] = _Open(prompt, principle, size)
            group.timer = loop.call_later(self.window_s, self._flush, key, False)
        if size is not None:
            group.size = size
        waiter: asyncio.Future[SampleReward] = loop.create_future()
        group.responses.append(response)
        group.waiters.append(waiter)
        if len(group.responses) >= min(group.size or self.max_size, self.max_size):
            self._flush(key, True)
        return waiter

    def check(self, key: str, prompt: str, principle: Principle) -> None:
        """Refuse a sample that cannot join its open group, before anything is submitted.

        Raises:
            InputError: the group id is already open with another prompt or principle.
        """
        group = self._open.get(key)
        if group is not None and (group.prompt != prompt
                                  or p_hash(group.principle) != p_hash(principle)):
            name = key.partition(":")[2]
            raise InputError(f"group {name!r} is already gathering samples for another prompt "
                             "or principle; give each prompt its own group id", field="group")

    def _flush(self, key: str, complete: bool) -> None:
        group = self._open.pop(key, None)
        if group is None:
            return
        if group.timer is not None:
            group.timer.cancel()
        if not complete:
            self.incomplete_groups += 1
        task = asyncio.ensure_future(self._judge(group))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _judge(self, group: _Open) -> None:
        self.groups_judged += 1
        try:
            out = await judge_group(self.score, group.prompt, group.principle, group.responses,
                                    self.neutral, self.record)
        except BaseException as exc:  # cancelled at shutdown: tell the callers
            for waiter in group.waiters:
                if not waiter.done():
                    waiter.set_exception(exc if isinstance(exc, Exception) else
                                         RuntimeError("the server is shutting down"))
            raise
        for waiter, reward in zip(group.waiters, out, strict=True):
            if not waiter.done():  # a caller that gave up has cancelled its future
                waiter.set_result(reward)

    def stats(self) -> dict[str, int]:
        """Counters for ``/health``."""
        return {"groups_judged": self.groups_judged, "incomplete_groups": self.incomplete_groups,
                "groups_open": len(self._open)}

    async def close(self) -> None:
        """Judge the open groups now and wait for every group in flight."""
        for key in list(self._open):
            self._flush(key, False)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

"""One reward object behind the TRL, OpenRLHF and veRL contracts.

A :class:`Reward` turns groups of responses to one prompt into rewards with a :class:`Judge`
(any backend, or a distilled head). Every group is judged in one listwise call (a group of one
is scored pointwise), and all groups of a call go to the backend together, so generative
backends batch them.

**Failure policy.** A verdict that cannot be parsed, or a backend error, never becomes a reward
silently. ``on_failure`` must be chosen explicitly:

* ``"none"`` or ``"skip"`` (the same policy; use the name that reads better): each failed
  sample's reward is ``None``, the way TRL and OpenRLHF mark a sample without a reward. TRL
  turns it into NaN and leaves the sample out of this function's reward; a GRPO group whose
  rewards are all ``None`` gets zero advantage, so it is skipped. OpenRLHF receives ``null``.
* a number: failed samples get that value (counted as ``fallback`` in ``stats``).
* ``"raise"``: raise :class:`RewardError` with the judge's problems.

A group is judged in one call, so a failure always covers the whole group (with several
weighted principles, a failure under any of them does).
A backend that fails as a whole (a server down) counts as ``backend_error`` for every group of
the call and follows the same policy. Counters are in :attr:`Reward.stats`.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from judge.core import Judge
from judge.errors import BackendError, ConfigError, InputError, JudgeError
from judge.messages import prompt_text, response_text
from judge.principles import Principle
from judge.rl.groups import SIZE_HINT, SPLIT_FIX, GroupSplitWarning, batch_spans, log_to_trl
from judge.rl.shaping import (
    check_length_penalty,
    check_reward_mode,
    check_weights,
    map_scores,
    mapped_scale,
    penalize_length,
    weighted_mean,
)
from judge.serve.openrlhf import format_response, parse_body
from judge.types import STATUSES, Judgment

OnFailure = Literal["none", "skip", "raise"] | float


class RewardError(JudgeError):
    """A judgment failed and the reward's policy is ``on_failure="raise"``."""


@dataclass(frozen=True)
class RewardGroup:
    """Responses to one prompt, judged together under one principle."""

    prompt: str
    responses: Sequence[str]
    principle: str | None = None


@dataclass(frozen=True)
class GroupOutcome:
    """One group's rewards, whether its judgment failed, its status and the rewards' range.

    ``status`` is the group's worst judge status (over its principles); ``scale`` is the range
    the rewards fall in, None when unbounded (group-z, a length penalty, or a reward head).
    """

    rewards: list[float | None]
    failed: bool
    status: str
    scale: tuple[float, float] | None


@dataclass
class RewardStats:
    """Counters since the reward was built (or last :meth:`reset`).

    Attributes:
        calls: calls to :meth:`Reward.score_groups` (TRL / OpenRLHF / veRL calls go through it).
        groups: groups judged.
        samples: responses seen.
        scored: responses that got a judged reward.
        failed: responses whose group's judgment failed.
        fallback: failed responses given the fixed ``on_failure`` value.
        none: responses returned as ``None`` (failed, or skipped with their group).
        split_groups: TRL groups that arrived in parts (see :mod:`judge.rl.groups`).
        by_status: group judgments per status (:data:`judge.types.STATUSES`).
    """

    calls: int = 0
    groups: int = 0
    samples: int = 0
    scored: int = 0
    failed: int = 0
    fallback: int = 0
    none: int = 0
    split_groups: int = 0
    by_status: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return {"calls": self.calls, "groups": self.groups, "samples": self.samples,
                "scored": self.scored, "failed": self.failed, "fallback": self.fallback,
                "none": self.none, "split_groups": self.split_groups,
                "by_status": dict(self.by_status)}


def check_on_failure(value: Any) -> OnFailure:
    """Validate a failure policy (a number given as text is accepted).

    Raises:
        ConfigError: naming the valid choices.
    """
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value in ("none", "skip", "raise"):
            return value  # type: ignore[return-value]
        try:
            return float(value)
        except ValueError:
            pass
    raise ConfigError(f"on_failure must be 'none', 'skip', 'raise' or a number, got {value!r}: "
                      "choose what a failed judgment becomes")


class Reward:
    """Rewards from a judge, callable as a TRL reward function.

    Args:
        judge: a :class:`Judge`, or a backend spec (``"head"``, ``"transformers:./judge"``).
        on_failure: what a failed judgment becomes (see the module docstring); required.
        principle: default principle (library id or text) for samples without one; falls back
            to the judge's own default.
        principle_column: the dataset column (TRL keyword argument) holding per-sample
            principles; ``None`` to ignore such a column.
        normalize: score-to-reward mapping within each group: ``none``, ``minmax``,
            ``group-rank`` (linear in rank), ``group-centered`` (linear, mean 0) or ``group-z``
            (see :mod:`judge.rl.shaping`).
        length_penalty: reward subtracted per character of a response beyond ``length_free``.
        length_free: characters allowed without penalty.
        principle_weights: judge every group under each of these principles (id or text →
            weight) and reward the weighted mean; replaces ``principle`` and per-sample
            principles.
        group_size: TRL only: GRPO's ``num_generations``. Runs of consecutive completions with
            the same prompt and principle are cut into groups of this size, and a run that is
            not a multiple of it (a group split across processes) is warned about once. By
            default each run is one group.
        name: the name TRL logs this reward under (``rewards/<name>/mean``).
        judge_options: options for a judge built from a spec (``seed``, ``permutations``,
            ``backend_options``...).

    Example:
        >>> from judge.backends.scripted import ScriptedBackend
        >>> reply = '{"scores": {"model-1": 5, "model-2": 2}, "best-to-worst": ["model-1", "model-2"]}'
        >>> judge = Judge(ScriptedBackend([reply]), principle="Prefer short answers.", shuffle=False)
        >>> reward = Reward(judge, on_failure="none")
        >>> reward(prompts=["2+2?", "2+2?"], completions=["4", "It is four."])
        [5.0, 2.0]
    """

    def __init__(self, judge: Judge | str, *, on_failure: OnFailure,
                 principle: str | Principle | None = None,
                 principle_column: str | None = "principle", normalize: str = "none",
                 length_penalty: float = 0.0, length_free: int = 0,
                 principle_weights: Mapping[str, float] | None = None,
                 group_size: int | None = None, name: str = "judge_reward",
                 judge_options: Mapping[str, Any] | None = None) -> None:
        self.on_failure: OnFailure = check_on_failure(on_failure)
        self.normalize = check_reward_mode(normalize)
        self.length_penalty, self.length_free = check_length_penalty(length_penalty,
                                                                     length_free)
        self.principle_weights = check_weights(principle_weights)
        if self.principle_weights is not None and principle is not None:
            raise ConfigError("give principle or principle_weights, not both (the weights "
                              "name every principle a sample is judged under)")
        if group_size is not None and (isinstance(group_size, bool)
                                       or not isinstance(group_size, int) or group_size < 1):
            raise ConfigError(f"group_size must be >= 1 (GRPO's num_generations), got "
                              f"{group_size!r}")
        if isinstance(judge, Judge):
            self.judge = judge
        else:
            self.judge = Judge(judge, **{"principle": principle, **dict(judge_options or {})})
        self.principle = principle
        self.principle_column = principle_column
        self.group_size = group_size
        self.__name__ = name
        self.stats = RewardStats()
        self._lock = threading.Lock()
        self._split_warned = False

    # ------------------------------------------------------------------ core
    def score_groups(self, groups: Sequence[RewardGroup | tuple[Any, ...] | Mapping[str, Any]]
                     ) -> list[list[float | None]]:
        """Rewards for each group's responses, in order.

        Args:
            groups: :class:`RewardGroup` objects, ``(principle, prompt, responses)`` tuples, or
                dicts with ``prompt``, ``responses`` and optionally ``principle``.

        Raises:
            RewardError: a judgment failed and ``on_failure="raise"``.
            ConfigError: a group has no principle and there is no default.
        """
        return [out.rewards for out in self.judge_groups(groups)]

    def judge_groups(self, groups: Sequence[RewardGroup | tuple[Any, ...] | Mapping[str, Any]]
                     ) -> list[GroupOutcome]:
        """Like :meth:`score_groups`, with each group's status, failure flag and scale."""
        coerced = [_coerce_group(g) for g in groups]
        plans = [self._plan(n, g) for n, g in enumerate(coerced)]
        items = [{"prompt": g.prompt, "responses": list(g.responses), "principle": p}
                 for g, plan in zip(coerced, plans, strict=True) for p, _ in plan]
        crash: Exception | None = None
        try:
            judgments: list[Judgment | None] = list(self.judge.rank(items)) if items else []
        except BackendError as exc:
            if self.on_failure == "raise":
                raise
            judgments, crash = [None] * len(items), exc
        out, pos = [], 0
        with self._lock:
            self.stats.calls += 1
            for g, plan in zip(coerced, plans, strict=True):
                weighted = [(w, judgments[pos + i]) for i, (_, w) in enumerate(plan)]
                pos += len(plan)
                out.append(self._outcome(g, weighted, crash))
        return out

    def _plan(self, n: int, g: RewardGroup) -> list[tuple[str | Principle | None, float]]:
        """The (principle, weight) pairs group ``n`` is judged under."""
        if not g.responses:
            raise ConfigError(f"group {n} has no responses")
        if self.principle_weights is not None:
            if g.principle:
                raise ConfigError(f"group {n} carries its own principle, but principle_weights "
                                  "name the principles to judge under: drop one (with TRL, "
                                  "Reward(principle_column=None) ignores the column)")
            return list(self.principle_weights.items())
        principle = g.principle or self.principle
        if principle is None and self.judge.principle is None:
            raise ConfigError("no principle: give one per sample (the "
                              f"'{self.principle_column}' column / label / extra_info) or "
                              "a default (Reward(principle=...))")
        return [(principle, 1.0)]

    def _outcome(self, g: RewardGroup, weighted: list[tuple[float, Judgment | None]],
                 crash: Exception | None) -> GroupOutcome:
        st, k = self.stats, len(g.responses)
        st.groups += 1
        st.samples += k
        statuses = [j.status if j is not None else "backend_error" for _, j in weighted]
        st.by_status.update(statuses)
        bad = next((n for n, (_, j) in enumerate(weighted)
                    if j is None or not j.parsed or j.scores is None), None)
        first = weighted[0][1]
        scale = mapped_scale(self.normalize, first.scale if first is not None else None)
        if self.length_penalty:
            scale = None
        if bad is None:
            st.scored += k
            mapped = [(w, map_scores([j.scores[c] for c in j.ids], self.normalize, j.scale))
                      for w, j in weighted if j is not None and j.scores is not None]
            rewards = penalize_length(weighted_mean(mapped), g.responses, self.length_penalty,
                                      self.length_free)
            # the least clean of the group's usable statuses (STATUSES runs ok, repaired, partial)
            status = max(statuses, key=STATUSES.index)
            return GroupOutcome(list(rewards), False, status, scale)
        st.failed += k
        status, j = statuses[bad], weighted[bad][1]
        if self.on_failure == "raise":
            why = "; ".join(j.problems) if j is not None and j.problems else str(crash)
            raise RewardError(f"the judge's verdict is {status}: {why} "
                              "(choose on_failure='none', 'skip' or a number to go on)")
        if isinstance(self.on_failure, float):
            st.fallback += k
            return GroupOutcome([self.on_failure] * k, True, status, scale)
        st.none += k
        return GroupOutcome([None] * k, True, status, scale)

    def reset(self) -> None:
        """Zero the counters."""
        with self._lock:
            self.stats = RewardStats()

    # ------------------------------------------------------------------ TRL
    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                 **kwargs: Any) -> list[float | None]:
        """TRL's reward-function contract: one reward per completion (``None`` = no reward).

        ``prompts`` and ``completions`` may be strings or chat messages; dataset columns come
        as keyword arguments (the principle column among them). GRPO places a prompt's
        generations next to each other; each run of consecutive completions with the same
        prompt and principle (cut into ``group_size`` pieces when set) is judged listwise in
        one call. A group that arrives in parts (split across processes: see
        :mod:`judge.rl.groups`) is warned about once, with the fix, and ranked in parts.
        With TRL's ``log_metric`` / ``log_extra`` present, judge status counts are logged
        (:func:`judge.rl.groups.log_to_trl`).
        """
        if len(prompts) != len(completions):
            raise ConfigError(f"got {len(prompts)} prompts for {len(completions)} completions")
        texts = [prompt_text(p) for p in prompts]
        answers = [response_text(c) for c in completions]
        column = kwargs.get(self.principle_column) if self.principle_column else None
        if column is not None and len(column) != len(texts):
            raise ConfigError(f"the '{self.principle_column}' column has {len(column)} values "
                              f"for {len(texts)} completions")
        principles = [(column[i] or None) if column is not None else None
                      for i in range(len(texts))]
        spans, split = batch_spans(list(zip(texts, principles, strict=True)), self.group_size)
        if split:
            with self._lock:
                self.stats.split_groups += len(split)
                first, self._split_warned = not self._split_warned, True
            if first:
                fix = SPLIT_FIX + (SIZE_HINT if self.group_size is None else "")
                warnings.warn(f"reward '{self.__name__}': a group reached the reward in parts "
                              f"and is ranked in parts ({split[0]}); {fix}. Warned once.",
                              GroupSplitWarning, stacklevel=2)
        groups = [RewardGroup(texts[a], answers[a:b], principles[a]) for a, b in spans]
        outcomes = self.judge_groups(groups)
        rewards = [r for out in outcomes for r in out.rewards]
        statuses = [out.status for (a, b), out in zip(spans, outcomes, strict=True)
                    for _ in range(a, b)]
        failed = [out.failed for (a, b), out in zip(spans, outcomes, strict=True)
                  for _ in range(a, b)]
        fallback = sum(failed) if isinstance(self.on_failure, float) else 0
        log_to_trl(kwargs, self.__name__, statuses, failed,
                   {"fallback": fallback, "none": sum(failed) - fallback,
                    "split_groups": len(split)})
        return rewards

    # ------------------------------------------------------------------ OpenRLHF
    def openrlhf(self, body: Mapping[str, Any], *,
                 labels_are_principles: bool = False) -> dict[str, Any]:
        """Answer an OpenRLHF remote-RM request (``{"query", "prompts", "labels"}``).

        Prompts, responses and principles are read exactly as ``judge serve``'s
        ``/get_reward`` reads them (:mod:`judge.serve.openrlhf`); a sample without a principle
        gets this reward's default. Samples of one request that share prompt and principle are
        judged listwise together (OpenRLHF sends one sample per request today, so most are
        scored pointwise). Choose a numeric ``on_failure`` for OpenRLHF, which cannot train on
        a ``null`` reward.

        Args:
            body: the decoded JSON request.
            labels_are_principles: treat a plain string label as the sample's principle.

        Returns:
            ``{"rewards", "scores" (rewards mapped to [0, 1]), "extra_logs"}`` with
            ``judge_failed`` and ``judge_exact_split`` per sample.

        Raises:
            InputError: the body does not have OpenRLHF's shape.
            PrincipleError: a label names a principle id that is not in the library.
        """
        samples = parse_body(body, labels_are_principles=labels_are_principles)
        members: dict[tuple[str, str | None], list[int]] = {}
        for n, s in enumerate(samples):
            members.setdefault((s.prompt, s.principle), []).append(n)
        groups = [RewardGroup(prompt, [samples[n].response for n in idx], principle)
                  for (prompt, principle), idx in members.items()]
        rewards: list[float | None] = [None] * len(samples)
        scales: list[tuple[float, float] | None] = [None] * len(samples)
        failed = [False] * len(samples)
        for idx, out in zip(members.values(), self.judge_groups(groups), strict=True):
            for n, value in zip(idx, out.rewards, strict=True):
                rewards[n], failed[n], scales[n] = value, out.failed, out.scale
        return format_response(samples, rewards, failed=failed, scales=scales)


def _coerce_group(g: RewardGroup | tuple[Any, ...] | Mapping[str, Any]) -> RewardGroup:
    if isinstance(g, RewardGroup):
        return g
    if isinstance(g, tuple):
        if len(g) != 3:
            raise InputError("a group tuple is (principle, prompt, responses)")
        principle, prompt, responses = g
        return RewardGroup(str(prompt), list(responses), principle)
    if isinstance(g, Mapping):
        if "prompt" not in g or "responses" not in g:
            raise InputError("a group needs 'prompt' and 'responses'")
        return RewardGroup(str(g["prompt"]), list(g["responses"]), g.get("principle"))
    raise InputError(f"a group must be a RewardGroup, tuple or dict, not {type(g).__name__}")


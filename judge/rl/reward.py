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

A group is judged in one call, so a failure always covers the whole group.
A backend that fails as a whole (a server down) counts as ``backend_error`` for every group of
the call and follows the same policy. Counters are in :attr:`Reward.stats`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from judge.core import Judge
from judge.errors import BackendError, ConfigError, InputError, JudgeError
from judge.label.normalize import check_mode, normalize_scores
from judge.messages import prompt_text, response_text
from judge.principles import Principle
from judge.serve.openrlhf import format_response, parse_body
from judge.types import Judgment

OnFailure = Literal["none", "skip", "raise"] | float


class RewardError(JudgeError):
    """A judgment failed and the reward's policy is ``on_failure="raise"``."""


@dataclass(frozen=True)
class RewardGroup:
    """Responses to one prompt, judged together under one principle."""

    prompt: str
    responses: Sequence[str]
    principle: str | None = None


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
        by_status: group judgments per status (:data:`judge.types.STATUSES`).
    """

    calls: int = 0
    groups: int = 0
    samples: int = 0
    scored: int = 0
    failed: int = 0
    fallback: int = 0
    none: int = 0
    by_status: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return {"calls": self.calls, "groups": self.groups, "samples": self.samples,
                "scored": self.scored, "failed": self.failed, "fallback": self.fallback,
                "none": self.none, "by_status": dict(self.by_status)}


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
            principles.
        normalize: reward normalisation within each group (``none``, ``group-z``,
            ``group-rank``, ``minmax``; see :mod:`judge.label.normalize`).
        group_size: TRL only: split completions into consecutive groups of this size (GRPO's
            ``num_generations``). By default consecutive completions that share prompt and
            principle form a group.
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
                 group_size: int | None = None, name: str = "judge_reward",
                 judge_options: Mapping[str, Any] | None = None) -> None:
        self.on_failure: OnFailure = check_on_failure(on_failure)
        self.normalize = check_mode(normalize)
        if group_size is not None and group_size < 1:
            raise ConfigError(f"group_size must be >= 1, got {group_size}")
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
        return [rewards for rewards, _, _ in self._judge_groups(groups)]

    def _judge_groups(self, groups: Sequence[RewardGroup | tuple[Any, ...] | Mapping[str, Any]]
                      ) -> list[tuple[list[float | None], bool, tuple[float, float] | None]]:
        """(rewards, failed, the rewards' scale or None when unbounded) per group."""
        coerced = [_coerce_group(g) for g in groups]
        items: list[dict[str, Any]] = [
            {"prompt": g.prompt, "responses": list(g.responses),
             "principle": g.principle or self.principle} for g in coerced]
        for n, item in enumerate(items):
            if not item["responses"]:
                raise ConfigError(f"group {n} has no responses")
            if item["principle"] is None and self.judge.principle is None:
                raise ConfigError("no principle: give one per sample (the "
                                  f"'{self.principle_column}' column / label / extra_info) or "
                                  "a default (Reward(principle=...))")
        crash: Exception | None = None
        try:
            judgments: list[Judgment | None] = list(self.judge.rank(items)) if items else []
        except BackendError as exc:
            if self.on_failure == "raise":
                raise
            judgments, crash = [None] * len(items), exc
        with self._lock:
            self.stats.calls += 1
            return [self._rewards(j, len(item["responses"]), crash)
                    for item, j in zip(items, judgments, strict=True)]

    def _rewards(self, j: Judgment | None, k: int, crash: Exception | None
                 ) -> tuple[list[float | None], bool, tuple[float, float] | None]:
        st = self.stats
        st.groups += 1
        st.samples += k
        status = j.status if j is not None else "backend_error"
        st.by_status[status] += 1
        scale = _reward_scale(j.scale if j is not None else None, self.normalize)
        if j is not None and j.parsed and j.scores is not None:
            st.scored += k
            scores = [j.scores[c] for c in j.ids]
            return list(normalize_scores(scores, self.normalize, j.scale)), False, scale
        st.failed += k
        if self.on_failure == "raise":
            why = "; ".join(j.problems) if j is not None and j.problems else str(crash)
            raise RewardError(f"the judge's verdict is {status}: {why} "
                              "(choose on_failure='none', 'skip' or a number to go on)")
        if isinstance(self.on_failure, float):
            st.fallback += k
            return [self.on_failure] * k, True, scale
        st.none += k
        return [None] * k, True, scale

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
        prompt and principle (or each ``group_size`` chunk) is judged listwise in one call.

        With several processes, TRL calls each one with its own slice of the batch, which may
        hold part of a group: scores stay on the judge's scale, but ``group-*`` normalisation
        then covers the slice only, so keep ``normalize="none"`` there (GRPO normalises
        rewards per group itself).
        """
        if len(prompts) != len(completions):
            raise ConfigError(f"got {len(prompts)} prompts for {len(completions)} completions")
        texts = [prompt_text(p) for p in prompts]
        answers = [response_text(c) for c in completions]
        column = kwargs.get(self.principle_column) if self.principle_column else None
        principles = [(column[i] or None) if column is not None else None
                      for i in range(len(texts))]
        spans = self._spans(texts, principles)
        groups = [RewardGroup(texts[a], answers[a:b], principles[a]) for a, b in spans]
        before = self.stats.failed
        rewards = [r for group in self.score_groups(groups) for r in group]
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and texts:
            log_metric(f"{self.__name__}/failed_frac", (self.stats.failed - before) / len(texts))
        return rewards

    def _spans(self, texts: list[str], principles: list[str | None]) -> list[tuple[int, int]]:
        n = len(texts)
        if self.group_size is not None:
            if n % self.group_size:
                raise ConfigError(f"{n} completions do not split into groups of "
                                  f"{self.group_size} (group_size)")
            spans = [(a, a + self.group_size) for a in range(0, n, self.group_size)]
            for a, b in spans:
                if len({(texts[i], principles[i]) for i in range(a, b)}) > 1:
                    raise ConfigError(f"completions {a}-{b - 1} do not share one prompt and "
                                      f"principle; is group_size={self.group_size} right?")
            return spans
        spans, start = [], 0
        for i in range(1, n + 1):
            if i == n or (texts[i], principles[i]) != (texts[start], principles[start]):
                spans.append((start, i))
                start = i
        return spans

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
        for idx, (values, group_failed, scale) in zip(members.values(),
                                                      self._judge_groups(groups), strict=True):
            for n, value in zip(idx, values, strict=True):
                rewards[n], failed[n], scales[n] = value, group_failed, scale
        return format_response(samples, rewards, failed=failed, scales=scales)


def _reward_scale(scale: tuple[float, float] | None, normalize: str
                  ) -> tuple[float, float] | None:
    """The range rewards fall in after normalisation (None when unbounded)."""
    if normalize in ("minmax", "group-rank"):
        return (0.0, 1.0)
    if normalize == "group-z":
        return None
    return scale


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


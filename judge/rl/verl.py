"""veRL's custom reward function, backed by a :class:`~judge.rl.reward.Reward`.

Point veRL's config at this file::

    custom_reward_function:
      path: /path/to/site-packages/judge/rl/verl.py   # python -c "import judge.rl.verl as m; print(m.__file__)"
      name: compute_score
      reward_kwargs:                 # optional; each overrides its environment variable
        backend: head                # JUDGE_REWARD_BACKEND (default: head)
        principle: correct-then-concise   # JUDGE_REWARD_PRINCIPLE
        on_failure: 0.0              # JUDGE_REWARD_ON_FAILURE (required: a number or "raise")
        normalize: none              # JUDGE_REWARD_NORMALIZE (group modes need the batch manager)

Each row's ``extra_info`` must carry the prompt (``prompt``, ``question`` or ``query``) and may
carry its own ``principle``. ``ground_truth`` is not used by the judge.

veRL's per-sample managers call ``compute_score(data_source, solution_str, ground_truth,
extra_info)``: the response is scored pointwise. The ``batch`` manager calls
``compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=)``: consecutive
responses to the same prompt (veRL keeps a prompt's rollouts together) are ranked listwise in one
call, and one float per response comes back.

veRL needs a number for every sample (its batch manager turns anything else into 0.0 without a
word), so ``on_failure`` must be a number or ``"raise"`` here; ``"none"`` and ``"skip"`` are
refused. The reward object is built on first use and cached per configuration;
:func:`get_reward` returns it (its ``stats`` count scored and failed samples).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from judge.errors import ConfigError, InputError
from judge.messages import prompt_text
from judge.rl.reward import Reward, RewardGroup, check_on_failure

_PROMPT_KEYS = ("prompt", "question", "query")
_CACHE: dict[str, Reward] = {}
_LOCK = threading.Lock()


def get_reward(*, backend: str | None = None, principle: str | None = None,
               on_failure: Any = None, normalize: str | None = None,
               backend_options: Mapping[str, Any] | str | None = None) -> Reward:
    """The cached :class:`Reward` for these settings (environment variables fill the gaps).

    Raises:
        ConfigError: ``on_failure`` is missing or not usable with veRL.
    """
    spec = backend or os.environ.get("JUDGE_REWARD_BACKEND") or "head"
    default = principle or os.environ.get("JUDGE_REWARD_PRINCIPLE") or None
    failure = on_failure if on_failure is not None else os.environ.get("JUDGE_REWARD_ON_FAILURE")
    if failure is None:
        raise ConfigError("veRL reward: choose what a failed judgment becomes: set "
                          "JUDGE_REWARD_ON_FAILURE (a number such as 0, or 'raise') or "
                          "reward_kwargs.on_failure")
    policy = check_on_failure(failure)
    if policy in ("none", "skip"):
        raise ConfigError(f"veRL reward: on_failure='{policy}' is not possible, since veRL needs "
                          "a number for every sample; use a number (e.g. 0) or 'raise'")
    mode = normalize or os.environ.get("JUDGE_REWARD_NORMALIZE") or "none"
    options = backend_options if backend_options is not None else \
        os.environ.get("JUDGE_REWARD_BACKEND_OPTIONS")
    if isinstance(options, str):
        try:
            options = json.loads(options)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"JUDGE_REWARD_BACKEND_OPTIONS must be a JSON object ({exc.msg})"
                              ) from None
    if options is not None and not isinstance(options, Mapping):
        raise ConfigError("backend options must be a JSON object, e.g. '{\"batch_size\": 8}'")
    key = json.dumps([spec, default, policy, mode, dict(options or {})], sort_keys=True)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = Reward(spec, on_failure=policy, principle=default, normalize=mode,
                                 name="judge_verl",
                                 judge_options={"backend_options": dict(options or {})})
        return _CACHE[key]


def clear_cache() -> None:
    """Close and forget the cached rewards (tests, or to pick up new environment variables)."""
    with _LOCK:
        for reward in _CACHE.values():
            reward.judge.close()
        _CACHE.clear()


def _prompt_and_principle(extra_info: Any, n: int | None = None) -> tuple[str, str | None]:
    where = "extra_info" if n is None else f"extra_infos[{n}]"
    if not isinstance(extra_info, Mapping):
        raise InputError(f"{where} must be a dict with the prompt (one of "
                         f"{', '.join(_PROMPT_KEYS)}); add it when building the veRL parquet")
    for key in _PROMPT_KEYS:
        value = extra_info.get(key)
        if value is not None:
            principle = extra_info.get("principle")
            return prompt_text(value), (str(principle) if principle else None)
    raise InputError(f"{where} has no prompt: add one of {', '.join(_PROMPT_KEYS)} to "
                     "extra_info when building the veRL parquet")


_SETTINGS = ("backend", "principle", "on_failure", "normalize", "backend_options")


def compute_score(data_source: Any = None, solution_str: str | None = None,
                  ground_truth: Any = None, extra_info: Any = None, *,
                  data_sources: Sequence[Any] | None = None,
                  solution_strs: Sequence[str] | None = None,
                  ground_truths: Sequence[Any] | None = None,
                  extra_infos: Sequence[Any] | None = None,
                  **kwargs: Any) -> float | list[float]:
    """veRL reward: one float per response (a list when called with the batch arguments).

    Args:
        data_source: veRL's dataset name (unused).
        solution_str: the decoded response.
        ground_truth: the reference answer (unused by the judge).
        extra_info: the row's extra info; must hold the prompt, may hold ``principle``.
        data_sources, solution_strs, ground_truths, extra_infos: the batch form.
        **kwargs: ``reward_kwargs`` from the veRL config (``backend``, ``principle``,
            ``on_failure``, ``normalize``, ``backend_options``); anything else veRL passes is
            ignored.

    Raises:
        ConfigError: settings missing or invalid.
        InputError: a row's ``extra_info`` lacks the prompt.
    """
    reward = get_reward(**{k: kwargs[k] for k in _SETTINGS if k in kwargs})
    if solution_strs is not None:
        infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
        if len(infos) != len(solution_strs):
            raise InputError(f"{len(solution_strs)} solution_strs but {len(infos)} extra_infos")
        keys = [_prompt_and_principle(info, n) for n, info in enumerate(infos)]
        spans, start = [], 0
        for i in range(1, len(keys) + 1):
            if i == len(keys) or keys[i] != keys[start]:
                spans.append((start, i))
                start = i
        groups = [RewardGroup(keys[a][0], list(solution_strs[a:b]), keys[a][1])
                  for a, b in spans]
        return [_number(r) for group in reward.score_groups(groups) for r in group]
    if solution_str is None:
        raise InputError("compute_score needs solution_str (or the batch form solution_strs)")
    prompt, principle = _prompt_and_principle(extra_info)
    return _number(reward.score_groups([RewardGroup(prompt, [solution_str], principle)])[0][0])


def _number(value: float | None) -> float:
    if value is None:  # cannot happen: on_failure is a number or "raise" here
        raise ConfigError("veRL reward: a failed judgment produced no number")
    return float(value)

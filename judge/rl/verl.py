"""veRL's custom reward function, backed by a :class:`~judge.rl.reward.Reward`.

veRL 0.9 (``main_ppo``) reads the function from ``reward.custom_reward_function``; a top-level
``custom_reward_function:`` block is only migrated by ``fully_async_main`` and is otherwise
ignored without a word::

    reward:
      custom_reward_function:
        path: pkg://judge.rl.verl          # or the file: python -c "import judge.rl.verl as m; print(m.__file__)"
        name: compute_score                # or compute_score_async
        reward_kwargs:                     # each overrides its environment variable
          backend: head                    # JUDGE_REWARD_BACKEND (default: head)
          principle: correct-then-concise  # JUDGE_REWARD_PRINCIPLE
          on_failure: 0.0                  # JUDGE_REWARD_ON_FAILURE (required: a number or "raise")
          normalize: none                  # JUDGE_REWARD_NORMALIZE (none or minmax: one sample)
          backend_options: {batch_size: 8} # JUDGE_REWARD_BACKEND_OPTIONS (a JSON object)

On the command line the block has no ``reward_kwargs`` key yet, so add it with a ``+``:
``+reward.custom_reward_function.reward_kwargs.on_failure=0``.

The contract, as veRL 0.9.1's source has it (``verl/trainer/ppo/reward.py`` and
``verl/experimental/reward_loop/``): ``get_custom_reward_fn`` loads ``name`` from ``path``
(``pkg://a.b`` is imported, anything else is loaded as a file) and merges ``reward_kwargs`` over
the call's keywords; ``inspect.iscoroutinefunction`` on the loaded function picks the awaited
path. Every reward manager (naive, dapo, gdpo, limited) then calls it once per sample with
``data_source=, solution_str=, ground_truth=, extra_info=`` (plus ``reward_router_address=``
and ``reward_model_tokenizer=`` when a reward model router runs); a sync function runs in the
worker's thread pool. A dict result's ``score`` is the reward and *every* key becomes a
per-sample column, the column names taken from the first sample: so each call here returns
the same keys, ``score`` and ``judge_failed`` (0.0 or 1.0; its mean appears in veRL's
validation metrics and in dumped rollouts). The ``remote`` manager refuses async functions.

Each row's ``extra_info`` must carry the prompt (``prompt``, ``question`` or ``query``) and may
carry its own ``principle``; ``ground_truth`` is not used by the judge. Each sample is scored on
its own (pointwise): veRL never hands over a group.

**One judge per node, groups ranked together**: with ``server`` in ``reward_kwargs`` (or
``JUDGE_REWARD_SERVER``) no head is loaded in the workers; each sample is POSTed to a
``judge serve`` started once per node, whose ``/group_score`` gathers a prompt's samples from
every worker and judges them listwise in one call::

        reward_kwargs:
          server: http://127.0.0.1:8000   # JUDGE_REWARD_SERVER
          group_size: 8                   # actor_rollout_ref.rollout.n (else the server's)
          on_failure: 0.0                 # the server unreachable or answering an error
          # principle, token (JUDGE_SERVE_TOKEN), timeout (seconds, default 170)

A row's group is ``extra_info["uid"]`` (or ``group``) when present, else its prompt and
principle. The server flags a sample no judgment could score (``judge_failed: 1.0``, its
``--unparsed-reward``).

A failed judgment gets the ``on_failure`` number with ``judge_failed: 1.0``; ``"none"`` and
``"skip"`` are refused, since veRL needs a number for every sample. The reward object is built
on first use and cached per configuration (per veRL reward worker); :func:`get_reward` returns
it (its ``stats`` count scored and failed samples).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from judge.errors import BackendError, ConfigError, InputError
from judge.messages import prompt_text
from judge.rl.reward import OnFailure, Reward, RewardGroup, check_on_failure

_PROMPT_KEYS = ("prompt", "question", "query")
_SETTINGS = ("backend", "principle", "on_failure", "normalize", "backend_options")
_SERVER_SETTINGS = ("server", "principle", "on_failure", "group_size", "token", "timeout")
_GROUP_KEYS = ("uid", "group")
# Keywords veRL's reward managers add to the call when a reward-model router runs.
_VERL_KEYWORDS = ("reward_router_address", "reward_model_tokenizer")
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
    policy = _failure_policy(on_failure)
    mode = normalize or os.environ.get("JUDGE_REWARD_NORMALIZE") or "none"
    if mode.startswith("group-"):
        raise ConfigError(f"veRL reward: normalize='{mode}' needs a group, but veRL scores one "
                          "sample per call; use 'none' or 'minmax' (veRL's GRPO normalises "
                          "per group itself)")
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
    key = json.dumps([spec, default, policy, mode, dict(options or {})], sort_keys=True,
                     default=str)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = Reward(spec, on_failure=policy, principle=default, normalize=mode,
                                 name="judge_verl",
                                 judge_options={"backend_options": dict(options or {})})
        return _CACHE[key]


def _failure_policy(on_failure: Any) -> OnFailure:
    failure = on_failure if on_failure is not None else os.environ.get("JUDGE_REWARD_ON_FAILURE")
    if failure is None:
        raise ConfigError("veRL reward: choose what a failed judgment becomes: set "
                          "reward.custom_reward_function.reward_kwargs.on_failure (a number "
                          "such as 0, or 'raise') or JUDGE_REWARD_ON_FAILURE")
    policy = check_on_failure(failure)
    if policy in ("none", "skip"):
        raise ConfigError(f"veRL reward: on_failure='{policy}' is not possible, since veRL needs "
                          "a number for every sample; use a number (e.g. 0) or 'raise'")
    return policy


def clear_cache() -> None:
    """Close and forget the cached rewards (tests, or to pick up new environment variables)."""
    with _LOCK:
        for reward in _CACHE.values():
            reward.judge.close()
        _CACHE.clear()


def _prompt_and_principle(extra_info: Any) -> tuple[str, str | None]:
    if not isinstance(extra_info, Mapping):
        raise InputError(f"extra_info must be a dict with the prompt (one of "
                         f"{', '.join(_PROMPT_KEYS)}), got {type(extra_info).__name__}; add it "
                         "when building the veRL parquet")
    for key in _PROMPT_KEYS:
        value = extra_info.get(key)
        if value is not None:
            principle = extra_info.get("principle")
            return prompt_text(value), (str(principle) if principle else None)
    raise InputError(f"extra_info has no prompt: add one of {', '.join(_PROMPT_KEYS)} to "
                     "extra_info when building the veRL parquet")


def compute_score(data_source: Any = None, solution_str: str | None = None,
                  ground_truth: Any = None, extra_info: Any = None,
                  **kwargs: Any) -> dict[str, float]:
    """veRL reward for one response: ``{"score": float, "judge_failed": 0.0 or 1.0}``.

    Args:
        data_source: veRL's dataset name (unused).
        solution_str: the decoded response.
        ground_truth: the reference answer (unused by the judge).
        extra_info: the row's extra info; must hold the prompt, may hold ``principle``.
        **kwargs: ``reward_kwargs`` from the veRL config (``backend``, ``principle``,
            ``on_failure``, ``normalize``, ``backend_options``), and the keywords veRL itself adds
            (``reward_router_address``, ``reward_model_tokenizer``; unused). Anything else is
            refused, so a misspelt setting is not lost.

    Raises:
        ConfigError: settings missing, invalid or unknown.
        InputError: the row's ``extra_info`` lacks the prompt.
    """
    call = _server_call(solution_str, extra_info, kwargs)
    if call is not None:
        try:
            got = _sync_client().post(call.url, json=call.body, headers=call.headers,
                                      timeout=call.timeout)
        except Exception as exc:  # noqa: BLE001 - any transport failure is the server's
            return call.failed(f"{type(exc).__name__}: {exc}")
        return call.answer(got.status_code, got.text)
    unknown = sorted(set(kwargs) - set(_SETTINGS) - set(_VERL_KEYWORDS))
    if unknown:
        raise ConfigError(f"veRL reward: unknown reward_kwargs {unknown}; the settings are "
                          f"{', '.join(_SETTINGS)}")
    reward = get_reward(**{k: kwargs[k] for k in _SETTINGS if k in kwargs})
    if not isinstance(solution_str, str):
        raise InputError(f"compute_score needs solution_str (the decoded response), got "
                         f"{type(solution_str).__name__}")
    prompt, principle = _prompt_and_principle(extra_info)
    out = reward.judge_groups([RewardGroup(prompt, [solution_str], principle)])[0]
    value = out.rewards[0]
    if value is None:  # cannot happen: on_failure is a number or "raise" here
        raise ConfigError("veRL reward: a failed judgment produced no number")
    return {"score": float(value), "judge_failed": 1.0 if out.failed else 0.0}


async def compute_score_async(data_source: Any = None, solution_str: str | None = None,
                              ground_truth: Any = None, extra_info: Any = None,
                              **kwargs: Any) -> dict[str, float]:
    """:func:`compute_score` for veRL's awaited path (``name: compute_score_async``).

    The judge call runs in a worker thread (with ``server``: an awaited HTTP call), so the
    reward worker's event loop keeps serving other samples while the judge answers.
    """
    call = _server_call(solution_str, extra_info, kwargs)
    if call is not None:
        try:
            got = await _async_client().post(call.url, json=call.body, headers=call.headers,
                                             timeout=call.timeout)
        except Exception as exc:  # noqa: BLE001 - any transport failure is the server's
            return call.failed(f"{type(exc).__name__}: {exc}")
        return call.answer(got.status_code, got.text)
    return await asyncio.to_thread(compute_score, data_source, solution_str, ground_truth,
                                   extra_info, **kwargs)


_CLIENTS: dict[Any, Any] = {}
_CLIENTS_LOCK = threading.Lock()
# a forked worker must not share its parent's open connections
os.register_at_fork(after_in_child=_CLIENTS.clear)


def _pool(httpx: Any) -> Any:
    # veRL runs many samples at once per worker; keep connections open between them
    return httpx.Limits(max_connections=64, max_keepalive_connections=32)


def _sync_client() -> Any:
    """One pooled HTTP client per process for the server path (keep-alive across samples)."""
    import httpx

    with _CLIENTS_LOCK:
        client = _CLIENTS.get("sync")
        if client is None:
            client = _CLIENTS["sync"] = httpx.Client(limits=_pool(httpx))
        return client


def _async_client() -> Any:
    """One pooled async client per event loop (a client cannot cross loops); clients of
    loops that have closed are dropped."""
    import httpx

    loop = asyncio.get_running_loop()
    with _CLIENTS_LOCK:
        for key in [k for k in _CLIENTS if k != "sync" and k.is_closed()]:
            del _CLIENTS[key]
        client = _CLIENTS.get(loop)
        if client is None:
            client = _CLIENTS[loop] = httpx.AsyncClient(limits=_pool(httpx))
        return client


class _ServerCall:
    """One sample's POST to a group reward server (``judge serve``'s ``/group_score``).

    A plain class: veRL may load this file as a file, outside ``sys.modules``, where a
    dataclass cannot be built."""

    def __init__(self, url: str, body: dict[str, Any], headers: dict[str, str], timeout: float,
                 on_failure: OnFailure) -> None:
        self.url, self.body, self.headers = url, body, headers
        self.timeout, self.on_failure = timeout, on_failure

    def failed(self, why: str) -> dict[str, float]:
        if self.on_failure == "raise":
            raise BackendError(f"veRL reward: the judge server {self.url} failed: {why}")
        return {"score": float(self.on_failure), "judge_failed": 1.0}

    def answer(self, status: int, text: str) -> dict[str, float]:
        try:
            out = json.loads(text)
        except json.JSONDecodeError:
            out = None
        if status != 200 or not isinstance(out, Mapping) or not isinstance(
                out.get("score"), (int, float)):
            error = out.get("error") if isinstance(out, Mapping) else text[:200]
            return self.failed(f"HTTP {status}: {error}")
        if out.get("judge_failed"):  # the server's neutral value: this side's on_failure decides
            return self.failed(f"the judge could not score the sample ({out.get('status')})")
        return {"score": float(out["score"]), "judge_failed": 0.0}


def _server_call(solution_str: Any, extra_info: Any,
                 kwargs: Mapping[str, Any]) -> _ServerCall | None:
    """The request to send when a group reward server is configured, else None.

    Raises:
        ConfigError: settings that do not apply to a server (``backend``...) or are unknown.
        InputError: no response, or no prompt in ``extra_info``.
    """
    server = kwargs.get("server") or os.environ.get("JUDGE_REWARD_SERVER")
    if not server:
        return None
    unknown = sorted(set(kwargs) - set(_SERVER_SETTINGS) - set(_VERL_KEYWORDS))
    if unknown:
        raise ConfigError(f"veRL reward: {unknown} do not apply with a judge server (it has its "
                          f"own backend); the settings are {', '.join(_SERVER_SETTINGS)}")
    if not isinstance(solution_str, str):
        raise InputError(f"compute_score needs solution_str (the decoded response), got "
                         f"{type(solution_str).__name__}")
    prompt, principle = _prompt_and_principle(extra_info)
    body: dict[str, Any] = {"prompt": prompt, "response": solution_str}
    if principle or kwargs.get("principle") or os.environ.get("JUDGE_REWARD_PRINCIPLE"):
        body["principle"] = principle or kwargs.get("principle") or \
            os.environ.get("JUDGE_REWARD_PRINCIPLE")
    group = next((extra_info[k] for k in _GROUP_KEYS if extra_info.get(k) is not None), None)
    if group is not None:
        body["group"] = str(group)
    if kwargs.get("group_size") is not None:
        body["group_size"] = int(kwargs["group_size"])
    token = kwargs.get("token") or os.environ.get("JUDGE_SERVE_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return _ServerCall(str(server).rstrip("/") + "/group_score", body, headers,
                       float(kwargs.get("timeout") or 170.0),
                       _failure_policy(kwargs.get("on_failure")))

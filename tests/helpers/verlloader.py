"""veRL 0.9.1's custom-reward loader and per-sample call, for tests.

veRL cannot be imported here: its package ``__init__`` imports ray (and tensordict, hydra...),
which this project does not install. So:

* when veRL's files are on the path (``importlib.util.find_spec("verl")`` finds them without
  importing), its own ``load_extern_object`` (``verl/utils/import_utils.py``, stdlib only) and
  ``get_custom_reward_fn`` (``verl/trainer/ppo/reward.py``, the function's source compiled on
  its own) are used verbatim;
* otherwise a replica written from that source (0.9.1) stands in.

The reward manager's call and result handling (``NaiveRewardManager.run_single``) and the
reward loop's column building (``RewardLoopWorker``) need ``DataProto`` and are replicated.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import importlib.util
import inspect
import os
import sys
import types
from functools import partial
from pathlib import Path
from typing import Any


class Cfg(dict):
    """The attribute access veRL's code uses on its OmegaConf config."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return Cfg(value) if isinstance(value, dict) else value


def verl_dir() -> Path | None:
    """veRL's package directory, found without importing it (None when absent)."""
    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


# --------------------------------------------------------------------------- replica
def _replica_load_extern_object(module_path: str, object_name: str) -> object:
    """``verl.utils.import_utils.load_extern_object`` + ``load_module`` (0.9.1)."""
    if module_path.startswith("pkg://"):
        module: Any = importlib.import_module(module_path[len("pkg://"):].replace("/", "."))
    else:
        module_path = module_path.removeprefix("file://")
        if not os.path.exists(module_path):
            raise FileNotFoundError(f"Custom module file not found: {module_path=}")
        spec = importlib.util.spec_from_file_location(
            f"custom_module_{hash(os.path.abspath(module_path))}", module_path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    if not hasattr(module, object_name):
        raise AttributeError(f"Object not found in module: {object_name=}, {module_path=}.")
    return getattr(module, object_name)


def _call_with_kwargs(raw_fn, extra_kwargs, *args, **kwargs):  # type: ignore[no-untyped-def]
    return raw_fn(*args, **{**kwargs, **extra_kwargs})


async def _call_with_kwargs_async(raw_fn, extra_kwargs, *args, **kwargs):  # type: ignore[no-untyped-def]
    return await raw_fn(*args, **{**kwargs, **extra_kwargs})


def _replica_get_custom_reward_fn(config: Cfg) -> Any:
    """``verl.trainer.ppo.reward.get_custom_reward_fn`` (0.9.1)."""
    reward_fn_config = config.reward.get("custom_reward_function") or {}
    module_path = reward_fn_config.get("path")
    if not module_path:
        return None
    fn_name = reward_fn_config.get("name")
    assert fn_name is not None
    raw_fn = _replica_load_extern_object(module_path, fn_name)
    reward_kwargs = dict(reward_fn_config.get("reward_kwargs", {}))
    if not inspect.iscoroutinefunction(raw_fn):
        return partial(_call_with_kwargs, raw_fn, reward_kwargs)
    return partial(_call_with_kwargs_async, raw_fn, reward_kwargs)


# --------------------------------------------------------------------------- veRL's own
def _real_get_custom_reward_fn(root: Path) -> Any:
    """veRL's ``get_custom_reward_fn``, compiled from its source with its import of
    ``verl.utils.import_utils`` served by that file alone (no ``verl/__init__``)."""
    spec = importlib.util.spec_from_file_location("_verl_import_utils",
                                                  root / "utils" / "import_utils.py")
    assert spec is not None and spec.loader is not None
    import_utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(import_utils)
    tree = ast.parse((root / "trainer" / "ppo" / "reward.py").read_text(encoding="utf-8"))
    wanted = {"_call_with_kwargs", "_call_with_kwargs_async", "get_custom_reward_fn"}
    tree.body = [n for n in tree.body
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in wanted]
    assert {n.name for n in tree.body} == wanted, "veRL's reward.py changed shape"
    namespace: dict[str, Any] = {"inspect": inspect, "partial": partial, "Optional": Any,
                                 "RawRewardFn": Any, "DictConfig": Any}
    exec(compile(tree, str(root / "trainer/ppo/reward.py"), "exec"), namespace)  # noqa: S102 (veRL's code)
    real = namespace["get_custom_reward_fn"]

    def get_custom_reward_fn(config: Cfg) -> Any:
        stubs = {"verl": types.ModuleType("verl"), "verl.utils": types.ModuleType("verl.utils"),
                 "verl.utils.import_utils": import_utils}
        saved = {k: sys.modules.get(k) for k in stubs}
        sys.modules.update(stubs)
        try:
            return real(config)
        finally:
            for k, v in saved.items():
                if v is None:
                    sys.modules.pop(k, None)
                else:
                    sys.modules[k] = v

    return get_custom_reward_fn


def get_custom_reward_fn(config: dict) -> tuple[Any, str]:
    """The loaded reward function and which loader loaded it (``"veRL"`` or ``"replica"``)."""
    root = verl_dir()
    if root is not None:
        return _real_get_custom_reward_fn(root)(Cfg(config)), "veRL"
    return _replica_get_custom_reward_fn(Cfg(config)), "replica"


# --------------------------------------------------------------------------- the call
async def run_single(compute_score: Any, *, data_source: str, solution_str: str,
                     ground_truth: Any, extra_info: dict) -> dict:
    """``NaiveRewardManager.run_single`` from the decoded response on (0.9.1)."""
    extra_info = dict(extra_info)
    extra_info["num_turns"] = None
    extra_info["rollout_reward_scores"] = {}
    kwargs = {"data_source": data_source, "solution_str": solution_str,
              "ground_truth": ground_truth, "extra_info": extra_info}
    if inspect.iscoroutinefunction(compute_score):
        result = await compute_score(**kwargs)
    else:
        result = await asyncio.get_running_loop().run_in_executor(
            None, lambda: compute_score(**kwargs))
    reward_extra_info = {}
    if isinstance(result, dict):
        score = result["score"]
        reward_extra_info.update(result)
    else:
        score = result
        reward_extra_info["acc"] = score
    return {"reward_score": score, "reward_extra_info": reward_extra_info}


def columns(outputs: list[dict]) -> dict[str, list]:
    """The reward loop's per-sample columns: keys from the first sample, read from every one
    (a missing key is a KeyError there)."""
    infos = [o.get("reward_extra_info", {}) for o in outputs]
    return {key: [info[key] for info in infos] for key in infos[0]}

"""The Ray engine: rows become a Ray Dataset; long-lived actors each hold one resource.

Each batch travels as one dataset row, a JSON string (column ``json``), in the pyarrow batch
format: Ray's numpy format would store list and nested columns as pickled objects, and an Arrow
struct column would merge every row's keys (a ``scores`` map per row) into one type. Batches are
cut in input order exactly as the local engine cuts them. The actor pool
(:class:`ray.data.ActorPoolStrategy`) starts ``workers`` actors; each builds its resource once
from the picklable spec. Actors are restarted when their process dies and the batch it held is
run again (Ray Data's pool defaults: ``max_restarts=-1``, ``max_task_retries=-1``); a batch's
output reaches the driver once, when it has finished. A :class:`~judge.errors.JudgeError` raised by
a batch (a backend down as a whole) stops the run on the driver as the same error class (Ray
itself would pass on only its text).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterable
from itertools import islice
from typing import Any

import judge.errors as judge_errors
from judge.engine.base import BatchFn, Engine, EngineOptions, OnBatch, ResourceSpec, Row
from judge.errors import BackendUnavailable, ConfigError, JudgeError, missing_dependency

COLUMN = "json"
#: Seconds to wait for a TCP connection to a remote head before giving up.
CONNECT_TIMEOUT = 5.0


def import_ray() -> Any:
    """The ``ray`` module with Ray Data.

    Raises:
        MissingDependency: the ``ray`` extra is not installed.
    """
    try:
        import ray
        import ray.data
    except ImportError:
        raise missing_dependency("--engine ray", "ray[data]", "ray") from None
    return ray


def connect(address: str | None) -> Any:
    """Join (or start) the Ray cluster at ``address``; a cluster joined earlier in this process
    is reused.

    Raises:
        MissingDependency: no ``ray`` extra.
        BackendUnavailable: the address cannot be reached.
    """
    ray = import_ray()
    target = address  # None: Ray joins a cluster started on this node, else starts one
    if target not in (None, "auto", "local"):
        _check_reachable(str(target))
    if ray.is_initialized():
        return ray
    try:
        ray.init(address=target, logging_level=logging.WARNING, include_dashboard=False,
                 configure_logging=True)
    except ConnectionError as exc:
        raise BackendUnavailable(
            f"--ray-address {address}: no Ray cluster there ({_first_line(exc)}); start one "
            "with `ray start --head`, or pass --ray-address local to start one in this "
            "process") from None
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False  # the CLI prints its own
    return ray


def _check_reachable(address: str) -> None:
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"--ray-address {address}: expected auto, local, HOST:PORT or "
                          "ray://HOST:PORT")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise BackendUnavailable(
            f"--ray-address {address}: cannot connect ({exc.strerror or exc}); start the head "
            "with `ray start --head` (client port 10001 for ray://, GCS port 6379 otherwise) "
            "and check the host and port") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Worker:
    """The actor: builds the resource once, then runs the batch function on each packed batch."""

    def __init__(self, spec: ResourceSpec, fn: BatchFn) -> None:
        self.resource = spec.build()
        self.fn = fn

    def __call__(self, packed: Any) -> Any:
        import pyarrow as pa

        out = []
        for text in packed.column(COLUMN).to_pylist():
            try:
                result: Any = self.fn(self.resource, json.loads(text))
            except JudgeError as exc:  # Ray would hand the driver its text only: keep the kind
                result = {"error": type(exc).__name__, "message": str(exc)}
            out.append(json.dumps(result, ensure_ascii=False))
        return pa.table({COLUMN: pa.array(out, pa.large_string())})


def _worker_class(spec: ResourceSpec, fn: BatchFn) -> type:
    """An actor class with the spec inside (pickled with the class, so no constructor
    arguments sit in the object store, where a restart could not find them again)."""

    class JudgeWorker(_Worker):
        def __init__(self) -> None:
            super().__init__(spec, fn)

    return JudgeWorker


class RayEngine(Engine):
    """Runs the batch function on an actor pool of a Ray cluster (see the module docstring)."""

    name = "ray"

    def __init__(self, spec: ResourceSpec, options: EngineOptions) -> None:
        self.spec = spec
        self.options = options
        self.ray = connect(options.address)

    def map(self, fn: BatchFn, rows: Iterable[Row], *, batch_size: int,
            on_batch: OnBatch) -> None:
        # One dataset row per batch, cut exactly as the local engine cuts them: a batch-dependent
        # backend (padding in a transformers forward pass) then gives the same bits.
        it = iter(rows)
        packed = [{COLUMN: json.dumps(batch, ensure_ascii=False)}
                  for batch in iter(lambda: list(islice(it, batch_size)), [])]
        if not packed:
            return
        ray = self.ray
        opts = self.options
        remote = self._resources()
        data = ray.data.from_items(packed, override_num_blocks=len(packed))
        # Ray Data gives pool actors max_restarts=-1 and max_task_retries=-1: a dead actor is
        # restarted (rebuilding its resource) and its unfinished batch runs again.
        out = data.map_batches(_worker_class(self.spec, fn), batch_size=1,
                               batch_format="pyarrow",
                               compute=ray.data.ActorPoolStrategy(
                                   size=min(opts.workers or 1, len(packed))),
                               **remote)
        for block in out.iter_batches(batch_format="pyarrow", batch_size=None):
            for text in block.column(COLUMN).to_pylist():
                result = json.loads(text)
                if isinstance(result, dict):
                    raise _rebuild(result)
                on_batch(result)

    def _resources(self) -> dict[str, Any]:
        """What each worker reserves: CPUs (1 by default) and, when asked, GPUs."""
        opts = self.options
        out: dict[str, Any] = {
            "num_cpus": 1.0 if opts.num_cpus_per_worker is None else opts.num_cpus_per_worker}
        if opts.num_gpus_per_worker:
            out["num_gpus"] = opts.num_gpus_per_worker
        return out

    def describe(self) -> Any:
        """What the spec's resource says of itself (``spec.describe()``), computed by one Ray task
        placed like a worker (same CPUs and GPUs), so the driver never loads the model."""
        task = self.ray.remote(**self._resources(), max_retries=0)(_describe)
        out = self.ray.get(task.remote(self.spec))
        if isinstance(out, dict) and "error" in out and "message" in out:
            raise _rebuild(out)
        return out

    def close(self) -> None:
        """Leave the cluster joined (other runs in this process reuse it)."""


def _describe(spec: Any) -> Any:
    try:
        return spec.describe()
    except JudgeError as exc:   # keep the kind, as a batch does
        return {"error": type(exc).__name__, "message": str(exc)}


def _rebuild(failure: dict[str, Any]) -> JudgeError:
    """The error a worker's batch raised, as the same JudgeError class on the driver."""
    cls = getattr(judge_errors, str(failure.get("error")), JudgeError)
    message = str(failure.get("message"))
    if isinstance(cls, type) and issubclass(cls, JudgeError):
        try:
            return cls(message)
        except TypeError:  # a class with a richer constructor
            pass
    return JudgeError(message)

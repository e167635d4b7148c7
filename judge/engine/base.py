"""The execution layer: apply a batch function to rows, on one process or across a Ray cluster.

A command (``judge label``, ``judge bench run``, the distill embedding step) turns its pending
work into rows of JSON values and gives the engine a batch function ``fn(resource, rows) ->
rows``. The *resource* is the expensive object the function needs (a judge, an embedder):

- :class:`~judge.engine.local.LocalEngine` holds one already built, and calls ``fn`` in this
  process, batch after batch;
- :class:`~judge.engine.ray.RayEngine` holds a picklable :class:`ResourceSpec` and builds the
  resource once in each long-lived worker actor.

Finished batches come back to the caller's ``on_batch`` on the driver, which stores them (a
journal, shards) and counts progress; ordering and resume stay the caller's job, so both engines
write the same records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from judge.errors import ConfigError

Row = dict[str, Any]
BatchFn = Callable[[Any, list[Row]], list[Row]]
"""``fn(resource, rows) -> rows``: a module-level function (pickled by reference to workers)."""
OnBatch = Callable[[list[Row]], None]
"""Called on the driver with each finished batch's output rows."""

ENGINES = ("local", "ray")


class ResourceSpec(Protocol):
    """A picklable recipe for a worker's resource (built once per worker)."""

    def build(self) -> Any: ...


@dataclass(frozen=True)
class EngineOptions:
    """Where and how wide a run executes.

    Attributes:
        engine: ``local`` (this process) or ``ray``.
        address: the Ray cluster: ``auto`` (one already started on this node), ``ray://HOST:PORT``
            (Ray client), ``HOST:PORT`` (a head's GCS) or ``local`` (start one in this process);
            None: the one started on this node if any, else start one.
        workers: actors (one resource each); None: 1.
        num_gpus_per_worker: GPUs each actor reserves (e.g. 1 for a vLLM backend).
        num_cpus_per_worker: CPUs each actor reserves (1 keeps a 2-CPU node's read stage free).
    """

    engine: str = "local"
    address: str | None = None
    workers: int | None = None
    num_gpus_per_worker: float | None = None
    num_cpus_per_worker: float | None = None

    def check(self) -> None:
        """Refuse an unknown engine, and Ray options given with the local engine.

        Raises:
            ConfigError: naming the options.
        """
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine '{self.engine}': {', '.join(ENGINES)}")
        if self.engine == "local":
            given = [flag for flag, value in (
                ("--ray-address", self.address), ("--workers", self.workers),
                ("--num-gpus-per-worker", self.num_gpus_per_worker),
                ("--num-cpus-per-worker", self.num_cpus_per_worker)) if value is not None]
            if given:
                raise ConfigError(f"{', '.join(given)}: only apply to --engine ray; drop them or "
                                  "add --engine ray")


class Engine(ABC):
    """Runs a batch function over rows (see the module docstring)."""

    name: str

    @abstractmethod
    def map(self, fn: BatchFn, rows: Iterable[Row], *, batch_size: int,
            on_batch: OnBatch) -> None:
        """Apply ``fn`` to ``rows`` in batches of at most ``batch_size``; hand each finished
        batch's output to ``on_batch`` (in completion order, which may differ from input order
        with several workers). The local engine reads ``rows`` lazily, batch by batch."""

    def describe(self) -> Any:
        """What the resource the workers build says of itself (``spec.describe()``), without
        building it here. Only an engine that builds resources remotely can answer."""
        raise ConfigError(f"the {self.name} engine holds its resource itself; nothing to describe")

    def close(self) -> None:
        """Release what the engine holds (the local resource stays the caller's)."""


def make_engine(options: EngineOptions, resource: Any, spec: ResourceSpec | None) -> Engine:
    """The engine for ``options``: local over the built ``resource``, or Ray over ``spec``.

    Raises:
        ConfigError: bad options, or Ray without a spec to rebuild the resource from.
        MissingDependency: Ray is not installed.
        BackendUnavailable: the Ray cluster cannot be reached.
    """
    options.check()
    if options.engine == "local":
        from judge.engine.local import LocalEngine

        return LocalEngine(resource)
    if spec is None:
        raise ConfigError("--engine ray rebuilds the judge in each worker from its spec string; "
                          "pass the backend as a spec (e.g. 'head' or 'transformers:PATH'), "
                          "not a backend object")
    from judge.engine.ray import RayEngine

    return RayEngine(spec, options)

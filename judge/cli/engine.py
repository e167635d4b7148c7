"""``--engine local|ray`` and the Ray options, shared by label, bench run and distill."""

from __future__ import annotations

import argparse
from typing import Any

from judge.cli.argtypes import POSITIVE, float_at_least
from judge.engine.base import ENGINES, Engine, EngineOptions, ResourceSpec, make_engine


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """Add --engine, --ray-address, --workers, --num-gpus-per-worker, --num-cpus-per-worker."""
    g = parser.add_argument_group("execution")
    g.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: this process (default); ray: an actor pool on a Ray cluster "
                        "(pip install 'judge[ray]')")
    g.add_argument("--ray-address", metavar="ADDR",
                   help="with --engine ray: auto (a cluster started on this node), "
                        "ray://HOST:10001, HOST:6379, or local (start one in this process); "
                        "default: the cluster on this node if there is one, else local")
    g.add_argument("--workers", type=POSITIVE, metavar="N",
                   help="with --engine ray: actors, each holding one judge (default 1)")
    g.add_argument("--num-gpus-per-worker", type=float_at_least(0.0), metavar="G",
                   help="with --engine ray: GPUs each actor reserves (e.g. 1 for vllm:PATH)")
    g.add_argument("--num-cpus-per-worker", type=float_at_least(0.0), metavar="C",
                   help="with --engine ray: CPUs each actor reserves (default 1)")


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """The parsed options, checked (Ray options with --engine local are refused).

    Raises:
        ConfigError: naming the options that do not apply.
    """
    options = EngineOptions(engine=args.engine, address=args.ray_address, workers=args.workers,
                            num_gpus_per_worker=args.num_gpus_per_worker,
                            num_cpus_per_worker=args.num_cpus_per_worker)
    options.check()
    return options


def build_engine(options: EngineOptions, resource: Any, spec: ResourceSpec) -> Engine:
    """The engine (joining the Ray cluster for ``--engine ray``).

    Raises:
        MissingDependency: no ``ray`` extra.
        BackendUnavailable: the cluster cannot be reached.
    """
    return make_engine(options, resource, spec)

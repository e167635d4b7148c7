"""RABench-style evaluation: suites of principle-conditioned ranking lists, metrics, runs, reports.

>>> from judge.bench import load_suite, run_suite, write_report   # doctest: +SKIP
>>> suite = load_suite("sample")                                  # doctest: +SKIP
>>> run_suite(suite, Judge("transformers:./judge-model"), "runs/bench/sample")  # doctest: +SKIP
>>> write_report("runs/bench/sample")                             # doctest: +SKIP

Modules: :mod:`~judge.bench.gold` (the gold item format), :mod:`~judge.bench.loaders` (JSONL and
datasets), :mod:`~judge.bench.suites` (named suites), :mod:`~judge.bench.rmbench` and
:mod:`~judge.bench.adapters` (built suites), :mod:`~judge.bench.metrics` (one list),
:mod:`~judge.bench.aggregate` (groups, bootstrap, strict variant), :mod:`~judge.bench.runner`
(resumable runs), :mod:`~judge.bench.report`, :mod:`~judge.bench.compare`,
:mod:`~judge.bench.plots`, :mod:`~judge.bench.oracle` (a gold-label judge for sanity checks).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names, each imported from its module on first use (so importing one submodule, e.g.
#: ``judge.bench.metrics``, does not load the others, and no submodule imports back through here).
_LAZY: dict[str, str] = {
    "write_comparison": "judge.bench.compare", "GoldItem": "judge.bench.gold",
    "BenchItem": "judge.bench.items", "oracle_backend": "judge.bench.oracle",
    "build_report": "judge.bench.report", "write_report": "judge.bench.report",
    "run_suite": "judge.bench.runner", "Suite": "judge.bench.suites",
    "load_suite": "judge.bench.suites",
}

__all__ = ["BenchItem", "GoldItem", "Suite", "build_report", "load_suite", "oracle_backend",
           "run_suite", "write_comparison", "write_report"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'judge.bench' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

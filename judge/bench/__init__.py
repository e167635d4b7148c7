"""RABench-style evaluation: suites of principle-conditioned ranking lists, metrics, runs, reports.

>>> from judge.bench import load_suite, run_suite, write_report   # doctest: +SKIP
>>> suite = load_suite("sample")                                  # doctest: +SKIP
>>> run_suite(suite, Judge("transformers:./judge-model"), "runs/bench/sample")  # doctest: +SKIP
>>> write_report("runs/bench/sample")                             # doctest: +SKIP

Modules: :mod:`~judge.bench.items` (the item format), :mod:`~judge.bench.loaders` (JSONL and
datasets), :mod:`~judge.bench.suites` (named suites), :mod:`~judge.bench.rmbench` and
:mod:`~judge.bench.adapters` (built suites), :mod:`~judge.bench.metrics` (one list),
:mod:`~judge.bench.aggregate` (groups, bootstrap, strict variant), :mod:`~judge.bench.runner`
(resumable runs), :mod:`~judge.bench.report`, :mod:`~judge.bench.compare`,
:mod:`~judge.bench.plots`, :mod:`~judge.bench.oracle` (a gold-label judge for sanity checks),
:mod:`~judge.bench.published` (JudgeBench, LLMBar, RewardBench 2, RM-Bench's style matrix and
preference graphs from their own files, scored by their authors' rules) and
:mod:`~judge.bench.paired` (paired differences between runs on common items).
"""

from __future__ import annotations

from judge.bench.compare import write_comparison
from judge.bench.items import BenchItem
from judge.bench.oracle import oracle_backend
from judge.bench.report import build_report, write_report
from judge.bench.runner import run_suite
from judge.bench.suites import Suite, load_suite

__all__ = ["BenchItem", "Suite", "build_report", "load_suite", "oracle_backend", "run_suite",
           "write_comparison", "write_report"]

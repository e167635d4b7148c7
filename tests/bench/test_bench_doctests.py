"""Run the doctest examples of the pure bench modules."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["judge.bench.metrics", "judge.bench.aggregate",
                                  "judge.bench.items", "judge.bench.published.judgebench",
                                  "judge.bench.published.rewardbench2",
                                  "judge.bench.published.rmstyle",
                                  "judge.bench.published.prefgraph"])
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0

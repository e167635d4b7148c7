"""Doctest examples of the distillation and serving modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["judge.distill.cache", "judge.distill.features", "judge.distill.labels",
           "judge.distill.losses", "judge.distill.soft", "judge.label.importer",
           "judge.serve.openrlhf", "judge.serve.batcher"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0

"""Run the doctest examples of the pure modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

PURE_MODULES = [
    "judge", "judge.errors", "judge.hashing", "judge.verdict.lenient_json", "judge.verdict.parse",
    "judge.ordering", "judge.principles", "judge.verdict.schema", "judge.verdict.logprob_scores",
    "judge.backends.scripted", "judge.core", "judge.net", "judge.items", "judge.messages",
    "judge.record", "judge.jsonl", "judge.journal", "judge.metrics",
]


@pytest.mark.parametrize("name", PURE_MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no doctest examples"

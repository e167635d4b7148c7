"""Doctest examples of the backend helper modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["judge.backends.shared.tokens", "judge.backends.http.retry", "judge.backends.http.wire",
           "judge.backends.shared.constrain", "judge.backends.http.launcher"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    if name == "judge.backends.shared.constrain":
        pytest.importorskip("llguidance")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0

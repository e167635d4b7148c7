"""Doctest examples of the backend helper modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["judge.backends._tokens", "judge.backends._retry", "judge.backends._http_wire",
           "judge.backends.constrain", "judge.backends.launcher"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    if name == "judge.backends.constrain":
        pytest.importorskip("llguidance")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0

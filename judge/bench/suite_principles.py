"""Principle texts of the built-in suites, kept as data in ``principles/suites/SUITE.yaml``.

>>> suite_principles("pairwise")["default"][:41]
'Prefer the response that does what the us'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from judge.assets import asset_dir
from judge.errors import BenchmarkError


def suite_file(suite: str) -> Path:
    """Where a suite's principle texts live."""
    return asset_dir("principles") / "suites" / f"{suite}.yaml"


@cache
def suite_principles(suite: str) -> dict[str, Any]:
    """The parsed ``principles/suites/SUITE.yaml``.

    Raises:
        BenchmarkError: the file is missing, not YAML, or not a mapping.
    """
    path = suite_file(suite)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BenchmarkError(f"{path}: cannot read the {suite} suite's principles ({exc}); "
                             "reinstall the package or restore the file") from None
    if not isinstance(data, dict):
        raise BenchmarkError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    return data


def text_field(suite: str, data: dict[str, Any], key: str) -> str:
    """A required string field of a suite file.

    Raises:
        BenchmarkError: naming the file and the field.
    """
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BenchmarkError(f"{suite_file(suite)}: field '{key}' must be a non-empty text")
    return value

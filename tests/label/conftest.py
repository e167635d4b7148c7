"""Fixtures for labeling tests: the fake judges of :mod:`helpers.labelfakes`."""

from __future__ import annotations

from helpers.labelfakes import head_judge, text_judge

__all__ = ["head_judge", "text_judge"]

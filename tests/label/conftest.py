"""Fixtures for labeling tests: the fake judges of :mod:`labelfakes`."""

from __future__ import annotations

from labelfakes import head_judge, text_judge

__all__ = ["head_judge", "text_judge"]

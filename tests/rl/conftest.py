"""Fixtures for reward tests: the content-based fake judges shared with the labeling tests."""

from __future__ import annotations

from helpers.labelfakes import head_judge, text_judge

__all__ = ["head_judge", "text_judge"]

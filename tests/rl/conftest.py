"""Fixtures for reward tests: the content-based fake judges shared with the labeling tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "label"))

from labelfakes import head_judge, text_judge

__all__ = ["head_judge", "text_judge"]

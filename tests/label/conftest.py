"""Fixtures for labeling tests: fake judges and small input files."""

from __future__ import annotations

import pytest
from labelfakes import LengthHead, fake_backend

from judge.core import Judge


@pytest.fixture
def text_judge() -> Judge:
    """A generative judge whose verdicts follow response length (scripted, no model)."""
    return Judge(fake_backend(), principle="correct-then-concise")


@pytest.fixture
def head_judge() -> Judge:
    """A judge over a direct scorer (score = length / 10), like a distilled head."""
    return Judge(LengthHead(), principle="correct-then-concise")

"""The former home of the gold item (:mod:`judge.bench.gold`); ``BenchItem`` is ``GoldItem``."""

from __future__ import annotations

from judge.bench.gold import CATEGORIES, DOMAINS, GoldItem

#: The former name of :class:`~judge.bench.gold.GoldItem`.
BenchItem = GoldItem

__all__ = ["CATEGORIES", "DOMAINS", "BenchItem", "GoldItem"]

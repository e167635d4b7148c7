"""The local engine: today's path, one resource in this process, batch after batch."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from judge.engine.base import BatchFn, Engine, OnBatch, Row


class LocalEngine(Engine):
    """Calls the batch function in this process on the resource it was given."""

    name = "local"

    def __init__(self, resource: Any) -> None:
        self.resource = resource

    def map(self, fn: BatchFn, rows: Iterable[Row], *, batch_size: int,
            on_batch: OnBatch) -> None:
        it = iter(rows)
        while batch := list(islice(it, batch_size)):
            on_batch(fn(self.resource, batch))

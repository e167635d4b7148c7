"""Micro-batching: gather concurrent requests for a few milliseconds into one scoring call.

Each request submits a list of items and awaits its own results. A single worker task takes
the first waiting request, keeps collecting requests until ``window_s`` has passed or
``max_items`` items are gathered, then runs the scoring function once on all of them in a
dedicated thread (so the event loop keeps accepting requests meanwhile, and calls into the
model never overlap). Requests that arrive while a batch is being scored form the next batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Request(Generic[T, R]):
    items: list[T]
    future: asyncio.Future[list[R]] = field(repr=False)


@dataclass
class BatchStats:
    """Counters for health checks and benchmarks."""

    batches: int = 0
    requests: int = 0
    items: int = 0
    largest: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counters with the mean batch size."""
        mean = self.items / self.batches if self.batches else 0.0
        return {"batches": self.batches, "requests": self.requests, "items": self.items,
                "largest_batch": self.largest, "mean_batch_items": round(mean, 2)}


class MicroBatcher(Generic[T, R]):
    """Batch concurrent :meth:`submit` calls into calls of ``fn``.

    Args:
        fn: scores a list of items, returning one result per item in order (runs in a thread).
        max_items: most items per call of ``fn`` (a single larger request still runs alone).
        window_s: how long to wait for more requests after the first one arrives.

    Example:
        >>> async def demo():
        ...     b = MicroBatcher(lambda xs: [x * 2 for x in xs])
        ...     await b.start()
        ...     out = await asyncio.gather(b.submit([1, 2]), b.submit([3]))
        ...     await b.close()
        ...     return out, b.stats.batches
        >>> asyncio.run(demo())
        ([[2, 4], [6]], 1)
    """

    def __init__(self, fn: Callable[[list[T]], Sequence[R]], *, max_items: int = 512,
                 window_s: float = 0.005) -> None:
        self.fn = fn
        self.max_items = max_items
        self.window_s = window_s
        self.stats = BatchStats()
        self._queue: asyncio.Queue[_Request[T, R]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Start the worker (call from the running event loop)."""
        if self._task is None:
            self._queue = asyncio.Queue()
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="judge-score")
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop the worker; pending requests fail with CancelledError."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def submit(self, items: Sequence[T]) -> list[R]:
        """Queue items and wait for their results (in order)."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(list(items), future))
        return await future

    async def _collect(self) -> list[_Request[T, R]]:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        count = len(batch[0].items)
        deadline = loop.time() + self.window_s
        while count < self.max_items:
            if not self._queue.empty():
                nxt = self._queue.get_nowait()
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    nxt = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:  # an alias of TimeoutError from 3.11
                    break
            batch.append(nxt)
            count += len(nxt.items)
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            live = [req for req in batch if not req.future.done()]
            flat = [item for req in live for item in req.items]
            if not flat:
                for req in live:
                    req.future.set_result([])
                continue
            try:
                results = await loop.run_in_executor(self._executor, self.fn, flat)
                if len(results) != len(flat):
                    raise RuntimeError(f"scorer returned {len(results)} results for "
                                       f"{len(flat)} items")
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                for req in live:
                    if not req.future.done():
                        req.future.set_exception(exc)
                continue
            self.stats.batches += 1
            self.stats.requests += len(live)
            self.stats.items += len(flat)
            self.stats.largest = max(self.stats.largest, len(flat))
            cursor = 0
            for req in live:
                part = list(results[cursor:cursor + len(req.items)])
                cursor += len(req.items)
                if not req.future.done():
                    req.future.set_result(part)

"""Micro-batching: gather concurrent requests for a few milliseconds into one scoring call.

Each request submits a list of items and awaits its own results. A single worker task waits for
the first request, keeps collecting requests until ``window_s`` has passed, then fills one call
of the scoring function with a turn of round-robin across the waiting requests: at most
``quantum`` cost units from each request, at most ``max_items`` units in all. A big request thus
goes through in several calls, and a small one that arrives meanwhile joins the next call
instead of waiting for the big one to finish. Scoring runs in a dedicated thread (the event loop keeps accepting
requests; calls into the model never overlap).

Failures stay with their request: when a call fails, each request in it is scored again on its
own, so only the request whose items make the scorer fail gets the exception. A request whose
caller has gone (its future cancelled: a deadline, a disconnect) is dropped before its next chunk.
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
    results: list[R] = field(default_factory=list)
    next: int = 0
    """Index of the first item not yet handed to the scorer."""

    @property
    def waiting(self) -> bool:
        return self.next < len(self.items) and not self.future.done()


@dataclass
class BatchStats:
    """Counters for health checks and benchmarks."""

    batches: int = 0
    requests: int = 0
    items: int = 0
    largest: int = 0
    failed_requests: int = 0
    dropped_requests: int = 0
    """Requests abandoned by their caller (deadline or disconnect) before they were done."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counters with the mean batch size."""
        mean = self.items / self.batches if self.batches else 0.0
        return {"batches": self.batches, "requests": self.requests, "items": self.items,
                "largest_batch": self.largest, "mean_batch_items": round(mean, 2),
                "failed_requests": self.failed_requests,
                "dropped_requests": self.dropped_requests}


class MicroBatcher(Generic[T, R]):
    """Batch concurrent :meth:`submit` calls into calls of ``fn``.

    Args:
        fn: scores a list of items, returning one result per item in order (runs in a thread).
        max_items: most cost units per call of ``fn`` (one item costlier than that runs alone).
        window_s: how long to wait for more requests after the first one arrives.
        quantum: most cost units taken from one request per call (default ``max_items``);
            smaller means shorter calls, so less waiting behind a big request.
        cost: an item's cost (default 1; the server counts responses).

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
                 window_s: float = 0.005, quantum: int | None = None,
                 cost: Callable[[T], int] | None = None) -> None:
        self.fn = fn
        self.max_items = max_items
        self.window_s = window_s
        self.quantum = max(1, quantum or max_items)
        self.cost = cost or (lambda _: 1)
        self.stats = BatchStats()
        self._queue: asyncio.Queue[_Request[T, R]] | None = None
        self._active: list[_Request[T, R]] = []
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
        if self._queue is not None:
            self._drain()
            self._queue = None  # a submit after close fails at once instead of waiting forever
        for req in self._active:
            req.future.cancel()
        self._active.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def submit(self, items: Sequence[T]) -> list[R]:
        """Queue items and wait for their results (in order).

        Cancelling the caller (e.g. ``asyncio.wait_for`` running out) drops the items not yet
        scored.
        """
        if self._queue is None:
            raise RuntimeError("the micro-batcher is not running (start() was not called, or "
                               "it was closed)")
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(list(items), future))
        return await future

    def _drain(self) -> None:
        assert self._queue is not None
        while not self._queue.empty():
            self._active.append(self._queue.get_nowait())

    async def _gather(self) -> None:
        """Wait for work: the first request, then ``window_s`` for company."""
        assert self._queue is not None
        self._drain()
        if not self._active:
            self._active.append(await self._queue.get())
            deadline = asyncio.get_running_loop().time() + self.window_s
            while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
                try:
                    self._active.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            self._drain()

    def _next_batch(self) -> list[tuple[_Request[T, R], int, int]]:
        """One turn of round-robin: from each waiting request a slice ``(request, start, stop)``
        worth at most ``quantum`` units, at most ``max_items`` units in all. Requests served go
        to the back of the line, so with more requests than fit, the others come first next."""
        for req in self._active:
            if req.future.done() and req.next < len(req.items):
                self.stats.dropped_requests += 1
        self._active = [r for r in self._active if r.waiting or (not r.future.done()
                                                                   and not r.items)]
        batch: list[tuple[_Request[T, R], int, int]] = []
        budget = self.max_items
        for req in self._active:
            if budget <= 0:
                break
            stop, share = req.next, 0
            while stop < len(req.items):
                c = max(1, self.cost(req.items[stop]))
                # the first item of a request may exceed the quantum (and, alone, the budget)
                if share + c > (min(self.quantum, budget) if share else budget) and (
                        share or budget < self.max_items):
                    break
                stop, share = stop + 1, share + c
            budget -= share
            if stop > req.next or not req.items:
                batch.append((req, req.next, stop))
        served = {id(req) for req, _, _ in batch}
        self._active = [r for r in self._active if id(r) not in served] + [r for r, _, _ in batch]
        return batch

    async def _call(self, items: list[T]) -> Sequence[R]:
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self._executor, self.fn, items)
        if len(results) != len(items):
            raise RuntimeError(f"scorer returned {len(results)} results for {len(items)} items")
        return results

    async def _run(self) -> None:
        while True:
            await self._gather()
            batch = self._next_batch()
            flat = [item for req, a, b in batch for item in req.items[a:b]]
            for req, _, b in batch:
                req.next = b
            try:
                results = await self._call(flat) if flat else []
            except Exception as exc:  # noqa: BLE001 - find the request(s) it belongs to
                await self._isolate(batch, exc)
            else:
                if flat:
                    self._record(len(flat))
                cursor = 0
                for req, a, b in batch:
                    req.results.extend(results[cursor:cursor + b - a])
                    cursor += b - a
            for req, _, _ in batch:
                if req.next >= len(req.items) and not req.future.done():
                    self.stats.requests += 1
                    req.future.set_result(req.results)

    async def _isolate(self, batch: list[tuple[_Request[T, R], int, int]],
                       error: Exception) -> None:
        """Score each request's slice alone; a slice that still fails fails its request."""
        slices = [(req, a, b) for req, a, b in batch if b > a]
        live = [(req, a, b) for req, a, b in slices if not req.future.done()]
        for req, a, b in live:
            try:
                if len(slices) == 1:  # the call held this slice alone: the error is its own
                    raise error
                part = await self._call(req.items[a:b])
            except Exception as exc:  # noqa: BLE001 - handed to this request only
                self.stats.failed_requests += 1
                req.next = len(req.items)
                req.future.set_exception(exc)
            else:
                self._record(b - a)
                req.results.extend(part)

    def _record(self, n: int) -> None:
        self.stats.batches += 1
        self.stats.items += n
        self.stats.largest = max(self.stats.largest, n)

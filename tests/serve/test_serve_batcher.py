"""The micro-batcher: gathers concurrent submissions, keeps order, isolates failures."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from judge.serve.batcher import MicroBatcher


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_concurrent_submissions_share_one_call() -> None:
    calls: list[list[int]] = []

    def fn(xs: list[int]) -> list[int]:
        calls.append(list(xs))
        return [x * 10 for x in xs]

    async def main() -> list[list[int]]:
        b = MicroBatcher(fn, window_s=0.05)
        await b.start()
        out = await asyncio.gather(*(b.submit([i, i + 100]) for i in range(20)))
        await b.close()
        return out

    out = run(main())
    assert out == [[i * 10, (i + 100) * 10] for i in range(20)]
    assert len(calls) == 1 and len(calls[0]) == 40


def test_max_items_splits_batches_and_requests_queue_during_scoring() -> None:
    calls: list[int] = []
    thread_names: set[str] = set()

    def fn(xs: list[int]) -> list[int]:
        calls.append(len(xs))
        thread_names.add(threading.current_thread().name)
        time.sleep(0.02)
        return xs

    async def main() -> None:
        b = MicroBatcher(fn, max_items=4, window_s=0.01)
        await b.start()
        await asyncio.gather(*(b.submit([i]) for i in range(10)))
        assert b.stats.requests == 10 and b.stats.items == 10
        await b.close()

    run(main())
    assert sum(calls) == 10 and max(calls) <= 4 and len(calls) >= 3
    assert all(n.startswith("judge-score") for n in thread_names)


def test_a_failing_batch_fails_its_requests_only() -> None:
    def fn(xs: list[int]) -> list[int]:
        if -1 in xs:
            raise ValueError("bad item")
        return xs

    async def main() -> None:
        b = MicroBatcher(fn, window_s=0.0)
        await b.start()
        with pytest.raises(ValueError, match="bad item"):
            await b.submit([-1])
        assert await b.submit([5]) == [5]  # the worker survived
        await b.close()

    run(main())


def test_wrong_result_count_is_an_error() -> None:
    async def main() -> None:
        b = MicroBatcher(lambda xs: xs[:-1], window_s=0.0)
        await b.start()
        with pytest.raises(RuntimeError, match="1 results for 2 items"):
            await b.submit([1, 2])
        await b.close()

    run(main())

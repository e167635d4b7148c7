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


def test_a_poisoned_request_fails_alone_in_a_shared_batch() -> None:
    calls: list[list[int]] = []

    def fn(xs: list[int]) -> list[int]:
        calls.append(list(xs))
        if -1 in xs:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return [x * 10 for x in xs]

    async def main() -> list[object]:
        b = MicroBatcher(fn, window_s=0.05)
        await b.start()
        out = await asyncio.gather(*(b.submit([i, -1] if i == 3 else [i]) for i in range(8)),
                                   return_exceptions=True)
        assert b.stats.failed_requests == 1
        await b.close()
        return out

    out = run(main())
    assert isinstance(out[3], UnicodeEncodeError)
    assert [o for n, o in enumerate(out) if n != 3] == [[i * 10] for i in range(8) if i != 3]
    assert len(calls[0]) == 9  # they did share one call first


def test_a_poisoned_request_that_leaves_mid_call_does_not_fail_its_neighbour() -> None:
    def fn(xs: list[str]) -> list[str]:
        time.sleep(0.2)
        if "bad" in xs:
            raise ValueError("bad item")
        return [x.upper() for x in xs]

    async def main() -> object:
        b = MicroBatcher(fn, window_s=0.01)
        await b.start()
        poisoned = asyncio.ensure_future(b.submit(["bad"]))
        neighbour = asyncio.ensure_future(b.submit(["good"]))
        await asyncio.sleep(0.05)
        poisoned.cancel()  # its client leaves while the shared call runs
        try:
            return await neighbour
        finally:
            await b.close()

    assert run(main()) == ["GOOD"]


def test_a_small_request_is_not_starved_by_a_big_one() -> None:
    started = threading.Event()
    calls: list[list[int]] = []

    def fn(xs: list[int]) -> list[int]:
        calls.append(list(xs))
        started.set()
        time.sleep(0.02)
        return xs

    async def main() -> list[str]:
        b = MicroBatcher(fn, max_items=8, quantum=4, window_s=0.0)
        await b.start()
        finished: list[str] = []

        async def send(name: str, items: list[int]) -> None:
            await b.submit(items)
            finished.append(name)

        big = asyncio.create_task(send("big", list(range(1000, 1064))))
        while not started.is_set():
            await asyncio.sleep(0.001)
        await send("small", [1])
        await big
        await b.close()
        return finished

    assert run(main()) == ["small", "big"]
    assert max(len(c) for c in calls) <= 8
    small_call = next(c for c in calls if 1 in c)
    assert any(x >= 1000 for x in small_call)  # interleaved with the big one, not after it


def test_a_cancelled_request_is_not_scored_further() -> None:
    scored: list[int] = []
    first = threading.Event()

    def fn(xs: list[int]) -> list[int]:
        scored.extend(xs)
        first.set()
        time.sleep(0.01)
        return xs

    async def main() -> None:
        b = MicroBatcher(fn, max_items=4, window_s=0.0)
        await b.start()
        task = asyncio.create_task(b.submit(list(range(400))))
        while not first.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await b.submit([7]) == [7]
        assert b.stats.dropped_requests == 1
        await b.close()

    run(main())
    assert len(scored) < 400 and scored[-1] == 7


def test_one_item_larger_than_the_budget_still_runs() -> None:
    async def main() -> list[list[int]]:
        b = MicroBatcher(lambda xs: xs, max_items=4, cost=lambda x: x, window_s=0.0)
        await b.start()
        out = await asyncio.gather(b.submit([9, 1]), b.submit([2, 2]))
        await b.close()
        return out

    assert run(main()) == [[9, 1], [2, 2]]


def test_the_quantum_bounds_each_call_even_when_the_budget_is_larger() -> None:
    calls: list[int] = []

    def fn(xs: list[int]) -> list[int]:
        calls.append(len(xs))
        return xs

    async def main() -> list[int]:
        b = MicroBatcher(fn, max_items=1024, quantum=16, window_s=0.0)
        await b.start()
        out = await b.submit(list(range(64)))
        await b.close()
        return out

    assert run(main()) == list(range(64)) and calls == [16, 16, 16, 16]


def test_a_submit_after_close_fails_at_once() -> None:
    async def main() -> None:
        b = MicroBatcher(lambda xs: xs, window_s=0.01)
        await b.start()
        assert await b.submit([1]) == [1]
        await b.close()
        with pytest.raises(RuntimeError, match="not running"):
            await asyncio.wait_for(b.submit([2]), timeout=5)

    run(main())

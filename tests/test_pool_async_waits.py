"""AsyncPool checkouts that wait, on both backends: served first come first served, bounded by
their timeout, and leaving the pool as they found it when their task is cancelled, whether
before or after a connection was handed to them (`tradestore.db._acompat.AEvent` is the wait).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tradestore.db._acompat import AEvent
from tradestore.db.pool_async import AsyncPool
from tradestore.errors import PoolClosed, PoolTimeout

WAIT_S = 10.0  # generous: only a hang reaches it


async def waiters(pool: AsyncPool, n: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while pool.stats().waiting != n:
        assert time.monotonic() < deadline, f"never saw {n} waiters: {pool.stats()}"
        await asyncio.sleep(0.001)


def test_waiters_are_served_first_come_first_served(db_url: str) -> None:
    async def main() -> list[str]:
        async with AsyncPool(db_url, min_size=0, max_size=1, timeout=WAIT_S) as pool:
            order: list[str] = []
            held = await pool.getconn()

            async def take(name: str) -> None:
                async with pool.connection():
                    order.append(name)

            tasks = []
            for n, name in enumerate(["first", "second", "third"], start=1):
                tasks.append(asyncio.ensure_future(take(name)))
                await waiters(pool, n)
            await pool.putconn(held)
            await take("barger")  # asks after the queue formed: served after it
            await asyncio.gather(*tasks)
            assert pool.stats().timeouts == 0
            return order

    assert asyncio.run(main()) == ["first", "second", "third", "barger"]


def test_a_wait_ends_at_its_timeout_with_pool_timeout(db_url: str) -> None:
    async def main() -> None:
        async with AsyncPool(db_url, min_size=0, max_size=1, timeout=WAIT_S) as pool:
            held = await pool.getconn()
            started = time.monotonic()
            with pytest.raises(PoolTimeout, match=r"had no free connection after 0\.20s"):
                await pool.getconn(timeout=0.2)
            assert 0.2 <= time.monotonic() - started < WAIT_S
            stats = pool.stats()
            assert (stats.waiting, stats.timeouts, stats.in_use) == (0, 1, 1)
            await pool.putconn(held)
            conn = await pool.getconn(timeout=1)  # the queue is empty: no stale waiter served
            await pool.putconn(conn)

    asyncio.run(main())


def test_a_waiter_cancelled_before_it_is_served_leaves_the_queue(db_url: str) -> None:
    async def main() -> None:
        async with AsyncPool(db_url, min_size=0, max_size=1, timeout=WAIT_S) as pool:
            held = await pool.getconn()
            waiting = asyncio.ensure_future(pool.getconn())
            await waiters(pool, 1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert pool.stats().waiting == 0
            await pool.putconn(held)
            stats = pool.stats()
            assert (stats.idle, stats.in_use) == (1, 0)  # nobody was handed the connection

    asyncio.run(main())


def test_a_waiter_cancelled_after_it_was_served_gives_the_connection_back(db_url: str) -> None:
    async def main() -> None:
        async with AsyncPool(db_url, min_size=0, max_size=1, timeout=WAIT_S) as pool:
            held = await pool.getconn()
            waiting = asyncio.ensure_future(pool.getconn())
            await waiters(pool, 1)
            await pool.putconn(held)  # hands the connection to the waiter...
            waiting.cancel()  # ...which is cancelled before it runs again
            with pytest.raises(asyncio.CancelledError):
                await waiting
            stats = pool.stats()
            assert (stats.waiting, stats.in_use, stats.idle) == (0, 0, 1)
            conn = await pool.getconn(timeout=1)
            await pool.putconn(conn)

    asyncio.run(main())


def test_close_wakes_waiters_with_pool_closed(db_url: str) -> None:
    async def main() -> None:
        pool = AsyncPool(db_url, min_size=0, max_size=1, timeout=WAIT_S)
        await pool.open()
        held = await pool.getconn()
        waiting = asyncio.ensure_future(pool.getconn())
        await waiters(pool, 1)
        await pool.close()
        with pytest.raises(PoolClosed):
            await asyncio.wait_for(waiting, WAIT_S)
        await pool.putconn(held)
        assert pool.stats().size == 0

    asyncio.run(main())


def test_event_wait_is_bounded_and_sees_a_set_made_before_or_during_it() -> None:
    async def main() -> None:
        early = AEvent()
        early.set()
        assert await early.wait_timeout(0) is True
        assert early.is_set()

        late = AEvent()
        started = time.monotonic()
        assert await late.wait_timeout(0.05) is False
        assert 0.05 <= time.monotonic() - started < WAIT_S

        during = AEvent()
        asyncio.get_running_loop().call_later(0.01, during.set)
        assert await during.wait_timeout(WAIT_S) is True

        cancelled = AEvent()
        task = asyncio.ensure_future(cancelled.wait_timeout(WAIT_S))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        cancelled.set()  # after the waiter left: nothing to wake, no error
        assert cancelled.is_set()

    asyncio.run(main())

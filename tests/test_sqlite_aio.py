"""The async SQLite backend's worker: one thread per connection, calls in order, cancellation.

Every call on an async SQLite connection runs on that connection's own thread
(`tradestore.db.backends.sqlite_aio.Worker`). These tests pin what the pool and the runners
rely on: calls run on that thread in the order they were given; a caller cancelled while its
call runs does not stop it, and the next call waits for it; a call whose caller was cancelled
before it started is skipped; `finish` runs its last call after everything queued; a worker
nobody closed neither holds the interpreter open nor loses what it was given.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tradestore.db.backends.sqlite_aio import Worker
from tradestore.db.pool_async import AsyncPool

WAIT_S = 10.0  # generous: only a hang reaches it


def test_calls_run_in_order_on_the_connections_own_thread() -> None:
    worker = Worker("t-order")
    seen: list[tuple[int, int]] = []

    def record(i: int) -> int:
        seen.append((i, threading.get_ident()))
        return i * 2

    async def main() -> list[int]:
        return await asyncio.gather(*(worker.run(record, i) for i in range(50)))

    try:
        assert asyncio.run(main()) == [i * 2 for i in range(50)]
    finally:
        worker.finish(lambda: None)
    assert [i for i, _ in seen] == list(range(50))
    threads = {ident for _, ident in seen}
    assert len(threads) == 1
    assert threads != {threading.get_ident()}  # never the event loop's thread


def test_an_error_reaches_the_caller_and_the_worker_goes_on() -> None:
    worker = Worker("t-error")

    def fail() -> None:
        raise ValueError("no such table: nope")

    async def main() -> int:
        with pytest.raises(ValueError, match="no such table: nope"):
            await worker.run(fail)
        return await worker.run(int, "7")

    try:
        assert asyncio.run(main()) == 7
    finally:
        worker.finish(lambda: None)


def test_a_call_cancelled_while_it_runs_finishes_before_the_next_starts() -> None:
    worker = Worker("t-cancel-running")
    started, gate = threading.Event(), threading.Event()
    order: list[str] = []

    def slow() -> None:
        order.append("slow started")
        started.set()
        gate.wait(WAIT_S)
        order.append("slow finished")

    async def main() -> None:
        running = asyncio.ensure_future(worker.run(slow))
        assert await asyncio.to_thread(started.wait, WAIT_S)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        after = asyncio.ensure_future(worker.run(order.append, "next"))
        await asyncio.sleep(0.05)
        assert order == ["slow started"]  # the next call waits for the cancelled one
        gate.set()
        await asyncio.wait_for(after, WAIT_S)

    try:
        asyncio.run(main())
    finally:
        gate.set()
        worker.finish(lambda: None)
    assert order == ["slow started", "slow finished", "next"]


def test_a_call_cancelled_before_it_starts_is_skipped() -> None:
    worker = Worker("t-cancel-queued")
    started, gate = threading.Event(), threading.Event()
    order: list[str] = []

    def blocker() -> None:
        started.set()
        gate.wait(WAIT_S)

    async def main() -> None:
        first = asyncio.ensure_future(worker.run(blocker))
        assert await asyncio.to_thread(started.wait, WAIT_S)
        queued = asyncio.ensure_future(worker.run(order.append, "cancelled"))
        await asyncio.sleep(0)  # queued on the worker, behind the blocker
        queued.cancel()
        await asyncio.sleep(0)
        gate.set()
        await asyncio.wait_for(first, WAIT_S)
        await worker.run(order.append, "last")

    try:
        asyncio.run(main())
    finally:
        gate.set()
        worker.finish(lambda: None)
    assert order == ["last"]


def test_finish_runs_last_after_the_queue_and_ends_the_thread() -> None:
    worker = Worker("t-finish")
    gate = threading.Event()
    order: list[str] = []

    def first() -> None:
        gate.wait(WAIT_S)
        order.append("first")

    def close() -> None:
        order.append("close")
        raise OSError("a failed close is nobody's business but its own")

    async def main() -> None:
        pending = asyncio.ensure_future(worker.run(first))
        await asyncio.sleep(0)
        worker.finish(close)  # never waits
        gate.set()
        await asyncio.wait_for(pending, WAIT_S)

    asyncio.run(main())
    threads = [t for t in threading.enumerate() if t.name.startswith("t-finish")]
    for thread in threads:
        thread.join(WAIT_S)
    assert not any(t.is_alive() for t in threads)
    assert order == ["first", "close"]


def test_a_call_after_finish_fails_at_once_instead_of_waiting_for_ever() -> None:
    """A late call (an abandoned :iter's close, run by asyncio after the pool closed the
    connection) must fail, not queue behind the end of the thread, where nothing runs it:
    before, `asyncio.run` hung at shutdown waiting for it."""
    worker = Worker("t-late")
    worker.finish(lambda: None)

    async def main() -> None:
        async with asyncio.timeout(WAIT_S):
            await worker.run(lambda: 1)

    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        asyncio.run(main())


def test_a_worker_nobody_closed_lets_the_process_exit_after_its_work(tmp_path: Path) -> None:
    """No close, the loop gone before the call ends: the process still exits, without a
    traceback, and the call that was running completes first (as the executor's workers did)."""
    done = tmp_path / "done"
    script = textwrap.dedent(
        f"""
        import asyncio, time
        from pathlib import Path
        from tradestore.db.backends.sqlite_aio import Worker

        worker = Worker("left-open")

        def slow():
            time.sleep(0.3)
            Path({str(done)!r}).write_text("written")

        async def main():
            asyncio.ensure_future(worker.run(slow))
            await asyncio.sleep(0.05)

        asyncio.run(main())
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert done.read_text() == "written"


def test_pool_serves_concurrent_tasks_each_on_its_connection(tmp_path: Path) -> None:
    async def main() -> list[int]:
        async with AsyncPool(f"sqlite:///{tmp_path / 'w.db'}", min_size=2, max_size=2) as pool:

            async def one(i: int) -> int:
                async with pool.connection() as conn:
                    cur = await conn.execute("SELECT ? + 1", (i,))
                    row = await cur.fetchone()
                    return int(row[0])

            return await asyncio.gather(*(one(i) for i in range(40)))

    assert asyncio.run(main()) == [i + 1 for i in range(40)]

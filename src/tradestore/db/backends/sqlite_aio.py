"""SQLite for asyncio: the sqlite3 module on one worker thread per connection.

sqlite3 has no async API, and a SQLite call can wait (on a lock, up to busy_timeout; on the
disk). So every call on a connection runs on that connection's own thread (an executor of
one worker, as aiosqlite does), never on the event loop's: the loop only awaits the result.
One thread per connection also keeps a connection's calls in order.

A task cancelled mid-statement (or whose ``asyncio.timeout()`` expires) cannot stop its thread,
so the statement is interrupted (`sqlite3.Connection.interrupt`, SQLite's way to stop a
statement from another thread, as psycopg cancels a PostgreSQL one server-side): a cancelled
write is not committed. Such a connection is not reused: it goes back to the pool still busy
(interrupting takes a moment; a wait for a lock cannot be interrupted at all), and SQLite's
interrupt flag could outlive the statement and fail the next borrower's first one. The pool
discards it and its thread closes it once the statement has ended; the next borrower gets a
fresh connection at once instead of queueing behind the old statement.

Everything that is not I/O (value conversion, error meanings, the free checks, the session
audit) is the sync backend's, kept as `sync`; the kit's sync runners run unchanged on the
worker (`tradestore.queries.runners_sqlite_aio`).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from tradestore.db.backends.base import AsyncBackend
from tradestore.db.backends.sqlite import SqliteBackend
from tradestore.db.url import DatabaseURL

T = TypeVar("T")


class Worker:
    """One connection's thread: what it is given runs there, one call at a time, in order."""

    __slots__ = ("_executor", "_last", "awaited", "raw", "tainted")

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._last: Future[Any] | None = None
        # The connection a cancelled call interrupts (set once connected).
        self.raw: sqlite3.Connection | None = None
        # Calls some task awaits now. Plain counts and flags, read by the pool on every
        # return: cheaper than asking a Future (which takes a lock).
        self.awaited = 0
        # A cancelled task's call ran on (interrupted): the connection is not to be reused.
        self.tainted = False

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        future = self._executor.submit(call, *args)
        self._last = future
        self.awaited += 1
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # A call that had not started was dropped with the task; one that runs goes on.
            if not future.done():
                self.tainted = True
                if self.raw is not None:
                    self.raw.interrupt()
            raise
        finally:
            self.awaited -= 1

    def finish(self, last: Callable[[], object]) -> None:
        """Run `last` after whatever is queued, then let the thread end (never waits)."""
        self._executor.submit(last)
        self._executor.shutdown(wait=False)

    def abandon(self, close: Callable[[Any], object]) -> None:
        """Give up on the last call (its task was cancelled, or it failed): once it has ended,
        `close` what it returned, then let the thread end."""
        last = self._last

        def close_result() -> None:
            if last is not None and not last.cancelled() and last.exception() is None:
                close(last.result())

        self.finish(close_result)


class AsyncCursor:
    """A sqlite3 cursor whose fetches run on its connection's thread (`await cur.fetchall()`)."""

    __slots__ = ("_cursor", "_worker")

    def __init__(self, cursor: sqlite3.Cursor, worker: Worker) -> None:
        self._cursor = cursor
        self._worker = worker

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def fetchone(self) -> Any:
        return await self._worker.run(self._cursor.fetchone)

    async def fetchmany(self, size: int = 1) -> list[Any]:
        return await self._worker.run(self._cursor.fetchmany, size)

    async def fetchall(self) -> list[Any]:
        return await self._worker.run(self._cursor.fetchall)

    async def close(self) -> None:
        await self._worker.run(self._cursor.close)


class AsyncSqliteBackend(AsyncBackend):
    sync: SqliteBackend

    def __init__(self, url: DatabaseURL, *, query_timeout: float | None = None) -> None:
        super().__init__(SqliteBackend(url, query_timeout=query_timeout))
        self._workers: dict[int, Worker] = {}

    def worker(self, raw: sqlite3.Connection) -> Worker:
        """The thread every call on `raw` runs on."""
        return self._workers[id(raw)]

    async def connect(self, timeout: float | None = None) -> sqlite3.Connection:
        worker = Worker("tradestore-sqlite")
        try:
            raw = await worker.run(self.sync.connect, timeout)
        except BaseException:
            # Cancelled while connecting: the thread goes on, and closes what it opens.
            worker.abandon(self.sync.close)
            raise
        worker.raw = raw
        self._workers[id(raw)] = worker
        return raw

    async def ping(self, raw: sqlite3.Connection, timeout: float | None = None) -> None:
        await self.worker(raw).run(self.sync.ping, raw, timeout)

    async def reset(self, raw: sqlite3.Connection) -> bool:
        worker = self.worker(raw)
        if worker.tainted or worker.awaited:
            # Interrupted by a cancellation (see the module docstring), or still running a
            # call another task of the borrower awaits: not the next borrower's. Discard it.
            return False
        if not raw.in_transaction:  # the common case: nothing to roll back, no thread hop
            self.sync.disarm(raw)
            return True
        return await worker.run(self.sync.reset, raw)

    async def restore(self, raw: sqlite3.Connection) -> bool:
        return await self.worker(raw).run(self.sync.restore, raw)

    async def execute(self, raw: sqlite3.Connection, sql: str, params: Any = None) -> AsyncCursor:
        worker = self.worker(raw)
        return AsyncCursor(await worker.run(self.sync.execute, raw, sql, params), worker)

    def close(self, raw: sqlite3.Connection) -> None:
        worker = self._workers.pop(id(raw), None)
        if worker is None:
            self.sync.close(raw)
        else:  # after whatever the thread still runs (a cancelled task's statement)
            worker.finish(functools.partial(self.sync.close, raw))


__all__ = ["AsyncCursor", "AsyncSqliteBackend", "Worker"]

"""SQLite for asyncio: the sqlite3 module on one worker thread per connection.

sqlite3 has no async API, and a SQLite call can wait (on a lock, up to busy_timeout; on the
disk). So every call on a connection runs on that connection's own thread (an executor of
one worker, as aiosqlite does), never on the event loop's: the loop only awaits the result.
One thread per connection also keeps a connection's calls in order: when a task is cancelled
mid-statement, the statement finishes on its thread, and the rollback the pool sends on return
queues behind it, so the next borrower never shares the connection with it.

Everything that is not I/O (value conversion, error meanings, the free checks, the session
audit) is the sync backend's, kept as `sync`; the kit's sync runners run unchanged on the
worker (`tradestore.queries.runners_sqlite_aio`).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from tradestore.db.backends.base import AsyncBackend
from tradestore.db.backends.sqlite import SqliteBackend
from tradestore.db.url import DatabaseURL

T = TypeVar("T")


class Worker:
    """One connection's thread: what it is given runs there, one call at a time, in order."""

    __slots__ = ("_executor",)

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args))

    def finish(self, last: Callable[[], object]) -> None:
        """Run `last` after whatever is queued, then let the thread end (never waits)."""
        self._executor.submit(last)
        self._executor.shutdown(wait=False)


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
            worker.finish(lambda: None)
            raise
        self._workers[id(raw)] = worker
        return raw

    async def ping(self, raw: sqlite3.Connection, timeout: float | None = None) -> None:
        await self.worker(raw).run(self.sync.ping, raw, timeout)

    async def reset(self, raw: sqlite3.Connection) -> bool:
        if not raw.in_transaction:  # the common case: nothing to roll back, no thread hop
            self.sync.disarm(raw)
            return True
        return await self.worker(raw).run(self.sync.reset, raw)

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

"""SQLite for asyncio: the sqlite3 module on one worker thread per connection.

sqlite3 has no async API, and a SQLite call can wait (on a lock, up to busy_timeout; on the
disk). So every call on a connection runs on that connection's own thread (a thread and a
queue, as aiosqlite does), never on the event loop's: the loop only awaits the result.
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
import atexit
import contextlib
import functools
import sqlite3
import threading
import weakref
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

from tradestore.db.backends.base import AsyncBackend
from tradestore.db.backends.sqlite import SqliteBackend
from tradestore.db.url import DatabaseURL

T = TypeVar("T")


class Worker:
    """One connection's thread: what it is given runs there, one call at a time, in order.

    A thread and a queue of its own, as aiosqlite does, not a one-thread executor:
    ``loop.run_in_executor`` chains a concurrent future to an asyncio one for every call,
    which cost 20-25 us a call more here (benchmarks A7.1: 52 against 28 us per hop). The
    result comes back through ``call_soon_threadsafe``. A caller cancelled before its call
    starts skips it; one cancelled while it runs interrupts the statement (see the module
    docstring), and the call still finishes on the thread before the next one starts.
    """

    __slots__ = (
        "__weakref__",
        "_finished",
        "_jobs",
        "_last",
        "_thread",
        "awaited",
        "raw",
        "tainted",
    )

    def __init__(self, name: str) -> None:
        self._jobs: SimpleQueue[Callable[[], object] | None] = SimpleQueue()
        self._last: _Job | None = None
        # The connection a cancelled call interrupts (set once connected).
        self.raw: sqlite3.Connection | None = None
        # Calls some task awaits now. Plain counts and flags, read by the pool on every
        # return: cheaper than asking a future.
        self.awaited = 0
        # A cancelled task's call ran on (interrupted): the connection is not to be reused.
        self.tainted = False
        # Set by `finish`: the thread ends after what is queued, so nothing more may be queued
        # (it would never run, and its caller would wait for ever).
        self._finished = False
        # A daemon, so a pool never closed cannot hold the interpreter open; what was queued
        # still runs at exit (`_drain_at_exit`), as an executor's workers did.
        self._thread = threading.Thread(target=_serve, args=(self._jobs,), name=name, daemon=True)
        self._thread.start()
        _LIVE.add(self)

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        if self._finished:  # e.g. an abandoned stream's late close, after the pool closed it
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(loop, future, call, args)
        self._jobs.put(job)
        self._last = job
        self.awaited += 1
        try:
            return await future
        except asyncio.CancelledError:
            # A call that had not started is skipped (its future is cancelled); one that runs
            # goes on, so stop its statement and mark the connection.
            if job.state == _RUNNING:
                self.tainted = True
                if self.raw is not None:
                    self.raw.interrupt()
            raise
        finally:
            self.awaited -= 1

    def finish(self, last: Callable[[], object]) -> None:
        """Run `last` after whatever is queued, then let the thread end (never waits)."""
        self._finished = True
        self._jobs.put(functools.partial(_quietly, last))
        self._jobs.put(None)
        _LIVE.discard(self)

    def abandon(self, close: Callable[[Any], object]) -> None:
        """Give up on the last call (its task was cancelled, or it failed): once it has ended,
        `close` what it returned, then let the thread end."""
        last = self._last

        def close_result() -> None:
            if last is not None and last.state == _DONE:
                close(last.result)

        self.finish(close_result)

    def _drain(self) -> None:
        self._jobs.put(None)
        self._thread.join()


_PENDING, _RUNNING, _DONE, _FAILED = range(4)


class _Job:
    """One call for the thread: run it, hand its outcome to the loop that waits for it.

    A call whose caller was cancelled before it started is skipped, as an executor skips a
    future cancelled before it runs; one already running always finishes. `state` and
    `result` let a cancelled caller know whether it ran, and what it made (`abandon`).
    """

    __slots__ = ("args", "call", "future", "loop", "result", "state")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        call: Callable[..., Any],
        args: tuple[Any, ...],
    ) -> None:
        self.loop = loop
        self.future = future
        self.call = call
        self.args = args
        self.state = _PENDING
        self.result: Any = None

    def __call__(self) -> None:
        if self.future.cancelled():
            return
        self.state = _RUNNING
        try:
            self.result = self.call(*self.args)
        except BaseException as exc:  # noqa: BLE001  (every outcome goes back to the caller)
            self.state = _FAILED
            deliver = functools.partial(_set_exception, self.future, exc)
        else:
            self.state = _DONE
            deliver = functools.partial(_set_result, self.future, self.result)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self.loop.call_soon_threadsafe(deliver)


def _serve(jobs: SimpleQueue[Callable[[], object] | None]) -> None:
    while (job := jobs.get()) is not None:
        job()


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # done: the caller was cancelled meanwhile
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _quietly(last: Callable[[], object]) -> None:
    # A failed close must not end the thread before the sentinel: nobody waits for it.
    with contextlib.suppress(Exception):
        last()


_LIVE: weakref.WeakSet[Worker] = weakref.WeakSet()


@atexit.register
def _drain_at_exit() -> None:
    """At interpreter exit, let every live worker finish what it was given."""
    for worker in list(_LIVE):
        worker._drain()


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

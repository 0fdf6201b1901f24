"""A small connection pool for both backends (async face).

Checkout takes the most recently returned idle connection under one lock; anything slow
(connecting, pinging, rolling back, closing) happens outside it. When every connection is
taken, waiters queue first come, first served (`pool_base`). A connection is one borrower's
at a time: each checkout hands out a fresh lease, so a second return, a connection of another
pool, or use of a returned one is refused. Connections come back clean: an open transaction
is rolled back, a broken connection is discarded and replaced on demand, and a session the
borrower may have changed (it touched `raw` or ran ad-hoc SQL) is restored; an untouched one
costs nothing more. A server restart heals by itself: dead idle connections are noticed on
checkout (the server's termination notice makes the socket readable, so the check costs one
poll() and no round trip) and new ones are opened, retrying until `timeout`.

Written once for asyncio; the sync `Pool` (``pool.py``) is generated from it. On this face a
cancelled task (or one whose ``asyncio.timeout()`` expires) leaves the pool as it found it:
a waiter leaves the queue, or gives back what it was handed meanwhile; a checkout cancelled
while connecting frees its slot; a return cancelled while rolling back discards the
connection; the counters stay right.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tradestore.db._acompat import ASYNC, AEvent, asleep, aspawn
from tradestore.db.backends import AsyncBackend, async_backend_for
from tradestore.db.connection_async import AsyncConnection, PooledConnection
from tradestore.db.pool_base import (
    RETRY_FIRST_S,
    RETRY_MAX_S,
    CheckMode,
    PoolBase,
    PoolStats,
    Waiter,
    logger,
)
from tradestore.db.url import DatabaseURL
from tradestore.errors import ConnectionRejected, PoolClosed, PoolTimeout


class AsyncPool(PoolBase):
    """A pool of connections to one database, for asyncio tasks.

    Knobs follow psycopg_pool and SQLAlchemy: `min_size` connections are kept open, at most
    `max_size` exist; a checkout waits at most `timeout` seconds, then raises `PoolTimeout`.
    Idle connections above `min_size` close after `max_idle` seconds; every connection is
    replaced after `max_lifetime` seconds. `check` decides when a checkout pings: ``"auto"``
    (only when the server spoke on an idle socket or it idled over `check_idle_after`),
    ``"always"`` or ``"never"``. A connection held over `leak_threshold` seconds is logged with
    the stack that took it.

    Open it with ``async with AsyncPool(url) as pool:`` or ``await pool.open()``: opening
    connects `min_size` connections, so a wrong URL fails there, not at the first query.
    """

    def __init__(
        self,
        url: str | DatabaseURL,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
        max_idle: float = 600.0,
        max_lifetime: float = 3600.0,
        check: CheckMode = "auto",
        check_idle_after: float = 30.0,
        name: str | None = None,
        leak_threshold: float | None = None,
        query_timeout: float | None = None,
    ) -> None:
        super().__init__(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            max_idle=max_idle,
            max_lifetime=max_lifetime,
            check=check,
            check_idle_after=check_idle_after,
            name=name,
            leak_threshold=leak_threshold,
        )
        self.backend: AsyncBackend = async_backend_for(self.url, query_timeout=query_timeout)
        self.dialect = self.backend.dialect
        if ASYNC:
            pass
        else:
            self.open()

    async def open(self) -> None:
        """Open `min_size` connections (a wrong URL fails here); the pool closes on failure."""
        # No background refill may race with this.
        self._refilling = True
        opened: list[PooledConnection] = []
        try:
            for _ in range(self.min_size):
                opened.append(await self._checkout())
        except BaseException:
            await self.close()
            raise
        finally:
            for pooled in opened:
                await self._checkin(pooled)
            self._end_refill()

    async def __aenter__(self) -> AsyncPool:
        if ASYNC:  # noqa: SIM102  (an `if ASYNC:` block is dropped whole from the sync twin)
            if not self._created:
                await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- checkout and return -----------------------------------------------------------

    async def getconn(self, timeout: float | None = None) -> AsyncConnection:
        """Take a connection; give it back with `putconn`. Prefer ``pool.connection()``."""
        lease = AsyncConnection(await self._checkout(timeout), self)
        self._lent.add(lease)
        return lease

    async def putconn(self, conn: AsyncConnection) -> None:
        """Give a connection back: rolled back if a transaction is open, dropped if broken,
        its session restored if the borrower may have changed it.

        Refused with `PoolError`, changing nothing, for a connection already returned or one
        this pool did not lend (another pool's, or a driver connection).
        """
        try:
            self._lent.remove(conn)
        except (KeyError, TypeError):  # TypeError: not even hashable
            raise self._refusal(conn, AsyncConnection) from None
        pooled = conn._pooled
        conn._pooled = None  # from here on every use of this lease is refused
        assert pooled is not None  # a lease in _lent has not been returned yet
        await self._checkin(pooled)

    async def _checkout(self, timeout: float | None = None) -> PooledConnection:
        """Take a pooled connection without a lease: for the kit's own code, which never
        hands it to user code (a named query on a pool), so that path pays for no lease."""
        wait = self.timeout if timeout is None else timeout
        start = time.monotonic()
        deadline = start + wait
        waited_once = False
        while True:
            conn: PooledConnection | None = None
            waiter: Waiter | None = None
            with self._lock:
                if self._closed:
                    raise PoolClosed(f"pool {self.name!r} is closed")
                # Idle connections exist only while nobody queues (a return serves the queue
                # first); a free slot goes to a newcomer only when nobody queues either.
                if self._idle:
                    conn = self._idle.pop()
                    self._taken.add(conn)
                elif self._size < self.max_size and not self._queue:
                    self._size += 1
                else:
                    if not waited_once:
                        waited_once = True
                        self._wait_events += 1
                    waiter = Waiter(AEvent())
                    self._queue.append(waiter)
                if waiter is None:
                    self._count_checkout(start, waited_once)
            if waiter is not None:
                try:
                    await waiter.event.wait_timeout(max(0.0, deadline - time.monotonic()))
                except BaseException:
                    self._abandon(waiter)
                    raise
                conn = self._leave_queue(waiter, start, wait)
            if conn is None:
                conn = await self._open(deadline)
            elif not await self._usable(conn, deadline):
                self._drop_checked(conn)
                self.backend.close(conn.raw)
                continue
            conn.checked_out_at = time.monotonic()
            if self.leak_threshold is not None:
                conn.taken_from = "".join(traceback.format_stack(limit=9)[:-1])
            return conn

    async def _checkin(self, conn: PooledConnection) -> None:
        """Take a pooled connection back: clean it, then serve a waiter or keep it idle."""
        if conn.generation != self._generation:
            # Taken before a fork: the socket belongs to the parent process.
            self.backend.disown(conn.raw)
            return
        now = time.monotonic()
        if self.leak_threshold is not None:
            self._note_leak(conn, now)
        interrupted: BaseException | None = None
        try:
            keep = await self.backend.reset(conn.raw)
            if conn.dirty and keep:
                # Only a session the borrower may have changed pays for a restore.
                conn.dirty = False
                keep = await self.backend.restore(conn.raw)
        except Exception:  # noqa: BLE001  (a reset that fails means: do not reuse)
            keep = False
        except BaseException as exc:  # noqa: BLE001  (cancelled mid-reset: state unknown, drop it)
            keep = False
            interrupted = exc
        if keep and (self._closed or now - conn.created_at > self.max_lifetime):
            keep = False
        for dead in self._put_back(conn, keep, now):
            self.backend.close(dead.raw)
        if self._size < self.min_size and not self._closed:
            self._refill_in_background()
        if interrupted is not None:
            raise interrupted

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[AsyncConnection]:
        """``async with pool.connection() as conn:`` — returned (and cleaned) when it ends."""
        conn = await self.getconn(timeout)
        try:
            yield conn
        finally:
            await self.putconn(conn)

    @asynccontextmanager
    async def transaction(self, timeout: float | None = None) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction: commit on success, roll back on exception."""
        async with self.connection(timeout) as conn, conn.transaction():
            yield conn

    # -- opening, checking, discarding -------------------------------------------------

    async def _open(self, deadline: float) -> PooledConnection:
        """Open a connection for a reserved slot by `deadline`, retrying with back-off.

        Each attempt gets only the time left, so no server can hold a checkout past it.
        What retrying cannot cure (a wrong password, an unknown database...) raises
        `ConnectionRejected` at once. Retrying logs one warning when it starts and one
        summary when it ends; the attempts in between are logged at DEBUG.
        """
        started = time.monotonic()
        delay = RETRY_FIRST_S
        attempts = 0
        last: BaseException | None = None
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self._closed:
                self._release_slot()
                if self._closed:
                    raise PoolClosed(f"pool {self.name!r} is closed")
                if last is None:  # the wait for a slot or a failed check used all the time
                    raise PoolTimeout(
                        f"pool {self.name!r} ({self.url.redacted}) reached its deadline "
                        "before it could open a new connection"
                    )
                raise self._gave_up(attempts, started, last) from self._safe_cause(last)
            attempts += 1
            try:
                raw = await self.backend.connect(timeout=left)
            except Exception as exc:
                self._count_connect_error()
                hint = self.backend.rejection_hint(exc)
                if hint is not None:
                    self._release_slot()
                    raise ConnectionRejected(
                        f"{self._connect_error(exc)}. Not retried, it would fail the same "
                        f"way: {hint}"
                    ) from self._safe_cause(exc)
                if self.backend.error_info(exc) is None and not isinstance(exc, OSError):
                    self._release_slot()
                    raise
                last = exc
                left = deadline - time.monotonic()
                if left <= 0:
                    continue  # no time for another attempt: the summary says it all
                log = logger.warning if attempts == 1 else logger.debug
                log(
                    "pool %r: connecting to %s failed, retrying until the deadline "
                    "(%.2fs left): %s",
                    self.name,
                    self.url.redacted,
                    left,
                    self._redact(exc),
                )
                try:
                    await asleep(min(delay, left))
                except BaseException:
                    self._release_slot()
                    raise
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            except BaseException:  # cancelled while connecting: the slot is free again
                self._release_slot()
                raise
            conn = PooledConnection(raw, self.backend, self._generation)
            self._add_created(conn)
            if attempts > 1:
                logger.warning(
                    "pool %r: connected to %s after %d attempts in %.2fs",
                    self.name,
                    self.url.redacted,
                    attempts,
                    time.monotonic() - started,
                )
            return conn

    async def _usable(self, conn: PooledConnection, deadline: float) -> bool:
        now = time.monotonic()
        if (
            conn.generation != self._generation
            or now - conn.created_at > self.max_lifetime
            or (now - conn.last_used > self.max_idle and self._size > self.min_size)
        ):
            return False
        raw = conn.raw
        if self.backend.is_broken(raw):
            self._count_failed_check()
            return False
        if self.check == "never":
            return True
        if (
            self.check == "always"
            or now - conn.last_used > self.check_idle_after
            or self.backend.needs_ping(raw)
        ):
            try:
                # Half the time left: a connection black-holed by a NAT or a firewall still
                # leaves time to open a fresh one.
                await self.backend.ping(raw, timeout=max(0.0, deadline - now) / 2)
            except Exception:  # noqa: BLE001  (any failure means: replace it)
                self._count_failed_check()
                return False
            except BaseException:  # cancelled mid-ping: the connection goes, so does the slot
                self._drop_checked(conn)
                self.backend.close(raw)
                raise
        return True

    def _refill_in_background(self) -> None:
        if self._start_refill():
            aspawn(self._refill, name=f"{self.name}-refill")

    async def _refill(self) -> None:
        try:
            while self._reserve_refill_slot():
                try:
                    conn = await self._open(time.monotonic() + self.timeout)
                except PoolClosed:
                    return  # closed while connecting: nothing to refill any more
                except Exception as exc:  # noqa: BLE001  (logged; the next checkout retries)
                    logger.warning(
                        "pool %r: could not refill to min_size: %s", self.name, self._redact(exc)
                    )
                    return
                await self._checkin(conn)
        finally:
            self._end_refill()

    # -- health and shutdown -----------------------------------------------------------

    async def health_check(self, timeout: float = 5.0) -> dict[str, Any]:
        """``{"status": "healthy"|"unhealthy", "backend", "latency_ms", "error"}``; never raises."""
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            wait = min(timeout, self.timeout)
            deadline = time.monotonic() + wait
            pooled = await self._checkout(timeout=wait)
            try:
                await self.backend.ping(pooled.raw, timeout=max(0.0, deadline - time.monotonic()))
            finally:
                await self._checkin(pooled)
        except Exception as exc:  # noqa: BLE001  (reported, not raised)
            error = exc
        return self._health(started, error)

    async def close(self) -> None:
        """Close idle connections now, the others when returned; wake every waiter."""
        idle = self._close_books()
        if idle is None:
            return
        for conn in idle:
            self.backend.close(conn.raw)
        self.backend.shutdown()


__all__ = ["AsyncPool", "PoolStats"]

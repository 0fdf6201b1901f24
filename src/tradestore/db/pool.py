"""A small thread-safe connection pool for both backends.

Checkout takes the most recently returned idle connection (warm caches, fewer idle sockets)
under one lock; anything slow (connecting, pinging, rolling back, closing) happens outside it.
When every connection is taken, waiters queue first come, first served: a returned connection
(or a freed slot) is handed to the longest waiter, so a thread that gives one back and asks
again at once cannot barge ahead of the queue and starve it into a `PoolTimeout`.
A connection is one borrower's at a time: each checkout hands out a fresh `Connection` lease,
so a second return, a connection of another pool, or use of a returned one is refused (see
`putconn` and connection.py). Connections come back clean: an open transaction is rolled back,
a broken connection is discarded and replaced on demand, and a session the borrower may have
changed (it touched `raw` or ran ad-hoc SQL) is restored; an untouched one costs nothing more.
A server restart heals by itself: dead idle connections are noticed on checkout (the server's
termination notice makes the socket readable, so the check costs one poll() and no round
trip) and new ones are opened, retrying until `timeout`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from tradestore.db.backends import Backend, backend_for
from tradestore.db.connection import Connection, PooledConnection
from tradestore.db.metrics import QueryMetrics
from tradestore.db.url import DatabaseURL, parse_url, redact
from tradestore.errors import (
    ConnectionFailed,
    ConnectionRejected,
    PoolClosed,
    PoolError,
    PoolTimeout,
)

logger = logging.getLogger("tradestore.pool")

CheckMode = Literal["auto", "always", "never"]
_RETRY_FIRST_S = 0.05
_RETRY_MAX_S = 1.0


class _Waiter:
    """One thread queued for a connection: served with a connection, or a slot to open one."""

    __slots__ = ("conn", "event", "served")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.conn: PooledConnection | None = None
        self.served = False


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of one pool's counters. Never contains the URL's password."""

    name: str
    backend: str
    min_size: int
    max_size: int
    size: int
    idle: int
    in_use: int
    waiting: int
    checkouts: int
    created: int
    closed: int
    failed_checks: int
    connect_errors: int
    timeouts: int
    waits: int
    longest_wait_ms: float
    total_wait_ms: float


class Pool:
    """Thread-safe pool of connections to one database.

    Knobs follow psycopg_pool and SQLAlchemy: `min_size` connections are kept open, at most
    `max_size` exist; a checkout waits at most `timeout` seconds, then raises `PoolTimeout`.
    Idle connections above `min_size` close after `max_idle` seconds; every connection is
    replaced after `max_lifetime` seconds. `check` decides when a checkout pings: ``"auto"``
    (only when the server spoke on an idle socket or it idled over `check_idle_after`),
    ``"always"`` or ``"never"``. A connection held over `leak_threshold` seconds is logged with
    the stack that took it.
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
        self.url = parse_url(url)
        if min_size < 0 or max_size < 1 or min_size > max_size:
            raise PoolError(
                f"pool sizes must satisfy 0 <= min_size <= max_size and max_size >= 1, "
                f"got min_size={min_size}, max_size={max_size}"
            )
        if timeout <= 0:
            raise PoolError(f"pool timeout must be positive, got {timeout}")
        self.name = name or f"tradestore-{self.url.dialect}"
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self.max_idle = max_idle
        self.max_lifetime = max_lifetime
        self.check = check
        self.check_idle_after = check_idle_after
        self.leak_threshold = leak_threshold
        self.backend: Backend = backend_for(self.url, query_timeout=query_timeout)
        self.dialect = self.backend.dialect
        self.metrics = QueryMetrics()
        self._init_state()
        # Leases out now. Set add/remove are atomic, so two racing returns of one lease cannot
        # both pass. Kept across fork (not in _init_state): a lease taken before the fork and
        # returned in the child must still be recognised, then disowned.
        self._lent: set[Connection] = set()
        self._closed = False
        # Open min_size connections up front (a wrong URL fails here, not at the first
        # query); no background refill may race with this.
        self._refilling = True
        _POOLS.add(self)
        opened: list[PooledConnection] = []
        try:
            opened.extend(self._checkout() for _ in range(min_size))
        except BaseException:
            self.close()
            raise
        finally:
            for pooled in opened:
                self._checkin(pooled)
            self._refilling = False

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._idle: deque[PooledConnection] = deque()
        self._taken: set[PooledConnection] = set()
        self._queue: deque[_Waiter] = deque()
        self._size = 0
        self._generation = getattr(self, "_generation", 0) + 1
        self._checkouts = self._created = self._closed_count = 0
        self._failed_checks = self._connect_errors = self._timeouts = 0
        self._longest_wait = self._total_wait = 0.0
        self._wait_events = 0

    def __repr__(self) -> str:
        return (
            f"<tradestore.Pool {self.name!r} {self.url.redacted} "
            f"size={self._size}/{self.max_size} idle={len(self._idle)}>"
        )

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- checkout and return -----------------------------------------------------------

    def getconn(self, timeout: float | None = None) -> Connection:
        """Take a connection; give it back with `putconn`. Prefer ``with pool.connection()``."""
        lease = Connection(self._checkout(timeout), self)
        self._lent.add(lease)
        return lease

    def putconn(self, conn: Connection) -> None:
        """Give a connection back: rolled back if a transaction is open, dropped if broken,
        its session restored if the borrower may have changed it.

        Refused with `PoolError`, changing nothing, for a connection already returned or one
        this pool did not lend (another pool's, or a driver connection).
        """
        try:
            self._lent.remove(conn)
        except (KeyError, TypeError):  # TypeError: not even hashable
            raise self._refusal(conn) from None
        pooled = conn._pooled
        conn._pooled = None  # from here on every use of this lease is refused
        assert pooled is not None  # a lease in _lent has not been returned yet
        self._checkin(pooled)

    def _refusal(self, conn: object) -> PoolError:
        if not isinstance(conn, Connection):
            return PoolError(
                f"pool {self.name!r} does not own this {type(conn).__name__}: give back the "
                "Connection that getconn() returned; nothing was changed"
            )
        if conn._lender is self:
            return PoolError(
                f"connection already returned to pool {self.name!r}: a second putconn (or a "
                "putconn inside its `with pool.connection()` block) is refused; nothing was "
                "changed"
            )
        return PoolError(
            f"pool {self.name!r} ({self.url.redacted}) does not own this connection: it was "
            f"taken from pool {conn._lender.name!r} ({conn.backend.describe()}); return it "
            "there. Nothing was changed"
        )

    def _checkout(self, timeout: float | None = None) -> PooledConnection:
        """Take a pooled connection without a lease: for the kit's own code, which never
        hands it to user code (a named query on a Pool), so that path pays for no lease."""
        wait = self.timeout if timeout is None else timeout
        start = time.monotonic()
        deadline = start + wait
        waited_once = False
        while True:
            conn: PooledConnection | None = None
            waiter: _Waiter | None = None
            with self._lock:
                if self._closed:
                    raise PoolClosed(f"pool {self.name!r} is closed")
                # Idle connections exist only while nobody queues (putconn serves the queue
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
                    waiter = _Waiter()
                    self._queue.append(waiter)
                if waiter is None:
                    self._count_checkout(start, waited_once)
            if waiter is not None:
                conn = self._await(waiter, start, deadline, wait)
            if conn is None:
                conn = self._open(deadline)
            elif not self._usable(conn, deadline):
                self._discard(conn)
                continue
            now = time.monotonic()
            conn.checked_out_at = now
            if self.leak_threshold is not None:
                conn.taken_from = "".join(traceback.format_stack(limit=9)[:-1])
            return conn

    def _await(
        self, waiter: _Waiter, start: float, deadline: float, wait: float
    ) -> PooledConnection | None:
        """Wait in the queue; return the connection handed over, or None for a slot to fill."""
        waiter.event.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            if not waiter.served:  # timed out or closed (served just now still counts)
                self._queue.remove(waiter)
                if self._closed:
                    raise PoolClosed(f"pool {self.name!r} is closed")
                self._timeouts += 1
                raise PoolTimeout(self._timeout_message(wait))
            self._count_checkout(start, waited=True)
        return waiter.conn

    def _count_checkout(self, start: float, waited: bool) -> None:
        self._checkouts += 1
        if waited:
            # Only checkouts that had to wait feed the wait timings (one lock, not two).
            waited_s = time.monotonic() - start
            self._total_wait += waited_s
            self._longest_wait = max(self._longest_wait, waited_s)

    def _serve(self, conn: PooledConnection | None) -> bool:
        """Hand `conn` (None: a free slot) to the longest waiter; False when nobody waits.
        Called with the lock held."""
        if not self._queue or self._closed:  # closed: the woken waiters raise PoolClosed
            return False
        waiter = self._queue.popleft()
        if conn is None:
            self._size += 1
        else:
            self._taken.add(conn)
        waiter.conn = conn
        waiter.served = True
        waiter.event.set()
        return True

    def _checkin(self, conn: PooledConnection) -> None:
        """Take a pooled connection back: clean it, then serve a waiter or keep it idle."""
        if conn.generation != self._generation:
            # Taken before a fork: the socket belongs to the parent process.
            self.backend.disown(conn.raw)
            return
        now = time.monotonic()
        held = now - conn.checked_out_at
        if self.leak_threshold is not None and held > self.leak_threshold:
            logger.warning(
                "pool %r: connection held for %.1fs (leak_threshold %.1fs), taken at:\n%s",
                self.name,
                held,
                self.leak_threshold,
                conn.taken_from,
            )
        try:
            keep = self.backend.reset(conn.raw)
            if conn.dirty and keep:
                # Only a session the borrower may have changed pays for a restore.
                conn.dirty = False
                keep = self.backend.restore(conn.raw)
        except Exception:  # noqa: BLE001  (a reset that fails means: do not reuse)
            keep = False
        if keep and (self._closed or now - conn.created_at > self.max_lifetime):
            keep = False
        to_close: list[PooledConnection] = []
        with self._lock:
            self._taken.discard(conn)
            if keep:
                conn.last_used = now
                if not self._serve(conn):
                    self._idle.append(conn)
            else:
                self._size -= 1
                self._closed_count += 1
                to_close.append(conn)
                self._serve(None)
            while (
                self._idle
                and self._size > self.min_size
                and now - self._idle[0].last_used > self.max_idle
            ):
                to_close.append(self._idle.popleft())
                self._size -= 1
                self._closed_count += 1
            below_min = self._size < self.min_size and not self._closed
        for dead in to_close:
            self.backend.close(dead.raw)
        if below_min:
            self._refill_in_background()

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[Connection]:
        """``with pool.connection() as conn:`` — returned (and cleaned) when the block ends."""
        conn = self.getconn(timeout)
        try:
            yield conn
        finally:
            self.putconn(conn)

    @contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[Connection]:
        """A connection inside one transaction: commit on success, roll back on exception."""
        with self.connection(timeout) as conn, conn.transaction():
            yield conn

    # -- opening, checking, discarding -------------------------------------------------

    def _open(self, deadline: float) -> PooledConnection:
        """Open a connection for a reserved slot by `deadline`, retrying with back-off.

        Each attempt gets only the time left, so no server can hold a checkout past it.
        What retrying cannot cure (a wrong password, an unknown database...) raises
        `ConnectionRejected` at once. Retrying logs one warning when it starts and one
        summary when it ends; the attempts in between are logged at DEBUG.
        """
        started = time.monotonic()
        delay = _RETRY_FIRST_S
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
                raw = self.backend.connect(timeout=left)
            except Exception as exc:
                with self._lock:
                    self._connect_errors += 1
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
                time.sleep(min(delay, left))
                delay = min(delay * 2, _RETRY_MAX_S)
                continue
            conn = PooledConnection(raw, self.backend, self._generation)
            with self._lock:
                self._created += 1
                self._taken.add(conn)
            if attempts > 1:
                logger.warning(
                    "pool %r: connected to %s after %d attempts in %.2fs",
                    self.name,
                    self.url.redacted,
                    attempts,
                    time.monotonic() - started,
                )
            return conn

    def _release_slot(self) -> None:
        with self._lock:
            self._size -= 1
            self._serve(None)

    def _usable(self, conn: PooledConnection, deadline: float) -> bool:
        now = time.monotonic()
        if conn.generation != self._generation:
            return False
        if now - conn.created_at > self.max_lifetime:
            return False
        if now - conn.last_used > self.max_idle and self._size > self.min_size:
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
                self.backend.ping(raw, timeout=max(0.0, deadline - now) / 2)
            except Exception:  # noqa: BLE001  (any failure means: replace it)
                self._count_failed_check()
                return False
        return True

    def _count_failed_check(self) -> None:
        with self._lock:
            self._failed_checks += 1

    def _discard(self, conn: PooledConnection) -> None:
        """Drop a connection that failed its checkout check (not counted as a checkout)."""
        with self._lock:
            self._checkouts -= 1
            self._taken.discard(conn)
            self._size -= 1
            self._closed_count += 1
            self._serve(None)
        self.backend.close(conn.raw)

    def _refill_in_background(self) -> None:
        with self._lock:
            if self._refilling or self._closed:
                return
            self._refilling = True
        threading.Thread(target=self._refill, name=f"{self.name}-refill", daemon=True).start()

    def _refill(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed or self._size >= self.min_size:
                        return
                    self._size += 1
                try:
                    conn = self._open(time.monotonic() + self.timeout)
                except PoolClosed:
                    return  # closed while connecting: nothing to refill any more
                except Exception as exc:  # noqa: BLE001  (logged; the next checkout retries)
                    logger.warning(
                        "pool %r: could not refill to min_size: %s", self.name, self._redact(exc)
                    )
                    return
                self._checkin(conn)
        finally:
            with self._lock:
                self._refilling = False

    # -- errors, stats, health -----------------------------------------------------------

    def _redact(self, exc: BaseException) -> str:
        return redact(str(exc).strip(), self.url.password)

    def _safe_cause(self, exc: BaseException) -> BaseException | None:
        # Chain the driver error only when its text holds no secret to leak in a traceback.
        return exc if self._redact(exc) == str(exc).strip() else None

    def _connect_error(self, exc: BaseException) -> str:
        return f"pool {self.name!r} could not connect to {self.url.redacted}: {self._redact(exc)}"

    def _gave_up(self, attempts: int, started: float, last: BaseException) -> ConnectionFailed:
        """The summary of a retry that ran out of time: logged once, and raised."""
        summary = (
            f"{self._connect_error(last)} (gave up at the deadline after {attempts} "
            f"attempt{'s' if attempts > 1 else ''} in {time.monotonic() - started:.2f}s)"
        )
        logger.warning("%s", summary)
        return ConnectionFailed(summary)

    def _timeout_message(self, waited: float) -> str:
        s = self.stats()
        message = (
            f"pool {self.name!r} ({self.url.redacted}) had no free connection after "
            f"{waited:.2f}s: size {s.size}/{s.max_size}, in use {s.in_use}, idle {s.idle}, "
            f"waiting {s.waiting}. Raise max_size (DB_POOL_SIZE/DB_MAX_OVERFLOW) or return "
            "connections sooner"
        )
        now = time.monotonic()
        held = sorted(self._taken, key=lambda c: c.checked_out_at)[:1]
        for conn in held:
            if conn.checked_out_at:
                message += f"; the oldest checkout is {now - conn.checked_out_at:.1f}s old"
                if conn.taken_from:
                    message += f", taken at:\n{conn.taken_from}"
        return message

    def stats(self) -> PoolStats:
        """Counters since the pool was created (safe to log: no password)."""
        idle = len(self._idle)
        return PoolStats(
            name=self.name,
            backend=self.dialect,
            min_size=self.min_size,
            max_size=self.max_size,
            size=self._size,
            idle=idle,
            in_use=len(self._taken),
            waiting=len(self._queue),
            checkouts=self._checkouts,
            created=self._created,
            closed=self._closed_count,
            failed_checks=self._failed_checks,
            connect_errors=self._connect_errors,
            timeouts=self._timeouts,
            waits=self._wait_events,
            longest_wait_ms=round(self._longest_wait * 1000, 3),
            total_wait_ms=round(self._total_wait * 1000, 3),
        )

    def health_check(self, timeout: float = 5.0) -> dict[str, Any]:
        """``{"status": "healthy"|"unhealthy", "backend", "latency_ms", "error"}``; never raises."""
        start = time.perf_counter()
        error: str | None = None
        try:
            wait = min(timeout, self.timeout)
            deadline = time.monotonic() + wait
            pooled = self._checkout(timeout=wait)
            try:
                self.backend.ping(pooled.raw, timeout=max(0.0, deadline - time.monotonic()))
            finally:
                self._checkin(pooled)
        except Exception as exc:  # noqa: BLE001  (reported, not raised)
            error = f"{type(exc).__name__}: {self._redact(exc)}"
        return {
            "status": "unhealthy" if error else "healthy",
            "backend": self.dialect,
            "database": self.url.redacted,
            "pool": self.name,
            "latency_ms": round((time.perf_counter() - start) * 1000, 3),
            "error": error,
        }

    # -- shutdown and fork -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close idle connections now, the others when returned; wake every waiter."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._size -= len(idle)
            self._closed_count += len(idle)
            for waiter in self._queue:  # each one leaves the queue itself, with PoolClosed
                waiter.event.set()
        for conn in idle:
            self.backend.close(conn.raw)
        self.backend.shutdown()

    def _after_fork_in_child(self) -> None:
        inherited = list(self._idle)
        self._init_state()
        for conn in inherited:
            self.backend.disown(conn.raw)


_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


def _reset_pools_after_fork() -> None:
    for pool in list(_POOLS):
        pool._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_pools_after_fork)

"""What both faces of the pool share: knobs, bookkeeping, the queue of waiters, stats, messages.

Nothing here does I/O or waits: `pool_async.AsyncPool` and its generated sync twin
`pool.Pool` call into this for every decision taken under the pool's lock, and do the
connecting, pinging, resetting and waiting themselves.

The bookkeeping (one lock; anything slow happens outside it):
- `_idle` holds connections nobody holds, most recently returned last (checkout pops from
  the end: warm caches, fewer idle sockets); `_taken` those checked out; `_size` counts both
  plus the slots reserved by checkouts that are still connecting.
- When every connection is taken, waiters queue first come, first served: a returned
  connection (or a freed slot) is handed to the longest waiter, so a borrower that gives one
  back and asks again at once cannot barge ahead of the queue and starve it.
- `_lent` holds the leases out now; a lease that is not in it is refused on return.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from tradestore.db.connection_base import PooledConnection
from tradestore.db.metrics import QueryMetrics
from tradestore.db.url import DatabaseURL, parse_url, redact
from tradestore.errors import ConnectionFailed, PoolClosed, PoolError, PoolTimeout

logger = logging.getLogger("tradestore.pool")

CheckMode = Literal["auto", "always", "never"]
RETRY_FIRST_S = 0.05
RETRY_MAX_S = 1.0


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


class Waiter:
    """One borrower queued for a connection: served with a connection, or a slot to open one.

    `event` is a `threading.Event` on the sync face, an `asyncio.Event` on the async one."""

    __slots__ = ("conn", "event", "served")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.conn: PooledConnection | None = None
        self.served = False


class PoolBase:
    """Knobs, state and every locked decision of a pool; see the module docstring."""

    def __init__(
        self,
        url: str | DatabaseURL,
        *,
        min_size: int,
        max_size: int,
        timeout: float,
        max_idle: float,
        max_lifetime: float,
        check: CheckMode,
        check_idle_after: float,
        name: str | None,
        leak_threshold: float | None,
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
        self.metrics = QueryMetrics()
        self.init_state()
        # Leases out now. Set add/remove are atomic, so two racing returns of one lease cannot
        # both pass. Kept across fork (not in init_state): a lease taken before the fork and
        # returned in the child must still be recognised, then disowned.
        self._lent: set[Any] = set()
        self._closed = False
        self._refilling = False
        _POOLS.add(self)

    def init_state(self) -> None:
        self._lock = threading.Lock()
        self._idle: deque[PooledConnection] = deque()
        self._taken: set[PooledConnection] = set()
        self._queue: deque[Waiter] = deque()
        self._size = 0
        self._generation = getattr(self, "_generation", 0) + 1
        self._checkouts = self._created = self._closed_count = 0
        self._failed_checks = self._connect_errors = self._timeouts = 0
        self._longest_wait = self._total_wait = 0.0
        self._wait_events = 0

    def __repr__(self) -> str:
        return (
            f"<tradestore.{type(self).__name__} {self.name!r} {self.url.redacted} "
            f"size={self._size}/{self.max_size} idle={len(self._idle)}>"
        )

    @property
    def closed(self) -> bool:
        return self._closed

    # -- decisions under the lock ------------------------------------------------------

    def _leave_queue(self, waiter: Waiter, start: float, wait: float) -> PooledConnection | None:
        """After a wait: what the waiter was served (None: a slot to fill), or it leaves the
        queue and `PoolClosed`/`PoolTimeout` is raised."""
        with self._lock:
            if not waiter.served:  # timed out or closed (served just now still counts)
                self._queue.remove(waiter)
                if self._closed:
                    raise PoolClosed(f"pool {self.name!r} is closed")
                self._timeouts += 1
                raise PoolTimeout(self._timeout_message(wait))
            self._count_checkout(start, waited=True)
        return waiter.conn

    def _abandon(self, waiter: Waiter) -> None:
        """A waiter interrupted (a cancelled task): out of the queue, or what it was served
        meanwhile goes to the next waiter or back to idle, so nothing leaks."""
        with self._lock:
            if not waiter.served:
                self._queue.remove(waiter)
                return
            conn = waiter.conn
            if conn is None:  # a slot: free it for the next waiter
                self._size -= 1
                self._serve(None)
            else:  # a clean connection nobody used: the next waiter's, or idle
                self._taken.discard(conn)
                if not self._serve(conn):
                    self._idle.append(conn)

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

    def _put_back(self, conn: PooledConnection, keep: bool, now: float) -> list[PooledConnection]:
        """Under the lock: a returned connection (`keep`: clean and worth keeping) to the next
        waiter or idle, else its slot freed; idle ones past `max_idle` retired. Returns the
        connections to close (outside the lock)."""
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
        return to_close

    def _note_leak(self, conn: PooledConnection, now: float) -> None:
        held = now - conn.checked_out_at
        if self.leak_threshold is not None and held > self.leak_threshold:
            logger.warning(
                "pool %r: connection held for %.1fs (leak_threshold %.1fs), taken at:\n%s",
                self.name,
                held,
                self.leak_threshold,
                conn.taken_from,
            )

    def _release_slot(self) -> None:
        with self._lock:
            self._size -= 1
            self._serve(None)

    def _add_created(self, conn: PooledConnection) -> None:
        with self._lock:
            self._created += 1
            self._taken.add(conn)

    def _count_connect_error(self) -> None:
        with self._lock:
            self._connect_errors += 1

    def _count_failed_check(self) -> None:
        with self._lock:
            self._failed_checks += 1

    def _drop_checked(self, conn: PooledConnection) -> None:
        """Under the lock: a connection that failed its checkout check leaves the books (not
        counted as a checkout); the caller closes it."""
        with self._lock:
            self._checkouts -= 1
            self._taken.discard(conn)
            self._size -= 1
            self._closed_count += 1
            self._serve(None)

    def _start_refill(self) -> bool:
        """Under the lock: whether a background refill should start now (and mark it so)."""
        with self._lock:
            if self._refilling or self._closed:
                return False
            self._refilling = True
            return True

    def _reserve_refill_slot(self) -> bool:
        with self._lock:
            if self._closed or self._size >= self.min_size:
                return False
            self._size += 1
            return True

    def _end_refill(self) -> None:
        with self._lock:
            self._refilling = False

    def _close_books(self) -> list[PooledConnection] | None:
        """Under the lock: mark closed, wake every waiter, and hand back the idle connections
        to close; None when already closed."""
        with self._lock:
            if self._closed:
                return None
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._size -= len(idle)
            self._closed_count += len(idle)
            for waiter in self._queue:  # each one leaves the queue itself, with PoolClosed
                waiter.event.set()
        return idle

    # -- leases ------------------------------------------------------------------------

    def _refusal(self, conn: object, lease_type: type) -> PoolError:
        if not isinstance(conn, lease_type):
            return PoolError(
                f"pool {self.name!r} does not own this {type(conn).__name__}: give back the "
                f"{lease_type.__name__} that getconn() returned; nothing was changed"
            )
        lender = conn._lender  # type: ignore[attr-defined]  # a lease of either face
        if lender is self:
            return PoolError(
                f"connection already returned to pool {self.name!r}: a second putconn (or a "
                "putconn inside its `with pool.connection()` block) is refused; nothing was "
                "changed"
            )
        return PoolError(
            f"pool {self.name!r} ({self.url.redacted}) does not own this connection: it was "
            f"taken from pool {lender.name!r} ({conn.backend.describe()}); return it "  # type: ignore[attr-defined]
            "there. Nothing was changed"
        )

    # -- errors, stats -----------------------------------------------------------------

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
        return PoolStats(
            name=self.name,
            backend=self.url.dialect,
            min_size=self.min_size,
            max_size=self.max_size,
            size=self._size,
            idle=len(self._idle),
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

    def _health(self, started: float, error: BaseException | None) -> dict[str, Any]:
        return {
            "status": "unhealthy" if error else "healthy",
            "backend": self.url.dialect,
            "database": self.url.redacted,
            "pool": self.name,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
            "error": f"{type(error).__name__}: {self._redact(error)}" if error else None,
        }

    # -- fork ----------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        inherited = list(self._idle)
        self.init_state()
        for conn in inherited:
            conn.backend.disown(conn.raw)


_POOLS: weakref.WeakSet[PoolBase] = weakref.WeakSet()


def _reset_pools_after_fork() -> None:
    for pool in list(_POOLS):
        pool._after_fork_in_child()


os.register_at_fork(after_in_child=_reset_pools_after_fork)


__all__ = ["CheckMode", "PoolBase", "PoolStats", "Waiter"]

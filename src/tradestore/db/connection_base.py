"""What both faces of a connection share: the pooled record, and driver errors made the kit's.

`PooledConnection` is what a pool owns: the raw driver connection (psycopg's `Connection` or
`AsyncConnection`, or a sqlite3 connection) plus the pool's bookkeeping. It never reaches user
code: a borrower gets a lease on it (`connection.Connection`, `connection_async.AsyncConnection`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from tradestore.db.url import redact
from tradestore.errors import (
    IntegrityViolation,
    PoolError,
    QueryError,
    QueryTimeout,
    TradestoreError,
)

if TYPE_CHECKING:
    from tradestore.db.backends.base import AsyncBackend, Backend


def wrap_driver_error(
    exc: BaseException, backend: Backend | AsyncBackend, what: str, *, query: str | None = None
) -> TradestoreError:
    """Turn a driver exception into the kit's error: `what` names the query and file:line.

    The driver's own message is kept (it says which constraint or column), passwords removed;
    parameter values are never added.
    """
    info = backend.error_info(exc)
    sqlstate = info.sqlstate if info else None
    detail = redact(str(exc).strip(), backend.url.password) or type(exc).__name__
    code = f" [{sqlstate}]" if sqlstate else ""
    message = f"{what} failed{code}: {detail}"
    if info and info.timed_out:
        return QueryTimeout(
            f"{what} was cancelled after the statement timeout "
            f"({backend.query_timeout}s, DB_QUERY_TIMEOUT){code}",
            query=query,
            sqlstate=sqlstate,
        )
    if info and info.integrity:
        return IntegrityViolation(message, query=query, sqlstate=sqlstate)
    return QueryError(message, query=query, sqlstate=sqlstate)


class PooledConnection:
    """One driver connection owned by a pool: the raw connection and the pool's bookkeeping.

    Internal: borrowers get a lease on it. The kit's own per-call path (a named query on a
    pool) runs on this object directly and so skips the lease. `backend` is the pool's, of
    the pool's face (`Backend` or `AsyncBackend`).
    """

    __slots__ = (
        "backend",
        "checked_out_at",
        "created_at",
        "dialect",
        "dirty",
        "driver_cursor",
        "generation",
        "last_used",
        "raw",
        "taken_from",
    )

    def __init__(self, raw: Any, backend: Any, generation: int = 0) -> None:
        self.raw = raw
        self.backend = backend
        self.dialect: str = backend.dialect
        now = time.monotonic()
        self.created_at = now
        self.last_used = now
        self.checked_out_at = 0.0
        self.taken_from: str | None = None
        # The query layer's reusable driver cursor (see runners_postgres.cursor_of): made on
        # first use.
        self.driver_cursor: Any = None
        self.generation = generation
        # Set when a borrower may have changed the session (touched `raw`, ran ad-hoc SQL, or
        # a named statement such as SET or PRAGMA): the pool restores the session on return.
        # A flag, not a query: a borrower who changed nothing costs no round trip.
        self.dirty = False


class Lender(Protocol):
    """What a lease needs of its pool (the pool modules import the lease, not the reverse)."""

    name: str


def returned_error(lender: Lender) -> PoolError:
    """Why a lease that went back to `lender` cannot be used."""
    return PoolError(
        f"this connection was returned to pool {lender.name!r} and may be in another "
        "borrower's hands now: it cannot be used any more (a reference kept after its "
        "`with pool.connection()` block or its putconn). Take a new one with "
        "pool.connection()"
    )


__all__ = ["Lender", "PooledConnection", "returned_error", "wrap_driver_error"]

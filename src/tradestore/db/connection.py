"""A pooled connection, and a borrower's lease on it.

`PooledConnection` is what a pool owns: the raw driver connection plus the pool's bookkeeping.
It never reaches user code. A borrower gets a `Connection`: a lease made fresh for each
checkout, valid until it goes back. A reference kept past the return (after its ``with``
block, or a second `putconn`) is therefore detectably stale, and every use of it is refused:
reusing one lease object per pooled connection would make an old reference valid again the
moment the next borrower took the connection.

`Connection.transaction()` works the same on both backends: the outermost level opens a
transaction (``BEGIN`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), inner levels are
savepoints; success commits or releases, an exception rolls back to where the level began.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from tradestore.db.backends.sqlite_values import convert_params
from tradestore.db.url import redact
from tradestore.errors import (
    IntegrityViolation,
    PoolError,
    QueryError,
    QueryTimeout,
    TradestoreError,
)

if TYPE_CHECKING:
    from tradestore.db.backends.base import Backend


def wrap_driver_error(
    exc: BaseException, backend: Backend, what: str, *, query: str | None = None
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

    Internal: borrowers get a `Connection` lease on it. The kit's own per-call path (a named
    query on a `Pool`) runs on this object directly and so skips the lease.
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

    def __init__(self, raw: Any, backend: Backend, generation: int = 0) -> None:
        self.raw = raw
        self.backend = backend
        self.dialect = backend.dialect
        now = time.monotonic()
        self.created_at = now
        self.last_used = now
        self.checked_out_at = 0.0
        self.taken_from: str | None = None
        # The query layer's reusable driver cursor (see queries._pg_cursor): made on first use.
        self.driver_cursor: Any = None
        self.generation = generation
        # Set when a borrower may have changed the session (touched `raw`, ran ad-hoc SQL, or
        # a named statement such as SET or PRAGMA): the pool restores the session on return.
        # A flag, not a query: a borrower who changed nothing costs no round trip.
        self.dirty = False


class _Lender(Protocol):
    """What a lease needs of its pool (the pool module imports this one, not the reverse)."""

    name: str


class Connection:
    """A borrower's checked-out connection. Use it from one thread, inside its `with` block.

    `raw` is the driver connection (psycopg 3 or sqlite3) for anything the kit does not cover;
    touching it (or `execute`) makes the pool restore the session when the connection goes
    back. Once returned, `raw`, `execute`, `transaction`, `in_transaction` and named queries
    raise `PoolError` naming the pool.
    """

    __slots__ = ("_depth", "_lender", "_pooled", "backend", "dialect")

    def __init__(self, pooled: PooledConnection, lender: _Lender) -> None:
        # None once returned: the one flag every use checks.
        self._pooled: PooledConnection | None = pooled
        self._lender = lender
        self._depth = 0
        self.backend = pooled.backend
        self.dialect = pooled.dialect

    def __repr__(self) -> str:
        if self._pooled is None:
            state = f"returned to pool {self._lender.name!r}"
        else:
            state = "in transaction" if self._depth else "idle"
        return f"<tradestore.Connection {self.dialect} {self.backend.describe()} {state}>"

    def _refuse(self) -> NoReturn:
        raise PoolError(
            f"this connection was returned to pool {self._lender.name!r} and may be in another "
            "borrower's hands now: it cannot be used any more (a reference kept after its "
            "`with pool.connection()` block or its putconn). Take a new one with "
            "pool.connection()"
        )

    def _live(self) -> PooledConnection:
        """The pooled connection, for the kit's own code: no dirty mark, refused once returned."""
        return self._pooled or self._refuse()

    @property
    def raw(self) -> Any:
        """The driver connection; what you change on it is undone when the connection returns."""
        pooled = self._pooled or self._refuse()
        pooled.dirty = True
        return pooled.raw

    @property
    def in_transaction(self) -> bool:
        """True inside `transaction()` (or when the caller began one by hand)."""
        return self._depth > 0 or self.backend.in_transaction(self._live().raw)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Run one statement in the driver's own parameter style; returns the driver cursor.

        For ad-hoc work (scripts, tests). Bots call named queries instead. On SQLite the
        parameters are converted like a named query's (Decimal, aware datetime, JSON); `raw`
        is the bare driver connection and converts nothing. SQL that may change the session
        (SET, PRAGMA, ...; on PostgreSQL any statement) makes the pool restore it on return.
        """
        pooled = self._pooled or self._refuse()
        if not pooled.dirty and self.backend.changes_session(sql):
            pooled.dirty = True
        raw = pooled.raw
        try:
            if self.dialect == "sqlite":
                self.backend.arm_timeout(raw)
                return raw.execute(sql, () if params is None else convert_params(params))
            return raw.execute(sql, params)
        except Exception as exc:
            if self.backend.error_info(exc) is None:
                raise
            raise wrap_driver_error(exc, self.backend, "statement") from exc

    def _control(self, sql: str) -> None:
        raw = self._live().raw
        try:
            raw.execute(sql)
        except Exception as exc:
            if self.backend.error_info(exc) is None:
                raise
            raise wrap_driver_error(exc, self.backend, sql) from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Commit on success, roll back on exception; nested calls use savepoints."""
        depth = self._depth
        savepoint = f"tradestore_sp_{depth}"
        self._control(self.backend.begin_sql if depth == 0 else f"SAVEPOINT {savepoint}")
        self._depth = depth + 1
        try:
            yield self
        except BaseException:
            self._depth = depth
            self._rollback_quietly(None if depth == 0 else savepoint)
            raise
        self._depth = depth
        if depth == 0:
            self._commit()
        else:
            self._control(f"RELEASE SAVEPOINT {savepoint}")

    def _commit(self) -> None:
        if self.dialect == "postgresql":
            from psycopg.pq import TransactionStatus  # noqa: PLC0415

            if self._live().raw.info.transaction_status == TransactionStatus.INERROR:
                # PostgreSQL would answer COMMIT with a silent ROLLBACK: say so instead.
                self._rollback_quietly(None)
                raise QueryError(
                    "COMMIT refused: a statement in this transaction failed and its error "
                    "was caught; the whole transaction was rolled back"
                )
        self._control("COMMIT")

    def _rollback_quietly(self, savepoint: str | None) -> None:
        # The exception already on its way out matters more than a failed rollback; a
        # connection that cannot roll back is discarded by the pool on return. A connection
        # already returned was rolled back by the pool and is not ours to touch.
        pooled = self._pooled
        if pooled is None:
            return
        try:
            if savepoint is None:
                pooled.raw.execute("ROLLBACK")
            else:
                pooled.raw.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                pooled.raw.execute(f"RELEASE SAVEPOINT {savepoint}")
        except Exception:  # noqa: BLE001,S110
            pass

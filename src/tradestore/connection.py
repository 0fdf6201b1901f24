"""A pooled connection: the raw driver connection plus the kit's transaction handling.

`Connection.transaction()` works the same on both backends: the outermost level opens a
transaction (``BEGIN`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), inner levels are
savepoints; success commits or releases, an exception rolls back to where the level began.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tradestore.backends.sqlite_values import convert_params
from tradestore.errors import (
    IntegrityViolation,
    QueryError,
    QueryTimeout,
    TradestoreError,
)
from tradestore.url import redact

if TYPE_CHECKING:
    from tradestore.backends.base import Backend


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


class Connection:
    """One checked-out connection. Use it from one thread at a time, inside its `with` block.

    `raw` is the driver connection (psycopg 3 or sqlite3) for anything the kit does not cover.
    """

    __slots__ = (
        "_depth",
        "_generation",
        "backend",
        "checked_out_at",
        "created_at",
        "dialect",
        "driver_cursor",
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
        self._depth = 0
        self._generation = generation

    def __repr__(self) -> str:
        state = "in transaction" if self._depth else "idle"
        return f"<tradestore.Connection {self.dialect} {self.backend.describe()} {state}>"

    @property
    def in_transaction(self) -> bool:
        """True inside `transaction()` (or when the caller began one by hand)."""
        return self._depth > 0 or self.backend.in_transaction(self.raw)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Run one statement in the driver's own parameter style; returns the driver cursor.

        For ad-hoc work (scripts, tests). Bots call named queries instead. On SQLite the
        parameters are converted like a named query's (Decimal, aware datetime, JSON); `raw`
        is the bare driver connection and converts nothing.
        """
        try:
            if self.dialect == "sqlite":
                self.backend.arm_timeout(self.raw)
                return self.raw.execute(sql, () if params is None else convert_params(params))
            return self.raw.execute(sql, params)
        except Exception as exc:
            if self.backend.error_info(exc) is None:
                raise
            raise wrap_driver_error(exc, self.backend, "statement") from exc

    def _control(self, sql: str) -> None:
        try:
            self.raw.execute(sql)
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

            if self.raw.info.transaction_status == TransactionStatus.INERROR:
                # PostgreSQL would answer COMMIT with a silent ROLLBACK: say so instead.
                self._rollback_quietly(None)
                raise QueryError(
                    "COMMIT refused: a statement in this transaction failed and its error "
                    "was caught; the whole transaction was rolled back"
                )
        self._control("COMMIT")

    def _rollback_quietly(self, savepoint: str | None) -> None:
        # The exception already on its way out matters more than a failed rollback; a
        # connection that cannot roll back is discarded by the pool on return.
        try:
            if savepoint is None:
                self.raw.execute("ROLLBACK")
            else:
                self.raw.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                self.raw.execute(f"RELEASE SAVEPOINT {savepoint}")
        except Exception:  # noqa: BLE001,S110
            pass

"""A borrower's lease on a pooled connection, and its transactions (async face).

A borrower gets a connection lease made fresh for each checkout, valid until it goes back. A
reference kept past the return (after its ``async with`` block, or a second `putconn`) is
therefore detectably stale, and every use of it is refused: reusing one lease object per
pooled connection would make an old reference valid again the moment the next borrower took
the connection.

`transaction()` works the same on both backends: the outermost level opens a transaction
(``BEGIN`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), inner levels are savepoints;
success commits or releases, an exception (a cancellation included) rolls back to where the
level began.

Written once for asyncio; the sync `Connection` (``connection.py``) is generated from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NoReturn

from tradestore.db.connection_base import (
    Lender,
    PooledConnection,
    returned_error,
    wrap_driver_error,
)
from tradestore.errors import QueryError

if TYPE_CHECKING:
    from tradestore.db.backends.base import AsyncBackend


class AsyncConnection:
    """A borrower's checked-out connection. Use it from one task, inside its block.

    `raw` is the driver connection (psycopg 3, or sqlite3 for SQLite) for anything the kit
    does not cover; touching it (or `execute`) makes the pool restore the session when the
    connection goes back. Once returned, `raw`, `execute`, `transaction`, `in_transaction`
    and named queries raise `PoolError` naming the pool.
    """

    __slots__ = ("_depth", "_lender", "_pooled", "backend", "dialect")

    def __init__(self, pooled: PooledConnection, lender: Lender) -> None:
        # None once returned: the one flag every use checks.
        self._pooled: PooledConnection | None = pooled
        self._lender = lender
        self._depth = 0
        self.backend: AsyncBackend = pooled.backend
        self.dialect: str = pooled.dialect

    def __repr__(self) -> str:
        if self._pooled is None:
            state = f"returned to pool {self._lender.name!r}"
        else:
            state = "in transaction" if self._depth else "idle"
        return f"<tradestore.AsyncConnection {self.dialect} {self.backend.describe()} {state}>"

    def _refuse(self) -> NoReturn:
        raise returned_error(self._lender)

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

    async def execute(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> Any:
        """Run one statement in the driver's own parameter style; returns the driver cursor.

        For ad-hoc work (scripts, tests). Bots call named queries instead. On SQLite the
        parameters are converted like a named query's (Decimal, aware datetime, JSON); `raw`
        is the bare driver connection and converts nothing. SQL that may change the session
        (SET, PRAGMA, ...; on PostgreSQL any statement) makes the pool restore it on return.
        """
        pooled = self._pooled or self._refuse()
        if not pooled.dirty and self.backend.changes_session(sql):
            pooled.dirty = True
        try:
            return await self.backend.execute(pooled.raw, sql, params)
        except Exception as exc:
            if self.backend.error_info(exc) is None:
                raise
            raise wrap_driver_error(exc, self.backend, "statement") from exc

    async def _control(self, sql: str) -> None:
        raw = self._live().raw
        try:
            await self.backend.execute(raw, sql)
        except Exception as exc:
            if self.backend.error_info(exc) is None:
                raise
            raise wrap_driver_error(exc, self.backend, sql) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """Commit on success, roll back on exception; nested calls use savepoints."""
        depth = self._depth
        savepoint = f"tradestore_sp_{depth}"
        await self._control(self.backend.begin_sql if depth == 0 else f"SAVEPOINT {savepoint}")
        self._depth = depth + 1
        try:
            yield self
        except BaseException:
            self._depth = depth
            await self._rollback_quietly(None if depth == 0 else savepoint)
            raise
        self._depth = depth
        if depth == 0:
            await self._commit()
        else:
            await self._control(f"RELEASE SAVEPOINT {savepoint}")

    async def _commit(self) -> None:
        if self.backend.in_failed_transaction(self._live().raw):
            # PostgreSQL would answer COMMIT with a silent ROLLBACK: say so instead.
            await self._rollback_quietly(None)
            raise QueryError(
                "COMMIT refused: a statement in this transaction failed and its error "
                "was caught; the whole transaction was rolled back"
            )
        await self._control("COMMIT")

    async def _rollback_quietly(self, savepoint: str | None) -> None:
        # The exception already on its way out matters more than a failed rollback; a
        # connection that cannot roll back is discarded by the pool on return. A connection
        # already returned was rolled back by the pool and is not ours to touch.
        pooled = self._pooled
        if pooled is None:
            return
        try:
            if savepoint is None:
                await self.backend.execute(pooled.raw, "ROLLBACK")
            else:
                await self.backend.execute(pooled.raw, f"ROLLBACK TO SAVEPOINT {savepoint}")
                await self.backend.execute(pooled.raw, f"RELEASE SAVEPOINT {savepoint}")
        except Exception:  # noqa: BLE001,S110
            pass


__all__ = ["AsyncConnection", "PooledConnection", "wrap_driver_error"]

"""Where a call runs: on the pool, or inside the transaction its task (or thread) has open.

The store, the repositories and the audit trail all take a scope. Outside a transaction a
call goes to the pool (one statement, one autocommit transaction). Inside
``async with scope.transaction():`` every call made by that task joins the same connection
and transaction, so a bot can batch many writes into one commit, and an order fill, its trade
and its audit row land together or not at all. Nested blocks are savepoints.

The open transaction is kept in a context variable, with the task that opened it: a task
created inside the block copies the context but does not join the transaction (its calls go
to the pool, as another thread's do on the sync face), so two tasks never share a connection.

Written once for asyncio; the sync `DbScope` (``scope.py``) is generated from it.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tradestore.db._acompat import acurrent_owner
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool_async import AsyncPool

_ids = itertools.count(1)


class AsyncDbScope:
    """The pool plus, per task, the connection of the transaction that task has open."""

    __slots__ = ("_open", "pool")

    def __init__(self, pool: AsyncPool) -> None:
        self.pool = pool
        self._open: contextvars.ContextVar[tuple[object, AsyncConnection] | None] = (
            contextvars.ContextVar(f"tradestore_scope_{next(_ids)}", default=None)
        )

    @property
    def current(self) -> AsyncConnection | None:
        """The caller's transaction connection, or None outside a transaction."""
        held = self._open.get()
        if held is None or held[0] != acurrent_owner():
            return None
        return held[1]

    def db(self) -> AsyncPool | AsyncConnection:
        """What a query call should run on right now (see the module docstring)."""
        held = self._open.get()
        if held is None or held[0] != acurrent_owner():
            return self.pool
        return held[1]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """Commit on success, roll back on exception; inside another one: a savepoint."""
        outer = self.current
        if outer is not None:
            async with outer.transaction():
                yield outer
            return
        async with self.pool.connection() as conn, conn.transaction():
            token = self._open.set((acurrent_owner(), conn))
            try:
                yield conn
            finally:
                self._open.reset(token)


__all__ = ["AsyncDbScope"]

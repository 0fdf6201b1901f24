# Generated from scope_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
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
from collections.abc import Iterator
from contextlib import contextmanager

from tradestore.db._acompat import current_owner
from tradestore.db.connection import Connection
from tradestore.db.pool import Pool

_ids = itertools.count(1)


class DbScope:
    """The pool plus, per task, the connection of the transaction that task has open."""

    __slots__ = ("_open", "pool")

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._open: contextvars.ContextVar[tuple[object, Connection] | None] = (
            contextvars.ContextVar(f"tradestore_scope_{next(_ids)}", default=None)
        )

    @property
    def current(self) -> Connection | None:
        """The caller's transaction connection, or None outside a transaction."""
        held = self._open.get()
        if held is None or held[0] != current_owner():
            return None
        return held[1]

    def db(self) -> Pool | Connection:
        """What a query call should run on right now (see the module docstring)."""
        held = self._open.get()
        if held is None or held[0] != current_owner():
            return self.pool
        return held[1]

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Commit on success, roll back on exception; inside another one: a savepoint."""
        outer = self.current
        if outer is not None:
            with outer.transaction():
                yield outer
            return
        with self.pool.connection() as conn, conn.transaction():
            token = self._open.set((current_owner(), conn))
            try:
                yield conn
            finally:
                self._open.reset(token)


__all__ = ["DbScope"]

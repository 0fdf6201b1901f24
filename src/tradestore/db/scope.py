"""Where a store call runs: on the pool, or inside the calling thread's open transaction.

The store, the repositories and the audit trail all take a `DbScope`. Outside a transaction a
call goes to the pool (one statement, one autocommit transaction). Inside
``with scope.transaction():`` every call made by that thread joins the same connection and
transaction, so a bot can batch many writes into one commit, and an order fill, its trade
and its audit row land together or not at all. Nested blocks are savepoints.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tradestore.db.connection import Connection
from tradestore.db.pool import Pool


class DbScope:
    """The pool plus, per thread, the connection of the transaction that thread has open."""

    __slots__ = ("_local", "pool")

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._local = threading.local()

    @property
    def current(self) -> Connection | None:
        """The calling thread's transaction connection, or None outside a transaction."""
        conn: Connection | None = getattr(self._local, "conn", None)
        return conn

    def db(self) -> Pool | Connection:
        """What a query call should run on right now (see the module docstring)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        return self.pool if conn is None else conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Commit on success, roll back on exception; inside another one: a savepoint."""
        outer = self.current
        if outer is not None:
            with outer.transaction():
                yield outer
            return
        with self.pool.connection() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None


__all__ = ["DbScope"]

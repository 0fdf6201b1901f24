"""The :batch family on SQLite: ``executemany`` in one transaction (or a savepoint inside the
caller's), or one execute per item when rows come back (executemany drops them).

Each function here is the work inside that transaction, on the pooled connection: the sync
face runs it in place (`run`), the async face on the connection's worker thread (`arun`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradestore.db.connection import Connection, PooledConnection
from tradestore.db.connection_async import AsyncConnection
from tradestore.queries.binding import RowBuilder, Variant
from tradestore.queries.columns import unique
from tradestore.queries.lastid import has_returning
from tradestore.queries.sqlfile import Cardinality

Values = list[tuple[Any, ...]]
Work = Callable[[PooledConnection, Variant, Values, RowBuilder], Any]


def _batchexec(conn: PooledConnection, v: Variant, values: Values, build: RowBuilder) -> Any:
    raw = conn.raw
    count = 0
    conn.backend.arm_timeout(raw)  # one clock for the whole batch, as for :copyfrom
    if has_returning(v.sql):
        # executemany drops RETURNING rows and with them the row count: one by one.
        for args in values:
            cur = raw.execute(v.sql, args)
            cur.fetchall()
            count += cur.rowcount
    else:
        count = raw.executemany(v.sql, values).rowcount
    return count


def _batchone(conn: PooledConnection, v: Variant, values: Values, build: RowBuilder) -> Any:
    raw = conn.raw
    found: list[Any] = []
    names: list[str] | None = None
    conn.backend.arm_timeout(raw)  # one clock for the whole batch
    for args in values:
        cur = raw.execute(v.sql, args)
        row = cur.fetchone()
        if row is None:
            found.append(None)
        else:
            if names is None:
                names = unique(v.block, [d[0] for d in cur.description])
            found.append(build(dict(zip(names, row, strict=True))))
        cur.close()  # a RETURNING statement finishes only when drained or closed
    return found


def _batchmany(conn: PooledConnection, v: Variant, values: Values, build: RowBuilder) -> Any:
    raw = conn.raw
    found: list[list[Any]] = []
    names: list[str] = []
    conn.backend.arm_timeout(raw)  # one clock for the whole batch
    for args in values:
        cur = raw.execute(v.sql, args)
        rows = cur.fetchall()
        if rows and not names:
            names = unique(v.block, [d[0] for d in cur.description])
        found.append([build(dict(zip(names, row, strict=True))) for row in rows])
    return found


_WORK: dict[Cardinality, Work] = {
    Cardinality.BATCHEXEC: _batchexec,
    Cardinality.BATCHONE: _batchone,
    Cardinality.BATCHMANY: _batchmany,
}


def run(
    cardinality: Cardinality, conn: Connection, v: Variant, values: Values, build: RowBuilder
) -> Any:
    """The batch in one transaction (a savepoint inside the caller's) on the sync face."""
    with conn.transaction():
        return _WORK[cardinality](conn._live(), v, values, build)


async def arun(
    cardinality: Cardinality, conn: AsyncConnection, v: Variant, values: Values, build: RowBuilder
) -> Any:
    """The same on the async face: the work on the connection's worker thread."""
    async with conn.transaction():
        pooled = conn._live()
        worker = pooled.backend.worker(pooled.raw)
        return await worker.run(_WORK[cardinality], pooled, v, values, build)

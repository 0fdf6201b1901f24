"""The SQLite runners of the async face: the sync runners, on the connection's own thread.

sqlite3 has no async API; `tradestore.db.backends.sqlite_aio` gives every async connection a
worker thread of its own. A call hops to it once (the whole statement, fetch and row building
happen there) and the event loop only awaits the result; :iter hops once per batch of rows.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Any

from tradestore.db.backends.sqlite_aio import Worker
from tradestore.db.connection_async import AsyncConnection, PooledConnection
from tradestore.queries import runners_sqlite
from tradestore.queries.binding import (
    ITER_BATCH,
    AsyncRunner,
    Chunk,
    RowBuilder,
    Runner,
    Variant,
    not_a_runner,
    not_an_async_runner,
)
from tradestore.queries.columns import unique
from tradestore.queries.sqlfile import Cardinality


def _worker(conn: PooledConnection) -> Worker:
    worker: Worker = conn.backend.worker(conn.raw)
    return worker


def _on_worker(run: Runner) -> AsyncRunner:
    async def hop(
        conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
    ) -> Any:
        return await _worker(conn).run(run, conn, v, args, build)

    return hop


RUNNERS: dict[Cardinality, AsyncRunner] = {
    cardinality: not_an_async_runner if run is not_a_runner else _on_worker(run)
    for cardinality, run in runners_sqlite.RUNNERS.items()
}


async def stream(
    conn: AsyncConnection, v: Variant, args: tuple[Any, ...], own: bool
) -> AsyncGenerator[dict[str, Any]]:
    """:iter: the statement and each batch of rows fetched on the connection's thread."""
    pooled = conn._live()
    worker = _worker(pooled)
    cur = await worker.run(runners_sqlite.lite_execute, pooled, v, args)
    try:
        names: list[str] | None = None
        while rows := await worker.run(cur.fetchmany, ITER_BATCH):
            if names is None:
                names = unique(v.block, runners_sqlite.column_names(cur))
            for row in rows:
                yield dict(zip(names, row, strict=True))
    finally:
        await worker.run(cur.close)


async def copy(conn: AsyncConnection, v: Variant, chunks: Iterator[Chunk]) -> int:
    """:copyfrom: executemany in one transaction, the whole load on the connection's thread."""
    async with conn.transaction():
        pooled = conn._live()
        count: int = await _worker(pooled).run(runners_sqlite.load_rows, pooled, v, chunks)
        return count


__all__ = ["RUNNERS", "copy", "stream"]

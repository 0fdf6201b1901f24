"""The :batch family on PostgreSQL: one pipeline holds ``BEGIN``, psycopg's ``executemany``
(prepared once, one Bind/Execute per item) and ``COMMIT`` (a savepoint inside the caller's
transaction), so a :batchexec costs one round trip and a row batch two, whatever the number
of items; a failure leaves no item applied.

Written once for the async face; the sync twin (``batch_postgres.py``) is generated from it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from psycopg import AsyncPipeline
from psycopg.pq import TransactionStatus

from tradestore.db.connection_async import AsyncConnection
from tradestore.queries.binding import RowBuilder, Variant
from tradestore.queries.columns import unique
from tradestore.queries.runners_postgres_async import column_names, cursor_of, tuned
from tradestore.queries.sqlfile import Cardinality

Values = list[tuple[Any, ...]]
#: Inside the caller's transaction a batch is a savepoint; batches do not nest, one name does.
_SAVEPOINT = "tradestore_batch"


async def _pg_batch(conn: AsyncConnection, v: Variant, values: Values, *, returning: bool) -> Any:
    """Run the batch atomically; returns the psycopg cursor holding one result per item."""
    pooled = conn._live()
    raw = tuned(pooled)
    cur = cursor_of(pooled)
    nested = conn.in_transaction
    if not AsyncPipeline.is_supported():  # a libpq without pipeline mode: one round trip per item
        async with conn.transaction():
            await cur.executemany(v.sql, values, returning=returning)
        return cur
    begin, end = (
        (f"SAVEPOINT {_SAVEPOINT}", f"RELEASE SAVEPOINT {_SAVEPOINT}")
        if nested
        else ("BEGIN", "COMMIT")
    )
    try:
        # BEGIN and COMMIT ride the pipeline on a cursor of their own: their results must not
        # land among the items' results on `cur`.
        async with raw.cursor() as control, raw.pipeline() as pipeline:
            try:
                await control.execute(begin)
                await cur.executemany(v.sql, values, returning=returning)
                await control.execute(end)
            except Exception:
                # Synced here, not at the block's exit: psycopg would log the aborted rest of
                # the pipeline as a second error there.
                with contextlib.suppress(Exception):
                    await pipeline.sync()
                raise
    except BaseException:
        await _pg_undo(raw, nested)
        raise
    return cur


async def _pg_undo(raw: Any, nested: bool) -> None:
    """After a failure: nothing of the batch stays (the first error is the one raised)."""
    with contextlib.suppress(Exception):
        if nested:
            await raw.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            await raw.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        elif not raw.closed and raw.info.transaction_status != TransactionStatus.IDLE:
            await raw.execute("ROLLBACK")


async def _pg_batchexec(
    conn: AsyncConnection, v: Variant, values: Values, build: RowBuilder
) -> Any:
    count: int = (await _pg_batch(conn, v, values, returning=False)).rowcount
    return count


async def _pg_batchone(conn: AsyncConnection, v: Variant, values: Values, build: RowBuilder) -> Any:
    cur = await _pg_batch(conn, v, values, returning=True)
    found: list[Any] = []
    names: list[str] | None = None
    while True:
        row = await cur.fetchone()
        if row is None:
            found.append(None)
        else:
            if names is None:
                names = unique(v.block, column_names(cur))
            found.append(build(dict(zip(names, row, strict=True))))
        if not cur.nextset():
            return found


async def _pg_batchmany(
    conn: AsyncConnection, v: Variant, values: Values, build: RowBuilder
) -> Any:
    cur = await _pg_batch(conn, v, values, returning=True)
    found: list[list[Any]] = []
    names: list[str] = []
    while True:
        rows = await cur.fetchall()
        if rows and not names:
            names = unique(v.block, column_names(cur))
        found.append([build(dict(zip(names, row, strict=True))) for row in rows])
        if not cur.nextset():
            return found


RUNNERS = {
    Cardinality.BATCHEXEC: _pg_batchexec,
    Cardinality.BATCHONE: _pg_batchone,
    Cardinality.BATCHMANY: _pg_batchmany,
}

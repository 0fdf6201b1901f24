# Generated from batch_postgres_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""The :batch family on PostgreSQL: one pipeline holds ``BEGIN``, psycopg's ``executemany``
(prepared once, one Bind/Execute per item) and ``COMMIT`` (a savepoint inside the caller's
transaction), so a :batchexec costs one round trip and a row batch two, whatever the number
of items; a failure leaves no item applied.

Written once for the async face; the sync twin (``batch_postgres.py``) is generated from it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from psycopg import Pipeline
from psycopg.pq import TransactionStatus

from tradestore.db.connection import Connection
from tradestore.queries.binding import RowBuilder, Variant
from tradestore.queries.columns import unique
from tradestore.queries.runners_postgres import column_names, cursor_of, tuned
from tradestore.queries.sqlfile import Cardinality

Values = list[tuple[Any, ...]]
#: Inside the caller's transaction a batch is a savepoint; batches do not nest, one name does.
_SAVEPOINT = "tradestore_batch"


def _pg_batch(conn: Connection, v: Variant, values: Values, *, returning: bool) -> Any:
    """Run the batch atomically; returns the psycopg cursor holding one result per item."""
    pooled = conn._live()
    raw = tuned(pooled)
    cur = cursor_of(pooled)
    nested = conn.in_transaction
    if not Pipeline.is_supported():  # a libpq without pipeline mode: one round trip per item
        with conn.transaction():
            cur.executemany(v.sql, values, returning=returning)
        return cur
    begin, end = (
        (f"SAVEPOINT {_SAVEPOINT}", f"RELEASE SAVEPOINT {_SAVEPOINT}")
        if nested
        else ("BEGIN", "COMMIT")
    )
    try:
        # BEGIN and COMMIT ride the pipeline on a cursor of their own: their results must not
        # land among the items' results on `cur`.
        with raw.cursor() as control, raw.pipeline() as pipeline:
            try:
                control.execute(begin)
                cur.executemany(v.sql, values, returning=returning)
                control.execute(end)
            except Exception:
                # Synced here, not at the block's exit: psycopg would log the aborted rest of
                # the pipeline as a second error there.
                with contextlib.suppress(Exception):
                    pipeline.sync()
                raise
    except BaseException:
        _pg_undo(raw, nested)
        raise
    return cur


def _pg_undo(raw: Any, nested: bool) -> None:
    """After a failure: nothing of the batch stays (the first error is the one raised)."""
    with contextlib.suppress(Exception):
        if nested:
            raw.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            raw.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        elif not raw.closed and raw.info.transaction_status != TransactionStatus.IDLE:
            raw.execute("ROLLBACK")


def _pg_batchexec(
    conn: Connection, v: Variant, values: Values, build: RowBuilder
) -> Any:
    count: int = (_pg_batch(conn, v, values, returning=False)).rowcount
    return count


def _pg_batchone(conn: Connection, v: Variant, values: Values, build: RowBuilder) -> Any:
    cur = _pg_batch(conn, v, values, returning=True)
    found: list[Any] = []
    names: list[str] | None = None
    while True:
        row = cur.fetchone()
        if row is None:
            found.append(None)
        else:
            if names is None:
                names = unique(v.block, column_names(cur))
            found.append(build(dict(zip(names, row, strict=True))))
        if not cur.nextset():
            return found


def _pg_batchmany(
    conn: Connection, v: Variant, values: Values, build: RowBuilder
) -> Any:
    cur = _pg_batch(conn, v, values, returning=True)
    found: list[list[Any]] = []
    names: list[str] = []
    while True:
        rows = cur.fetchall()
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

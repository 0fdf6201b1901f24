"""The PostgreSQL runners (psycopg 3; connections are autocommit, tuple rows).

Written once for the async face (psycopg's async connection and cursors); the sync twin
(``runners_postgres.py``) is generated from it.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from collections.abc import AsyncGenerator, Iterator
from typing import Any

from psycopg.types.json import set_json_loads
from pydantic_core import from_json

from tradestore.db._acompat import ASYNC
from tradestore.db.connection_async import AsyncConnection, PooledConnection
from tradestore.queries.binding import (
    ITER_BATCH,
    AsyncRunner,
    Chunk,
    RowBuilder,
    Variant,
    not_an_async_runner,
)
from tradestore.queries.columns import duplicate_columns, unique
from tradestore.queries.sqlfile import Cardinality

_cursor_ids = itertools.count(1)


def column_names(cur: Any) -> list[str]:
    # From the result itself: `cur.description` builds a Column object per column on every
    # call (5.6 us for six columns, against 0.9 us here; measured for benchmarks W1).
    result = cur.pgresult
    encoding = cur.connection.info.encoding
    return [result.fname(i).decode(encoding) for i in range(result.nfields)]


_TUNED: weakref.WeakSet[Any] = weakref.WeakSet()


def tuned(conn: PooledConnection) -> Any:
    """The psycopg connection, its jsonb/json loader switched to pydantic-core's parser once.

    ``pydantic_core.from_json`` gives the same dicts as ``json.loads`` about ten times faster
    (measured in benchmarks/row_building.py: 1.7 ms per 1,000 jsonb rows).
    """
    raw = conn.raw
    if raw not in _TUNED:
        set_json_loads(from_json, context=raw)
        _TUNED.add(raw)
    return raw


def cursor_of(conn: PooledConnection) -> Any:
    """The connection's one reusable client-side cursor for :one/:many/:scalar/:exec.

    ``psycopg.AsyncConnection.execute`` makes a new cursor per call, and a new cursor copies the
    connection's adapter map: about 10 us of a 40 us point select. Reusing one is safe
    because a connection serves one thread at a time and every runner consumes the result
    before returning (client-side cursors hold the whole result anyway). The cursor copies
    the adapters at its creation: register per-connection adapters on ``conn.raw`` before
    its first query (global ``psycopg.adapters`` registrations already had to precede connect).
    """
    cur = conn.driver_cursor
    if cur is None or cur.closed:
        cur = conn.driver_cursor = tuned(conn).cursor()
    return cur


async def _pg_one(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = cursor_of(conn)
    await cur.execute(v.sql, args)
    row = await cur.fetchone()
    if row is None:
        return None
    values = dict(zip(column_names(cur), row))  # noqa: B905  (see _pg_many)
    if len(values) != len(row):  # two columns of one name: the dict kept one of them
        raise duplicate_columns(v.block, column_names(cur))
    return build(values)


async def _pg_many(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = cursor_of(conn)
    await cur.execute(v.sql, args)
    rows = await cur.fetchall()
    if not rows:
        return []
    names = unique(v.block, column_names(cur))
    # zip() without `strict=`: names and rows come from one result, so their lengths are
    # equal; and any keyword argument sends zip() down CPython's slow call path, 0.2 us a row
    # (15 % of building one; benchmarks A3 and W3), whatever `strict` says.
    return [build(dict(zip(names, row))) for row in rows]  # noqa: B905


async def _pg_scalar(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = cursor_of(conn)
    await cur.execute(v.sql, args)
    row = await cur.fetchone()
    return None if row is None else row[0]


async def _pg_exec(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    await cursor_of(conn).execute(v.sql, args)


async def _pg_execrows(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = cursor_of(conn)
    await cur.execute(v.sql, args)
    return cur.rowcount


async def _pg_iter(
    conn: AsyncConnection, v: Variant, args: tuple[Any, ...], own: bool
) -> AsyncGenerator[dict[str, Any]]:
    """:iter: a server-side cursor, fetched `ITER_BATCH` rows at a time.

    The cursor needs a transaction. Inside the caller's it joins it, with no savepoint: a
    stream stopped early must never undo what the caller wrote on this connection meanwhile
    (and a failure is the caller's transaction's, as for any statement). Outside one, the
    stream opens its own and, stopped early, commits it: the loop body may have written on
    this connection too, expecting each call to commit as it would without a stream.
    """
    pooled = conn._live()
    joined = conn.in_transaction
    hold = False
    if ASYNC:
        # `break` leaves an async generator to asyncio, which closes it a little later in a
        # task of its own: by then the caller may have written, begun a transaction or given
        # the connection back. So on a caller's connection outside a transaction the stream
        # leaves no transaction open between rows: its cursor is WITH HOLD (PostgreSQL runs
        # the query to the end at DECLARE and keeps the result until CLOSE, or CLOSE ALL when
        # the pool restores the session: `dirty`). Rows still come `ITER_BATCH` at a time.
        hold = not (joined or own)
        pooled.dirty = pooled.dirty or hold
    cur = tuned(pooled).cursor(name=f"tradestore_iter_{next(_cursor_ids)}", withhold=hold)
    try:
        async with contextlib.nullcontext() if joined or hold else conn.transaction():
            await cur.execute(v.sql, args)
            names: list[str] | None = None
            try:
                while rows := await cur.fetchmany(ITER_BATCH):
                    if names is None:
                        names = unique(v.block, column_names(cur))
                    for row in rows:
                        yield dict(zip(names, row))  # noqa: B905  (see _pg_many)
            except GeneratorExit:
                pass  # stopped early: the transaction of the stream's own commits, see above
    finally:
        # Not once the connection went back (a late close): the pool's reset ended the
        # transaction, and with it the cursor; the connection may be someone else's now.
        # After a COMMIT psycopg knows a cursor WITHOUT HOLD is gone and sends nothing.
        if conn._pooled is pooled:
            await cur.close()


async def _pg_copy(conn: AsyncConnection, v: Variant, chunks: Iterator[Chunk]) -> int:
    count = 0
    assert v.copy_sql is not None  # set for every postgresql :copyfrom variant
    async with conn._live().raw.cursor() as cur, cur.copy(v.copy_sql) as copy:
        write = copy.write_row
        for chunk in chunks:
            for row in chunk:
                await write(row)
            count += len(chunk)
    return count


RUNNERS: dict[Cardinality, AsyncRunner] = {
    Cardinality.ONE: _pg_one,
    Cardinality.MANY: _pg_many,
    Cardinality.ITER: not_an_async_runner,
    Cardinality.SCALAR: _pg_scalar,
    Cardinality.EXEC: _pg_exec,
    Cardinality.EXECROWS: _pg_execrows,
    Cardinality.EXECLASTID: _pg_scalar,  # PostgreSQL has no lastrowid: RETURNING id (load check)
    Cardinality.COPYFROM: not_an_async_runner,
    Cardinality.BATCHEXEC: not_an_async_runner,
    Cardinality.BATCHONE: not_an_async_runner,
    Cardinality.BATCHMANY: not_an_async_runner,
}

stream = _pg_iter
copy = _pg_copy

"""The SQLite runners (sqlite3; isolation_level=None, tuple rows)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from operator import itemgetter
from typing import Any

from tradestore.db.backends import sqlite_values
from tradestore.db.connection import Connection, PooledConnection
from tradestore.queries.binding import ITER_BATCH, Chunk, RowBuilder, Runner, Variant, not_a_runner
from tradestore.queries.columns import duplicate_columns, unique
from tradestore.queries.sqlfile import Cardinality

_first = itemgetter(0)


def column_names(cur: Any) -> list[str]:
    return list(map(_first, cur.description))


def lite_execute(conn: PooledConnection, v: Variant, args: tuple[Any, ...]) -> Any:
    conn.backend.arm_timeout(conn.raw)
    return conn.raw.execute(v.sql, args)


def _lite_one(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    # Inlined (_lite_execute, column_names): a point select on SQLite costs ~5 us, so every
    # Python call frame saved shows in benchmarks W7.1.
    raw = conn.raw
    backend = conn.backend
    if backend.query_timeout:
        backend.arm_timeout(raw)
    cur = raw.execute(v.sql, args)
    row = cur.fetchone()
    if row is None:
        return None
    description = cur.description
    if not v.select_only:
        cur.close()  # a RETURNING statement finishes only when its cursor is drained or closed
    values = dict(zip(map(_first, description), row, strict=True))
    if len(values) != len(row):  # two columns of one name: the dict kept one of them
        raise duplicate_columns(v.block, list(map(_first, description)))
    return build(values)


def _lite_many(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    cur = lite_execute(conn, v, args)
    rows = cur.fetchall()
    if not rows:
        return []
    names = unique(v.block, column_names(cur))
    return [build(dict(zip(names, row, strict=True))) for row in rows]


def _lite_scalar(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = lite_execute(conn, v, args)
    row = cur.fetchone()
    cur.close()
    return None if row is None else row[0]


def _lite_exec(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    lite_execute(conn, v, args).close()


def _lite_execrows(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = lite_execute(conn, v, args)
    cur.fetchall()  # RETURNING rows must be drained before rowcount is final
    return cur.rowcount


def _lite_lastid(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    """:execlastid (PostgreSQL's is the :scalar runner: RETURNING id; see `lastid`)."""
    raw = conn.raw
    conn.backend.arm_timeout(raw)
    cur = raw.execute(v.sql, args)
    if cur.description is not None:  # RETURNING id: the statement names its id
        row = cur.fetchone()
        cur.close()  # a RETURNING statement finishes only when its cursor is drained or closed
        return None if row is None else row[0]
    changed: int = cur.rowcount
    new_id: int | None = cur.lastrowid
    cur.close()
    return new_id if changed > 0 else None


def _sqlite_iter(
    conn: Connection, v: Variant, args: tuple[Any, ...], own: bool
) -> Generator[dict[str, Any]]:
    cur = lite_execute(conn._live(), v, args)
    try:
        names: list[str] | None = None
        while rows := cur.fetchmany(ITER_BATCH):
            if names is None:
                names = unique(v.block, column_names(cur))
            for row in rows:
                yield dict(zip(names, row, strict=True))
    finally:
        cur.close()


def _lite_copy(conn: Connection, v: Variant, chunks: Iterator[Chunk]) -> int:
    with conn.transaction():
        return load_rows(conn._live(), v, chunks)


def load_rows(conn: PooledConnection, v: Variant, chunks: Iterator[Chunk]) -> int:
    """:copyfrom's work inside its transaction: executemany, one chunk at a time."""
    count = 0
    what = f"query {v.block.name} ({v.block.where})"
    raw = conn.raw
    conn.backend.arm_timeout(raw)  # one clock for the whole load, as one statement
    for chunk in chunks:
        rows = sqlite_values.convert_rows(chunk, v.copy_params, what, first=count + 1)
        raw.executemany(v.sql, rows)
        count += len(chunk)
    return count


RUNNERS: dict[Cardinality, Runner] = {
    Cardinality.ONE: _lite_one,
    Cardinality.MANY: _lite_many,
    Cardinality.ITER: not_a_runner,
    Cardinality.SCALAR: _lite_scalar,
    Cardinality.EXEC: _lite_exec,
    Cardinality.EXECROWS: _lite_execrows,
    Cardinality.EXECLASTID: _lite_lastid,
    Cardinality.COPYFROM: not_a_runner,
    Cardinality.BATCHEXEC: not_a_runner,
    Cardinality.BATCHONE: not_a_runner,
    Cardinality.BATCHMANY: not_a_runner,
}

stream = _sqlite_iter
copy = _lite_copy

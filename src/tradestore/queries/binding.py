"""Bind a parsed block to one dialect, once, at load time: a `Variant`.

Each block is rendered in the driver's positional placeholder style (psycopg ``%s``, sqlite3
``?``: measured faster than named), its parameter order fixed, a :copyfrom's ``COPY``
derived, and whether it changes the session decided. Also the types every call path shares.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

from tradestore.db.backends import sqlite_values
from tradestore.db.backends.sqlite_session import changes_session as sqlite_changes_session
from tradestore.db.connection import Connection, PooledConnection
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool import Pool
from tradestore.db.pool_async import AsyncPool
from tradestore.queries.lastid import check_lastid
from tradestore.queries.sqlfile import Cardinality, SqlBlock, copy_target, render

DIALECTS: tuple[str, ...] = ("postgresql", "sqlite")
#: Rows fetched per round trip by :iter (server-side cursor on PostgreSQL, fetchmany on SQLite).
ITER_BATCH = 1000

#: What a call runs on, per face: a pool (a connection is checked out for the call) or a
#: connection the caller holds (the call joins its transaction).
SyncDb = Pool | Connection
AsyncDb = AsyncPool | AsyncConnection
Db = SyncDb | AsyncDb
RowBuilder = Callable[[dict[str, Any]], Any]
Runner = Callable[[PooledConnection, "Variant", tuple[Any, ...], RowBuilder], Any]
AsyncRunner = Callable[[PooledConnection, "Variant", tuple[Any, ...], RowBuilder], Awaitable[Any]]
#: :iter's row source, per face: (connection, variant, values, own), `own` true when the
#: connection is the kit's checkout for this stream alone (a call on a pool), not the caller's.
Stream = Callable[[Connection, "Variant", tuple[Any, ...], bool], Generator[dict[str, Any]]]
AsyncStream = Callable[
    [AsyncConnection, "Variant", tuple[Any, ...], bool], AsyncGenerator[dict[str, Any]]
]
#: The work of a call that needs the connection lease itself (COPY, a batch), per face.
Work = Callable[[Connection], Any]
AsyncWork = Callable[[AsyncConnection], Awaitable[Any]]
Chunk = list[tuple[Any, ...]]
T = TypeVar("T")


@dataclass(frozen=True)
class Variant:
    """A block bound to one dialect: driver SQL, parameter order, and COPY for :copyfrom."""

    block: SqlBlock
    sql: str
    order: tuple[str, ...]
    names: frozenset[str]
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    copy_sql: str | None = None
    copy_params: tuple[str, ...] = ()
    #: A plain SELECT: its SQLite cursor needs no explicit close (nothing to commit).
    select_only: bool = False
    #: The statement changes the session (SET, PRAGMA, ...): the pool restores it on return.
    changes_session: bool = False


def picker(order: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """Values in placeholder order; `itemgetter` is the fastest way to pull several keys.

    PostgreSQL's: psycopg adapts each value per connection. SQLite's (`sqlite_values.picker`)
    also converts Decimal, datetime and JSON values, since sqlite3 can only do that globally.
    """
    if not order:
        return lambda params: ()
    if len(order) == 1:
        (only,) = order
        return lambda params: (params[only],)
    getter: Callable[[Mapping[str, Any]], tuple[Any, ...]] = itemgetter(*order)
    return getter


def bind(block: SqlBlock, dialect: str) -> Variant:
    postgres = dialect == "postgresql"
    sql = render(block.sql, block.params, "%s" if postgres else "?", escape_percent=postgres)
    order = tuple(p.name for p in block.params)
    copy_sql: str | None = None
    copy_params: tuple[str, ...] = ()
    if block.cardinality is Cardinality.COPYFROM:
        target = copy_target(block)
        copy_params = target.params
        if postgres:
            copy_sql = f"COPY {target.table} ({', '.join(target.columns)}) FROM STDIN"
    if block.cardinality is Cardinality.EXECLASTID:
        check_lastid(block, dialect)
    select_only = sql.lstrip().upper().startswith("SELECT")
    pick = (
        picker(order)
        if postgres
        else sqlite_values.picker(order, f"query {block.name} ({block.where})")
    )
    return Variant(
        block,
        sql,
        order,
        frozenset(order),
        pick,
        copy_sql,
        copy_params,
        select_only,
        _changes_session(sql, dialect),
    )


# PostgreSQL statements whose effect outlives them on the connection (the session), and calls
# that do the same from inside a SELECT. A named query is DBA-reviewed SQL, so this check
# catches what matters; a match only costs that connection a restore on return. (SQLite's
# own check is exact: only PRAGMA, ATTACH and temp objects outlive a statement there.)
_SESSION_STATEMENTS = frozenset(
    {
        "SET",
        "RESET",
        "DISCARD",
        "LISTEN",
        "UNLISTEN",
        "PREPARE",
        "DEALLOCATE",
        "DECLARE",
        "LOAD",
    }
)
_SESSION_CALLS = (
    "SET_CONFIG(",
    "PG_ADVISORY_LOCK(",
    "PG_ADVISORY_LOCK_SHARED(",
    "PG_TRY_ADVISORY_LOCK(",
    "PG_TRY_ADVISORY_LOCK_SHARED(",
)


def _changes_session(sql: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return sqlite_changes_session(sql)
    words = sql.upper().split()
    if not words:
        return False
    if words[0] in _SESSION_STATEMENTS:
        return True
    if words[0] == "CREATE" and len(words) > 1 and words[1] in ("TEMP", "TEMPORARY"):
        return True
    squeezed = "".join(words)  # `set_config (` and `set_config(` alike
    return any(call in squeezed for call in _SESSION_CALLS)


def marking_session(run: Runner) -> Runner:
    """`run`, flagging the connection for a session restore (see Variant.changes_session)."""

    def run_and_mark(
        pooled: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
    ) -> Any:
        pooled.dirty = True
        return run(pooled, v, args, build)

    return run_and_mark


def amarking_session(run: AsyncRunner) -> AsyncRunner:
    """`marking_session` for the async face."""

    async def run_and_mark(
        pooled: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
    ) -> Any:
        pooled.dirty = True
        return await run(pooled, v, args, build)

    return run_and_mark


def not_a_runner(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    """The runner-table entry of a cardinality with a call path of its own: :iter streams
    through `Query._iterate`, :copyfrom and the :batch family have their own query classes."""
    raise AssertionError("not called through a runner")  # pragma: no cover


async def not_an_async_runner(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    """`not_a_runner` for the async face."""
    raise AssertionError("not called through a runner")  # pragma: no cover

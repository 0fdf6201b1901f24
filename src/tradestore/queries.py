"""Bind parsed SQL blocks into callables: `q = load_queries(); q.trade_history(db, ...)`.

Everything that can be decided once is decided at load time: each block is rendered in both
drivers' placeholder styles (psycopg ``%s``, sqlite3 ``?``, positional: measured faster than
named), the parameter order is fixed, a :copyfrom's ``COPY`` statement is derived, and the row
model's pydantic-core validator is looked up. A call then checks its keyword set against the
declared parameters, runs one statement, and validates rows straight into the model.

`db` is a `Pool` (a connection is checked out for the call: one statement, one autocommit
transaction) or a `Connection` (the call joins whatever transaction the caller has open).

Result columns that share a name are refused (`tradestore.columns`); :execlastid's load-time
rules and SQLite runner live in `tradestore.lastid`, the :batch family in `tradestore.batch`.
Runners work on the `PooledConnection` itself: with a Pool the kit checks one out without a
lease (no user code ever sees it), with a Connection the lease is checked once per call.
"""

from __future__ import annotations

import itertools
import logging
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from psycopg.types.json import set_json_loads
from pydantic import BaseModel
from pydantic_core import from_json

from tradestore.backends import sqlite_values
from tradestore.backends.sqlite_session import changes_session as sqlite_changes_session
from tradestore.columns import duplicate_columns, unique
from tradestore.connection import Connection, PooledConnection, wrap_driver_error
from tradestore.errors import QueryError, SqlFileError, TradestoreError
from tradestore.lastid import check_lastid, sqlite_lastid
from tradestore.pool import Pool
from tradestore.registry import ModelsArg, build_registry
from tradestore.sqlfile import (
    BATCH_CARDINALITIES,
    Cardinality,
    SqlBlock,
    copy_target,
    parse_sql_file,
    render,
)

if TYPE_CHECKING:
    from tradestore.backends.base import Backend
    from tradestore.builtin_queries import BuiltinQueries

logger = logging.getLogger("tradestore.queries")

DIALECTS: tuple[str, ...] = ("postgresql", "sqlite")
#: Rows fetched per round trip by :iter (server-side cursor on PostgreSQL, fetchmany on SQLite).
ITER_BATCH = 1000
#: Rows a :copyfrom turns into value tuples at a time (see _copy_chunks).
COPY_CHUNK = 1000

Db = Pool | Connection
RowBuilder = Callable[[dict[str, Any]], Any]
Runner = Callable[[PooledConnection, "Variant", tuple[Any, ...], RowBuilder], Any]
Chunk = list[tuple[Any, ...]]
T = TypeVar("T")
_cursor_ids = itertools.count(1)


def _identity(row: dict[str, Any]) -> Any:
    return row


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


def _picker(order: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
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


def _bind(block: SqlBlock, dialect: str) -> Variant:
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
        _picker(order)
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


def _marking_session(run: Runner) -> Runner:
    """`run`, flagging the connection for a session restore (see Variant.changes_session)."""

    def run_and_mark(
        pooled: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
    ) -> Any:
        pooled.dirty = True
        return run(pooled, v, args, build)

    return run_and_mark


class Query:
    """One named query; call it as ``query(db, **params)``.

    Attributes describe it for tooling (stubs, check-sql): `name`, `cardinality`, `model`,
    `variants` (per dialect), `param_names`.
    """

    def __init__(
        self,
        variants: dict[str, Variant],
        model: type[BaseModel] | None,
        *,
        echo: bool,
        slow_query_ms: float | None,
    ) -> None:
        first = next(iter(variants.values())).block
        self.name = first.name
        self.cardinality = first.cardinality
        self.model = model
        self.variants = variants
        self.param_names = first.param_names
        self.__doc__ = first.doc or None
        self._echo = echo
        self._slow_ms = slow_query_ms
        self._quiet = not echo and slow_query_ms is None
        self._streams = self.cardinality is Cardinality.ITER
        self._build: RowBuilder = (
            model.__pydantic_validator__.validate_python if model is not None else _identity
        )
        self._runners: dict[str, Runner] = {
            "postgresql": _PG_RUNNERS[self.cardinality],
            "sqlite": _SQLITE_RUNNERS[self.cardinality],
        }
        for dialect, variant in variants.items():
            if variant.changes_session:  # wrapped at load: other queries pay nothing
                self._runners[dialect] = _marking_session(self._runners[dialect])

    def __repr__(self) -> str:
        model = f" {self.model.__name__}" if self.model else ""
        where = ", ".join(f"{d}: {v.block.where}" for d, v in self.variants.items())
        return f"<Query {self.name} :{self.cardinality.value}{model} ({where})>"

    # -- helpers shared by the call paths ----------------------------------------------

    def _variant(self, dialect: str) -> Variant:
        variant = self.variants.get(dialect)
        if variant is None:
            where = ", ".join(f"{d} at {v.block.where}" for d, v in self.variants.items())
            raise QueryError(
                f"query {self.name} has no statement for {dialect} (defined for {where})",
                query=self.name,
            )
        return variant

    def _args(self, variant: Variant, params: Mapping[str, Any], item: str = "") -> tuple[Any, ...]:
        """Values in placeholder order, or an error naming the missing or unexpected parameter.

        `item` prefixes the problem (``items[3]: ``) for one parameter set of a batch.
        """
        if params.keys() != variant.names:
            missing = sorted(variant.names - params.keys())
            extra = sorted(params.keys() - variant.names)
            problem = (
                f"missing parameter {', '.join(missing)}"
                if missing
                else f"unexpected parameter {', '.join(extra)}"
            )
            declared = ", ".join(self.param_names) or "none"
            raise QueryError(
                f"query {self.name} ({variant.block.where}): {item}{problem} "
                f"(declared: {declared})",
                query=self.name,
            )
        return variant.pick(params)

    def _fail(self, exc: Exception, backend: Backend, variant: Variant) -> Exception:
        if isinstance(exc, TradestoreError) or backend.error_info(exc) is None:
            return exc
        error = wrap_driver_error(
            exc, backend, f"query {self.name} ({variant.block.where})", query=self.name
        )
        return _without_values(error)

    def _checked_out(self, db: Db, variant: Variant, work: Callable[[Connection], T]) -> T:
        """`work` on the caller's connection or one checked out of the pool for it: timed,
        logged and counted like a call, driver errors turned into the kit's."""
        start = time.perf_counter()
        try:
            if isinstance(db, Pool):
                conn = db.getconn()
                try:
                    result = work(conn)
                finally:
                    db.putconn(conn)
            else:
                result = work(db)
        except Exception as exc:
            self._observe(db, variant, start, failed=True)
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        self._observe(db, variant, start, failed=False)
        return result

    def _observe(self, db: Db, variant: Variant, start: float, *, failed: bool) -> None:
        seconds = time.perf_counter() - start
        if isinstance(db, Pool):
            db.metrics.record(self.name, seconds, failed=failed)
        ms = seconds * 1000.0
        if self._slow_ms is not None and ms >= self._slow_ms:
            logger.warning("slow query %s (%s): %.3f ms", self.name, variant.block.where, ms)
        elif self._echo:
            logger.info("query %s (%s): %.3f ms", self.name, variant.block.where, ms)

    # -- the call ----------------------------------------------------------------------

    def __call__(self, db: Db, /, *args: Any, **params: Any) -> Any:
        dialect = db.dialect
        variant = self.variants.get(dialect) or self._variant(dialect)
        if args:
            raise QueryError(
                f"query {self.name} ({variant.block.where}) takes keyword parameters only: "
                f"q.{self.name}(db, {', '.join(f'{n}=...' for n in self.param_names)})",
                query=self.name,
            )
        values = (
            variant.pick(params) if params.keys() == variant.names else self._args(variant, params)
        )
        if self._streams:
            return self._iterate(db, variant, values)
        run = self._runners[dialect]
        if self._quiet and not isinstance(db, Pool):
            # The hot path of a bot's own transaction: nothing to time, log or count.
            # (A failure would be neither logged nor counted either: `_observe` is a no-op.)
            pooled = db._pooled or db._refuse()  # a returned Connection is refused here
            try:
                return run(pooled, variant, values, self._build)
            except Exception as exc:
                error = self._fail(exc, db.backend, variant)
                if error is exc:
                    raise
                raise error from exc
        start = time.perf_counter()
        try:
            if isinstance(db, Pool):
                # The pool's internal checkout, not ``with db.connection()``: no generator-based
                # context manager (10 us a call, W1) and no lease (user code never sees it).
                pooled = db._checkout()
                try:
                    result = run(pooled, variant, values, self._build)
                finally:
                    db._checkin(pooled)
            else:
                result = run(db._live(), variant, values, self._build)
        except Exception as exc:
            self._observe(db, variant, start, failed=True)
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        if self._echo or self._slow_ms is not None or isinstance(db, Pool):
            self._observe(db, variant, start, failed=False)
        return result

    def _iterate(self, db: Db, variant: Variant, args: tuple[Any, ...]) -> Iterator[Any]:
        """Stream rows; with a pool the connection is held until the iterator ends or closes."""
        start = time.perf_counter()
        failed = False
        conn = db.getconn() if isinstance(db, Pool) else db
        stream = _pg_iter if db.dialect == "postgresql" else _sqlite_iter
        try:
            for row in stream(conn, variant, args):
                yield self._build(row)
        except Exception as exc:
            failed = True
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        finally:
            if isinstance(db, Pool):
                db.putconn(conn)
            self._observe(db, variant, start, failed=failed)


def _without_values(error: TradestoreError) -> TradestoreError:
    """Drop PostgreSQL's DETAIL/CONTEXT lines: they quote row values ("Failing row contains")."""
    lines = str(error).splitlines()
    kept = [lines[0], *(line for line in lines[1:] if line.startswith("HINT:"))]
    if len(kept) == len(lines) or not isinstance(error, QueryError):
        return error
    return type(error)("\n".join(kept), query=error.query, sqlstate=error.sqlstate)


class CopyQuery(Query):
    """A :copyfrom query; call it as ``query(db, rows)`` with mappings or models."""

    def __call__(self, db: Db, /, *rows_arg: Any, **params: Any) -> Any:
        if len(rows_arg) != 1 or params:
            raise QueryError(
                f"query {self.name} ({next(iter(self.variants.values())).block.where}) is "
                ":copyfrom: call it as q.{self.name}(db, rows) with rows an iterable of "
                "mappings or models",
                query=self.name,
            )
        variant = self._variant(db.dialect)
        rows = _copy_chunks(self.name, variant, rows_arg[0])
        copy = _COPIERS[db.dialect]
        return self._checked_out(db, variant, lambda conn: copy(conn, variant, rows))


def _getters(
    columns: tuple[str, ...],
) -> tuple[Callable[[Any], tuple[Any, ...]], Callable[[Any], tuple[Any, ...]]]:
    """Row-to-tuple for mappings and for models: `itemgetter`/`attrgetter` run in C.

    A Python loop per row cost 30% of a 50,000-row COPY (benchmarks W4).
    """
    if len(columns) == 1:
        (only,) = columns
        return (lambda row: (row[only],)), (lambda row: (getattr(row, only),))
    return itemgetter(*columns), attrgetter(*columns)


def _copy_chunks(name: str, variant: Variant, rows: Iterable[Any]) -> Iterator[Chunk]:
    """The rows as lists of value tuples, `COPY_CHUNK` rows at a time (streaming any length).

    A chunk of all mappings or all models goes through `map` with one getter, at C speed;
    mixed chunks, and any chunk that fails, go row by row so the error names the row.
    """
    getters = _getters(variant.copy_params)
    by_key, by_attr = getters
    source = iter(rows)
    first = 1
    while chunk := list(itertools.islice(source, COPY_CHUNK)):
        models = {issubclass(kind, BaseModel) for kind in set(map(type, chunk))}
        try:
            if models == {False}:
                values = list(map(by_key, chunk))
            elif models == {True}:
                values = list(map(by_attr, chunk))
            else:
                values = _row_by_row(name, variant, chunk, first=first, getters=getters)
        except (KeyError, AttributeError):
            values = _row_by_row(name, variant, chunk, first=first, getters=getters)
        yield values
        first += len(chunk)


def _row_by_row(
    name: str,
    variant: Variant,
    chunk: list[Any],
    *,
    first: int,
    getters: tuple[Callable[[Any], tuple[Any, ...]], Callable[[Any], tuple[Any, ...]]],
) -> Chunk:
    by_key, by_attr = getters
    values: Chunk = []
    for number, row in enumerate(chunk, start=first):
        try:
            values.append(by_attr(row) if isinstance(row, BaseModel) else by_key(row))
        except (KeyError, AttributeError) as exc:
            raise QueryError(
                f"query {name} ({variant.block.where}): row {number} lacks parameter {exc.args[0]}"
                if isinstance(exc, KeyError)
                else f"query {name} ({variant.block.where}): row {number}: {exc}",
                query=name,
            ) from None
    return values


# -- PostgreSQL (psycopg 3; connections are autocommit, tuple rows) ----------------------


def _pg_names(cur: Any) -> list[str]:
    # From the result itself: `cur.description` builds a Column object per column on every
    # call (5.6 us for six columns, against 0.9 us here; measured for benchmarks W1).
    result = cur.pgresult
    encoding = cur.connection.info.encoding
    return [result.fname(i).decode(encoding) for i in range(result.nfields)]


_TUNED: weakref.WeakSet[Any] = weakref.WeakSet()


def _pg_raw(conn: PooledConnection) -> Any:
    """The psycopg connection, its jsonb/json loader switched to pydantic-core's parser once.

    ``pydantic_core.from_json`` gives the same dicts as ``json.loads`` about ten times faster
    (measured in benchmarks/row_building.py: 1.7 ms per 1,000 jsonb rows).
    """
    raw = conn.raw
    if raw not in _TUNED:
        set_json_loads(from_json, context=raw)
        _TUNED.add(raw)
    return raw


def _pg_cursor(conn: PooledConnection) -> Any:
    """The connection's one reusable client-side cursor for :one/:many/:scalar/:exec.

    ``psycopg.Connection.execute`` makes a new cursor per call, and a new cursor copies the
    connection's adapter map: about 10 us of a 40 us point select. Reusing one is safe
    because a connection serves one thread at a time and every runner consumes the result
    before returning (client-side cursors hold the whole result anyway). The cursor copies
    the adapters at its creation: register per-connection adapters on ``conn.raw`` before
    its first query (global ``psycopg.adapters`` registrations already had to precede connect).
    """
    cur = conn.driver_cursor
    if cur is None or cur.closed:
        cur = conn.driver_cursor = _pg_raw(conn).cursor()
    return cur


def _pg_one(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    cur = _pg_cursor(conn)
    cur.execute(v.sql, args)
    row = cur.fetchone()
    if row is None:
        return None
    values = dict(zip(_pg_names(cur), row, strict=True))
    if len(values) != len(row):  # two columns of one name: the dict kept one of them
        raise duplicate_columns(v.block, _pg_names(cur))
    return build(values)


def _pg_many(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    cur = _pg_cursor(conn)
    cur.execute(v.sql, args)
    rows = cur.fetchall()
    if not rows:
        return []
    names = unique(v.block, _pg_names(cur))
    return [build(dict(zip(names, row, strict=True))) for row in rows]


def _pg_scalar(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    row = _pg_cursor(conn).execute(v.sql, args).fetchone()
    return None if row is None else row[0]


def _pg_exec(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    _pg_cursor(conn).execute(v.sql, args)


def _pg_execrows(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    return _pg_cursor(conn).execute(v.sql, args).rowcount


def _pg_iter(conn: Connection, v: Variant, args: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    # A server-side cursor needs a transaction; inside the caller's one this is a savepoint.
    with (
        conn.transaction(),
        _pg_raw(conn._live()).cursor(name=f"tradestore_iter_{next(_cursor_ids)}") as cur,
    ):
        cur.itersize = ITER_BATCH
        cur.execute(v.sql, args)
        names: list[str] | None = None
        while rows := cur.fetchmany(ITER_BATCH):
            if names is None:
                names = unique(v.block, _pg_names(cur))
            for row in rows:
                yield dict(zip(names, row, strict=True))


def _pg_copy(conn: Connection, v: Variant, chunks: Iterator[Chunk]) -> int:
    count = 0
    assert v.copy_sql is not None  # set for every postgresql :copyfrom variant
    with conn._live().raw.cursor() as cur, cur.copy(v.copy_sql) as copy:
        write = copy.write_row
        for chunk in chunks:
            for row in chunk:
                write(row)
            count += len(chunk)
    return count


# -- SQLite (sqlite3; isolation_level=None, tuple rows) ----------------------------------


_first = itemgetter(0)


def _lite_names(cur: Any) -> list[str]:
    return list(map(_first, cur.description))


def _lite_execute(conn: PooledConnection, v: Variant, args: tuple[Any, ...]) -> Any:
    conn.backend.arm_timeout(conn.raw)
    return conn.raw.execute(v.sql, args)


def _lite_one(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    # Inlined (_lite_execute, _lite_names): a point select on SQLite costs ~5 us, so every
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
    cur = _lite_execute(conn, v, args)
    rows = cur.fetchall()
    if not rows:
        return []
    names = unique(v.block, _lite_names(cur))
    return [build(dict(zip(names, row, strict=True))) for row in rows]


def _lite_scalar(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = _lite_execute(conn, v, args)
    row = cur.fetchone()
    cur.close()
    return None if row is None else row[0]


def _lite_exec(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    _lite_execute(conn, v, args).close()


def _lite_execrows(
    conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder
) -> Any:
    cur = _lite_execute(conn, v, args)
    cur.fetchall()  # RETURNING rows must be drained before rowcount is final
    return cur.rowcount


def _sqlite_iter(conn: Connection, v: Variant, args: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    cur = _lite_execute(conn._live(), v, args)
    try:
        names: list[str] | None = None
        while rows := cur.fetchmany(ITER_BATCH):
            if names is None:
                names = unique(v.block, _lite_names(cur))
            for row in rows:
                yield dict(zip(names, row, strict=True))
    finally:
        cur.close()


def _lite_copy(conn: Connection, v: Variant, chunks: Iterator[Chunk]) -> int:
    count = 0
    what = f"query {v.block.name} ({v.block.where})"
    with conn.transaction():
        raw = conn._live().raw
        conn.backend.arm_timeout(raw)  # one clock for the whole load, as one statement
        for chunk in chunks:
            rows = sqlite_values.convert_rows(chunk, v.copy_params, what, first=count + 1)
            raw.executemany(v.sql, rows)
            count += len(chunk)
    return count


def _not_iter(conn: PooledConnection, v: Variant, args: tuple[Any, ...], build: RowBuilder) -> Any:
    # :iter streams through Query._iterate, :copyfrom and the :batch family have call paths
    # of their own (CopyQuery, tradestore.batch.BatchQuery).
    raise AssertionError("not called through a runner")  # pragma: no cover


_PG_RUNNERS: dict[Cardinality, Runner] = {
    Cardinality.ONE: _pg_one,
    Cardinality.MANY: _pg_many,
    Cardinality.ITER: _not_iter,
    Cardinality.SCALAR: _pg_scalar,
    Cardinality.EXEC: _pg_exec,
    Cardinality.EXECROWS: _pg_execrows,
    Cardinality.EXECLASTID: _pg_scalar,  # PostgreSQL has no lastrowid: RETURNING id (load check)
    Cardinality.COPYFROM: _not_iter,
    Cardinality.BATCHEXEC: _not_iter,
    Cardinality.BATCHONE: _not_iter,
    Cardinality.BATCHMANY: _not_iter,
}
_SQLITE_RUNNERS: dict[Cardinality, Runner] = {
    Cardinality.ONE: _lite_one,
    Cardinality.MANY: _lite_many,
    Cardinality.ITER: _not_iter,
    Cardinality.SCALAR: _lite_scalar,
    Cardinality.EXEC: _lite_exec,
    Cardinality.EXECROWS: _lite_execrows,
    Cardinality.EXECLASTID: sqlite_lastid,
    Cardinality.COPYFROM: _not_iter,
    Cardinality.BATCHEXEC: _not_iter,
    Cardinality.BATCHONE: _not_iter,
    Cardinality.BATCHMANY: _not_iter,
}
_COPIERS: dict[str, Callable[[Connection, Variant, Iterator[Chunk]], int]] = {
    "postgresql": _pg_copy,
    "sqlite": _lite_copy,
}


# -- the namespace -----------------------------------------------------------------------


class Queries:
    """All queries of one SQL folder as attributes: ``q.trade_history(db, ...)``.

    Iterating yields the `Query` objects in name order; ``q["name"]`` and ``"name" in q``
    work too.
    """

    def __init__(self, queries: Mapping[str, Query], source: Path) -> None:
        self._queries = dict(sorted(queries.items()))
        self._source = source
        for name, query in self._queries.items():
            setattr(self, name, query)

    def __getattr__(self, name: str) -> Query:
        # Only reached for names that are not queries (real ones are instance attributes).
        raise AttributeError(f"no query named {name!r} in {self._source}")

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no query named {name!r} in {self._source}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._queries

    def __iter__(self) -> Iterator[Query]:
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def __repr__(self) -> str:
        return f"<Queries {len(self._queries)} from {self._source}>"


def builtin_sql_dir() -> Path:
    """The package's own sql/ (wheel install), else the checkout's top-level sql/ (editable)."""
    package = Path(__file__).resolve().parent
    shipped = package / "sql"
    if shipped.is_dir():
        return shipped
    return package.parent.parent / "sql"


def read_blocks(path: Path) -> dict[str, dict[str, SqlBlock]]:
    """Blocks per dialect: ``{"postgresql": {name: block}, "sqlite": {...}}``.

    Portable files (``path/*.sql``) count for both dialects; ``path/postgresql/*.sql`` and
    ``path/sqlite/*.sql`` override a portable block of the same name on their dialect.
    """
    if not path.is_dir():
        raise SqlFileError(f"{path}: SQL folder not found")
    portable: dict[str, SqlBlock] = {}
    for file in sorted(path.glob("*.sql")):
        for block in parse_sql_file(file):
            _add_unique(portable, block)
    result: dict[str, dict[str, SqlBlock]] = {}
    for dialect in DIALECTS:
        own: dict[str, SqlBlock] = {}
        for file in sorted((path / dialect).glob("*.sql")):
            for block in parse_sql_file(file):
                _add_unique(own, block)
                base = portable.get(block.name)
                if base is not None:
                    _check_override(base, block)
        result[dialect] = {**portable, **own}
    return result


def _add_unique(seen: dict[str, SqlBlock], block: SqlBlock) -> None:
    first = seen.get(block.name)
    if first is not None:
        raise SqlFileError(
            f"{block.where}: duplicate query name {block.name!r} (first at {first.where})"
        )
    seen[block.name] = block


def _check_override(base: SqlBlock, block: SqlBlock) -> None:
    if (base.cardinality, base.model) != (block.cardinality, block.model) or set(
        base.param_names
    ) != set(block.param_names):
        raise SqlFileError(
            f"{block.where}: dialect override of {block.name} must keep the signature of "
            f"{base.where} (:{base.cardinality.value} {base.model or ''}, parameters "
            f"{', '.join(base.param_names) or 'none'})"
        )


def _query_class(cardinality: Cardinality) -> type[Query]:
    if cardinality is Cardinality.COPYFROM:
        return CopyQuery
    if cardinality in BATCH_CARDINALITIES:
        # Imported here: tradestore.batch builds on this module's Query.
        from tradestore.batch import BatchQuery  # noqa: PLC0415

        return BatchQuery
    return Query


def _logging_defaults(echo: bool | None, slow_query_ms: float | None) -> tuple[bool, float | None]:
    if echo is not None and slow_query_ms is not None:
        return echo, slow_query_ms
    from tradestore.settings import load_settings  # noqa: PLC0415  (only when not given)

    try:
        settings = load_settings()
    except TradestoreError:
        return bool(echo), slow_query_ms
    return (
        settings.database_echo if echo is None else echo,
        settings.db_slow_query_ms if slow_query_ms is None else slow_query_ms,
    )


@overload
def load_queries(
    path: None = None,
    *,
    models: None = None,
    echo: bool | None = None,
    slow_query_ms: float | None = None,
) -> BuiltinQueries: ...


@overload
def load_queries(
    path: str | Path | None = None,
    *,
    models: ModelsArg = None,
    echo: bool | None = None,
    slow_query_ms: float | None = None,
) -> Queries: ...


def load_queries(
    path: str | Path | None = None,
    *,
    models: ModelsArg = None,
    echo: bool | None = None,
    slow_query_ms: float | None = None,
) -> Queries | BuiltinQueries:
    """Load every named query under `path` (default: the kit's built-in sql/) into one namespace.

    `models` adds row models (a mapping of names to classes, or a module) to the built-in
    registry of `tradestore.models`. `echo` (DATABASE_ECHO) logs every call at INFO on the
    ``tradestore.queries`` logger with name, file:line and time; `slow_query_ms`
    (DB_SLOW_QUERY_MS) logs slower calls at WARNING. Parameter values are never logged.
    Malformed files raise `SqlFileError` naming file:line.

    Typed: without arguments mypy sees `BuiltinQueries` (generated from sql/ by
    `make stubs`); for a folder of your own, generate a Protocol with `tradestore stubs`
    and ``cast()`` the result to it.
    """
    folder = Path(path) if path is not None else builtin_sql_dir()
    registry = build_registry(models)
    echo_on, slow = _logging_defaults(echo, slow_query_ms)
    per_dialect = read_blocks(folder)
    names = sorted({n for blocks in per_dialect.values() for n in blocks})
    queries: dict[str, Query] = {}
    for name in names:
        variants = {
            dialect: _bind(blocks[name], dialect)
            for dialect, blocks in per_dialect.items()
            if name in blocks
        }
        block = next(iter(variants.values())).block
        model: type[BaseModel] | None = None
        if block.model is not None:
            model = registry.get(block.model)
            if model is None:
                known = ", ".join(sorted(registry)) or "none"
                raise SqlFileError(
                    f"{block.where}: query {name}: unknown model {block.model!r} "
                    f"(known: {known}; pass models= to add your own)"
                )
        queries[name] = _query_class(block.cardinality)(
            variants, model, echo=echo_on, slow_query_ms=slow
        )
    return Queries(queries, folder)


__all__ = ["CopyQuery", "Queries", "Query", "builtin_sql_dir", "load_queries"]

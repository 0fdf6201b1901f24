"""The :batch family (sqlc's words): one statement run once per parameter set, as one unit.

``q.name(db, items)``: `items` is an iterable of parameter sets, each a mapping with exactly
the declared parameters (like a call's keywords) or a model whose attributes of those names
are read (like :copyfrom). Results come back in item order:

- ``:batchexec`` -> the number of rows affected, summed over the items;
- ``:batchone`` -> ``list[Row | None]``: each item's first row, or None;
- ``:batchmany`` -> ``list[list[Row]]``: each item's rows.

A batch is atomic: it runs in a transaction of its own, or in a savepoint inside the caller's
one, so a failing item (or a value the driver cannot send) leaves no item applied and the
caller's transaction usable. Every parameter set is checked before anything is sent.

PostgreSQL: one pipeline holds ``BEGIN``, psycopg's ``executemany`` (prepared once, one
Bind/Execute per item) and ``COMMIT``, so a :batchexec costs one round trip and a row batch two
(psycopg collects the rows before the COMMIT is queued), whatever the number of items.
SQLite: ``executemany`` in one transaction, or one execute per item when rows come back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from psycopg import Pipeline
from psycopg.pq import TransactionStatus
from pydantic import BaseModel

from tradestore.db.connection import Connection
from tradestore.errors import QueryError
from tradestore.queries.binding import Db, RowBuilder, Variant
from tradestore.queries.columns import unique
from tradestore.queries.lastid import has_returning
from tradestore.queries.query import Query
from tradestore.queries.runners_postgres import column_names, cursor_of, tuned
from tradestore.queries.sqlfile import Cardinality

Values = list[tuple[Any, ...]]
BatchRunner = Callable[[Connection, Variant, Values, RowBuilder], Any]
#: Inside the caller's transaction a batch is a savepoint; batches do not nest, one name does.
_SAVEPOINT = "tradestore_batch"


class BatchQuery(Query):
    """A :batchexec, :batchone or :batchmany query; call it as ``query(db, items)``."""

    def __call__(self, db: Db, /, *items_arg: Any, **params: Any) -> Any:
        variant = self._variant(db.dialect)
        items = items_arg[0] if len(items_arg) == 1 and not params else None
        # One parameter set passed bare (a dict, a model) is a mistake, not a batch of its keys.
        if not isinstance(items, Iterable) or isinstance(items, Mapping | BaseModel | str | bytes):
            raise QueryError(
                f"query {self.name} ({variant.block.where}) is :{self.cardinality.value}: call "
                f"it as q.{self.name}(db, items) with items an iterable of parameter sets "
                "(mappings or models), e.g. a list of dicts",
                query=self.name,
            )
        values = self._values(variant, items)
        if not values:
            return 0 if self.cardinality is Cardinality.BATCHEXEC else []
        run = _RUNNERS[db.dialect, self.cardinality]
        return self._checked_out(db, variant, lambda conn: run(conn, variant, values, self._build))

    def _values(self, variant: Variant, items: Iterable[Any]) -> Values:
        """Every item's values in placeholder order, checked before anything runs."""
        names = variant.names
        pick = variant.pick
        values: Values = []
        for index, item in enumerate(items):
            if type(item) is dict or isinstance(item, Mapping):
                values.append(
                    pick(item) if item.keys() == names else self._args(variant, item, _at(index))
                )
            elif isinstance(item, BaseModel):
                values.append(pick(self._attributes(variant, item, index)))
            else:
                raise QueryError(
                    f"query {self.name} ({variant.block.where}): {_at(index)}"
                    f"{type(item).__name__} is not a parameter set (a mapping or a model)",
                    query=self.name,
                )
        return values

    def _attributes(self, variant: Variant, item: BaseModel, index: int) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name in variant.names:
            try:
                params[name] = getattr(item, name)
            except AttributeError:
                raise QueryError(
                    f"query {self.name} ({variant.block.where}): {_at(index)}"
                    f"{type(item).__name__} has no attribute for parameter {name}",
                    query=self.name,
                ) from None
        return params


def _at(index: int) -> str:
    return f"items[{index}]: "


# -- PostgreSQL ---------------------------------------------------------------------------


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


def _pg_batchexec(conn: Connection, v: Variant, values: Values, build: RowBuilder) -> Any:
    count: int = _pg_batch(conn, v, values, returning=False).rowcount
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


def _pg_batchmany(conn: Connection, v: Variant, values: Values, build: RowBuilder) -> Any:
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


# -- SQLite ---------------------------------------------------------------------------------


def _lite_batchexec(conn: Connection, v: Variant, values: Values, build: RowBuilder) -> Any:
    raw = conn._live().raw
    count = 0
    with conn.transaction():
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


def _lite_batchone(conn: Connection, v: Variant, values: Values, build: RowBuilder) -> Any:
    raw = conn._live().raw
    found: list[Any] = []
    names: list[str] | None = None
    with conn.transaction():
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


def _lite_batchmany(conn: Connection, v: Variant, values: Values, build: RowBuilder) -> Any:
    raw = conn._live().raw
    found: list[list[Any]] = []
    names: list[str] = []
    with conn.transaction():
        conn.backend.arm_timeout(raw)  # one clock for the whole batch
        for args in values:
            cur = raw.execute(v.sql, args)
            rows = cur.fetchall()
            if rows and not names:
                names = unique(v.block, [d[0] for d in cur.description])
            found.append([build(dict(zip(names, row, strict=True))) for row in rows])
    return found


_RUNNERS: dict[tuple[str, Cardinality], BatchRunner] = {
    ("postgresql", Cardinality.BATCHEXEC): _pg_batchexec,
    ("postgresql", Cardinality.BATCHONE): _pg_batchone,
    ("postgresql", Cardinality.BATCHMANY): _pg_batchmany,
    ("sqlite", Cardinality.BATCHEXEC): _lite_batchexec,
    ("sqlite", Cardinality.BATCHONE): _lite_batchone,
    ("sqlite", Cardinality.BATCHMANY): _lite_batchmany,
}

__all__ = ["BatchQuery"]

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

PostgreSQL (`batch_postgres`): one pipeline, one round trip for a :batchexec. SQLite
(`batch_sqlite`): ``executemany`` in one transaction. Both faces: ``await q.name(adb, items)``
on an `AsyncPool` or `AsyncConnection`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from tradestore.db.connection import Connection
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool import Pool
from tradestore.errors import QueryError
from tradestore.queries import batch_postgres, batch_postgres_async, batch_sqlite
from tradestore.queries.binding import Db, Variant
from tradestore.queries.query import Query
from tradestore.queries.sqlfile import Cardinality

Values = list[tuple[Any, ...]]


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
            empty: int | list[Any] = 0 if self.cardinality is Cardinality.BATCHEXEC else []
            return empty if isinstance(db, Pool | Connection) else _ready(empty)
        card, build = self.cardinality, self._build
        if isinstance(db, Pool | Connection):
            if db.dialect == "sqlite":
                return self._checked_out(
                    db, variant, lambda conn: batch_sqlite.run(card, conn, variant, values, build)
                )
            run = batch_postgres.RUNNERS[card]
            return self._checked_out(db, variant, lambda conn: run(conn, variant, values, build))
        if db.dialect == "sqlite":

            async def on_worker(conn: AsyncConnection) -> Any:
                return await batch_sqlite.arun(card, conn, variant, values, build)

            return self._achecked_out(db, variant, on_worker)
        arun = batch_postgres_async.RUNNERS[card]
        return self._achecked_out(db, variant, lambda conn: arun(conn, variant, values, build))

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


async def _ready(result: Any) -> Any:
    """What the async face awaits when there is nothing to send (no connection is touched)."""
    return result


def _at(index: int) -> str:
    return f"items[{index}]: "


__all__ = ["BatchQuery"]

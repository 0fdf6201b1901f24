"""Introspection: which tables exist, what their columns are, and how the pool is doing.

The catalog SQL is named queries like any other (sql/introspection.sql, with PostgreSQL and
SQLite variants), limited to the connection's current schema on PostgreSQL, so a bot sees the
tables its own queries see (`tradestore.schema.introspect_base`).

Written once for asyncio; the sync twin (``introspect.py``) is generated from it. On the async
face the catalog's SQL file is read on a worker thread, and the queries are awaited.
"""

from __future__ import annotations

from tradestore.db._acompat import ASYNC
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool_async import AsyncPool
from tradestore.errors import NotFound
from tradestore.queries.loader import Queries
from tradestore.schema.introspect_base import (
    ColumnInfo,
    TableInfo,
    catalog_queries,
    get_connection_stats,
    table_info,
)

if ASYNC:
    import asyncio

Db = AsyncPool | AsyncConnection


async def _catalog() -> Queries:
    if ASYNC:
        return await asyncio.to_thread(catalog_queries)  # the first call reads the SQL file
    return catalog_queries()


async def table_exists(db: Db, name: str) -> bool:
    """Whether a table or view called `name` exists (in the current schema on PostgreSQL)."""
    q = await _catalog()
    return bool(await q.introspect_table_exists(db, name=name))


async def list_tables(db: Db) -> list[str]:
    """Names of the base tables (no views) in the current schema, sorted by code point."""
    q = await _catalog()
    return sorted(str(row["name"]) for row in await q.introspect_tables(db))


async def get_table_info(db: Db, name: str) -> TableInfo:
    """Columns and row estimate of table or view `name`; `NotFound` when there is none."""
    q = await _catalog()
    rows = await q.introspect_columns(db, name=name)
    if not rows:
        raise NotFound(f"table {name!r} does not exist in {db.backend.url.redacted}")
    return table_info(name, rows, await q.introspect_row_estimate(db, name=name))


__all__ = [
    "ColumnInfo",
    "TableInfo",
    "get_connection_stats",
    "get_table_info",
    "list_tables",
    "table_exists",
]

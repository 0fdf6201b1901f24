# Generated from introspect_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""Introspection: which tables exist, what their columns are, and how the pool is doing.

The catalog SQL is named queries like any other (sql/introspection.sql, with PostgreSQL and
SQLite variants), limited to the connection's current schema on PostgreSQL, so a bot sees the
tables its own queries see (`tradestore.schema.introspect_base`).

Written once for asyncio; the sync twin (``introspect.py``) is generated from it. On the async
face the catalog's SQL file is read on a worker thread, and the queries are awaited.
"""

from __future__ import annotations

from tradestore.db._acompat import ASYNC
from tradestore.db.connection import Connection
from tradestore.db.pool import Pool
from tradestore.errors import NotFound
from tradestore.queries.loader import Queries
from tradestore.schema.introspect_base import (
    ColumnInfo,
    TableInfo,
    catalog_queries,
    get_connection_stats,
    table_info,
)

Db = Pool | Connection


def _catalog() -> Queries:
    return catalog_queries()


def table_exists(db: Db, name: str) -> bool:
    """Whether a table or view called `name` exists (in the current schema on PostgreSQL)."""
    q = _catalog()
    return bool(q.introspect_table_exists(db, name=name))


def list_tables(db: Db) -> list[str]:
    """Names of the base tables (no views) in the current schema, sorted by code point."""
    q = _catalog()
    return sorted(str(row["name"]) for row in q.introspect_tables(db))


def get_table_info(db: Db, name: str) -> TableInfo:
    """Columns and row estimate of table or view `name`; `NotFound` when there is none."""
    q = _catalog()
    rows = q.introspect_columns(db, name=name)
    if not rows:
        raise NotFound(f"table {name!r} does not exist in {db.backend.url.redacted}")
    return table_info(name, rows, q.introspect_row_estimate(db, name=name))


__all__ = [
    "ColumnInfo",
    "TableInfo",
    "get_connection_stats",
    "get_table_info",
    "list_tables",
    "table_exists",
]

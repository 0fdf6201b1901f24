"""Introspection: which tables exist, what their columns are, and how the pool is doing.

The catalog SQL is named queries like any other (sql/introspection.sql, with PostgreSQL and
SQLite variants), limited to the connection's current schema on PostgreSQL, so a bot sees the
tables its own queries see. Rows come back as dicts and are turned into the frozen values
below here: they describe the catalog, not a table of the trading schema.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from tradestore.db.connection import Connection
from tradestore.db.pool import Pool
from tradestore.errors import NotFound
from tradestore.queries.loader import Queries, load_queries
from tradestore.resources import builtin_sql_dir

Db = Pool | Connection


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the database declares it (`type` in the database's own words)."""

    name: str
    type: str
    nullable: bool
    default: str | None


@dataclass(frozen=True)
class TableInfo:
    """A table's columns in declaration order and its approximate row count.

    `row_estimate` is the planner's estimate on PostgreSQL (as fresh as the last ANALYZE,
    None when never analyzed) and a count of the table's b-tree cells on SQLite (None for a
    view, or when the SQLite build lacks the dbstat table).
    """

    name: str
    columns: tuple[ColumnInfo, ...]
    row_estimate: int | None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@functools.cache
def _queries() -> Queries:
    """The catalog queries (sql/introspection.sql and its dialect variants), loaded once."""
    return load_queries(builtin_sql_dir() / "introspection.sql", echo=False, slow_query_ms=None)


def table_exists(db: Db, name: str) -> bool:
    """Whether a table or view called `name` exists (in the current schema on PostgreSQL)."""
    return bool(_queries().introspect_table_exists(db, name=name))


def list_tables(db: Db) -> list[str]:
    """Names of the base tables (no views) in the current schema, sorted by code point."""
    return sorted(str(row["name"]) for row in _queries().introspect_tables(db))


def get_table_info(db: Db, name: str) -> TableInfo:
    """Columns and row estimate of table or view `name`; `NotFound` when there is none."""
    q = _queries()
    rows = q.introspect_columns(db, name=name)
    if not rows:
        raise NotFound(f"table {name!r} does not exist in {db.backend.url.redacted}")
    columns = tuple(
        ColumnInfo(
            name=str(row["name"]),
            type=str(row["data_type"] or ""),
            nullable=bool(row["nullable"]),
            default=None if row["default_value"] is None else str(row["default_value"]),
        )
        for row in rows
    )
    estimate = q.introspect_row_estimate(db, name=name)
    if estimate is not None and estimate < 0:
        estimate = None  # PostgreSQL 14+: -1 means "never vacuumed or analyzed"
    return TableInfo(name=name, columns=columns, row_estimate=estimate)


def get_connection_stats(pool: Pool) -> dict[str, Any]:
    """The pool's counters and per-query timings as plain data (JSON-ready, no password).

    ``{"database": redacted URL, "pool": {size, idle, in_use, ...}, "queries": {name:
    {count, errors, total_ms, max_ms, mean_ms}}}``; query timings count calls made with the
    pool itself as `db` (calls on a checked-out connection are the caller's to time).
    """
    queries = {
        name: {
            "count": timing.count,
            "errors": timing.errors,
            "total_ms": timing.total_ms,
            "max_ms": timing.max_ms,
            "mean_ms": round(timing.mean_ms, 3),
        }
        for name, timing in pool.metrics.snapshot().items()
    }
    return {
        "database": pool.url.redacted,
        "pool": dataclasses.asdict(pool.stats()),
        "queries": queries,
    }


__all__ = [
    "ColumnInfo",
    "TableInfo",
    "get_connection_stats",
    "get_table_info",
    "list_tables",
    "table_exists",
]

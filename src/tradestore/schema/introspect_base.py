"""What both faces of introspection share: the catalog queries, the values they describe
(`ColumnInfo`, `TableInfo`) and the pool's statistics as plain data. No I/O here.

The catalog SQL is named queries like any other (sql/introspection.sql, with PostgreSQL and
SQLite variants), limited to the connection's current schema on PostgreSQL, so a bot sees the
tables its own queries see. Rows come back as dicts and are turned into the frozen values
below here: they describe the catalog, not a table of the trading schema.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradestore.db.pool_base import PoolBase
from tradestore.queries.loader import Queries, load_queries
from tradestore.resources import builtin_sql_dir


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
def catalog_queries() -> Queries:
    """The catalog queries (sql/introspection.sql and its dialect variants), loaded once."""
    return load_queries(builtin_sql_dir() / "introspection.sql", echo=False, slow_query_ms=None)


def table_info(name: str, rows: Sequence[Mapping[str, Any]], estimate: int | None) -> TableInfo:
    """`TableInfo` from the rows of ``introspect_columns`` and ``introspect_row_estimate``."""
    columns = tuple(
        ColumnInfo(
            name=str(row["name"]),
            type=str(row["data_type"] or ""),
            nullable=bool(row["nullable"]),
            default=None if row["default_value"] is None else str(row["default_value"]),
        )
        for row in rows
    )
    if estimate is not None and estimate < 0:
        estimate = None  # PostgreSQL 14+: -1 means "never vacuumed or analyzed"
    return TableInfo(name=name, columns=columns, row_estimate=estimate)


def get_connection_stats(pool: PoolBase) -> dict[str, Any]:
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
    "catalog_queries",
    "get_connection_stats",
    "table_info",
]

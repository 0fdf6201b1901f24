"""tradestore: raw-SQL data access for trading bots.

Named SQL files become typed query functions returning Pydantic rows, over a small
thread-safe pool for PostgreSQL (psycopg 3) and SQLite, with yoyo migrations.
"""

from __future__ import annotations

from typing import Any

from tradestore.backup import create_backup, prune_backups, restore_backup
from tradestore.connection import Connection
from tradestore.errors import (
    BackupError,
    ConfigurationError,
    ConnectionFailed,
    ConnectionRejected,
    DatabaseURLError,
    IllegalTransition,
    IntegrityViolation,
    MigrationError,
    NotFound,
    PoolClosed,
    PoolError,
    PoolTimeout,
    QueryError,
    QueryTimeout,
    SqlFileError,
    StaleVersionError,
    TradestoreError,
)
from tradestore.inputs import (
    AuditReport,
    EquitySnapshot,
    ExecutionResult,
    IterationSummary,
    RiskSnapshot,
    TradeSignal,
)
from tradestore.introspect import (
    ColumnInfo,
    TableInfo,
    get_connection_stats,
    get_table_info,
    table_exists,
)
from tradestore.migrate import (
    MigrationStatus,
    RollbackPlan,
    break_lock,
    migrate,
    migration_status,
    rollback,
    rollback_plan,
)
from tradestore.pool import Pool, PoolStats
from tradestore.queries import load_queries
from tradestore.settings import Settings, load_settings
from tradestore.store import TradeStore
from tradestore.url import DatabaseURL, parse_url

__version__ = "0.1.0"


def connect(url: str | DatabaseURL | None = None, **knobs: Any) -> Pool:
    """Open a pool. Without `url`, DATABASE_URL is used; knobs not given come from the
    environment (DB_POOL_SIZE -> min_size, DB_POOL_SIZE + DB_MAX_OVERFLOW -> max_size)."""
    settings = load_settings()
    options = settings.pool_knobs()
    options.update(knobs)
    return Pool(url if url is not None else settings.url, **options)


__all__ = [
    "AuditReport",
    "BackupError",
    "ColumnInfo",
    "ConfigurationError",
    "Connection",
    "ConnectionFailed",
    "ConnectionRejected",
    "DatabaseURL",
    "DatabaseURLError",
    "EquitySnapshot",
    "ExecutionResult",
    "IllegalTransition",
    "IntegrityViolation",
    "IterationSummary",
    "MigrationError",
    "MigrationStatus",
    "NotFound",
    "Pool",
    "PoolClosed",
    "PoolError",
    "PoolStats",
    "PoolTimeout",
    "QueryError",
    "QueryTimeout",
    "RiskSnapshot",
    "RollbackPlan",
    "Settings",
    "SqlFileError",
    "StaleVersionError",
    "TableInfo",
    "TradeSignal",
    "TradeStore",
    "TradestoreError",
    "__version__",
    "break_lock",
    "connect",
    "create_backup",
    "get_connection_stats",
    "get_table_info",
    "load_queries",
    "load_settings",
    "migrate",
    "migration_status",
    "parse_url",
    "prune_backups",
    "restore_backup",
    "rollback",
    "rollback_plan",
    "table_exists",
]

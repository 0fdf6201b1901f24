"""tradestore: raw-SQL data access for trading bots.

Named SQL files become typed query functions returning Pydantic rows, over a small
thread-safe pool for PostgreSQL (psycopg 3) and SQLite, with yoyo migrations.

The public names below are imported on first use (PEP 562): ``import tradestore.db.pool`` or
``import tradestore.queries.loader`` loads the kit alone, never the trading layer, and
``from tradestore import TradeStore`` loads the store when a bot asks for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradestore.db.connect import connect
    from tradestore.db.connection import Connection
    from tradestore.db.connection_async import AsyncConnection
    from tradestore.db.pool import Pool, PoolStats
    from tradestore.db.pool_async import AsyncPool
    from tradestore.db.settings import Settings, load_settings
    from tradestore.db.url import DatabaseURL, parse_url
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
    from tradestore.queries.fields import JsonList, JsonObject, Money, Text, UtcDatetime
    from tradestore.queries.loader import Queries
    from tradestore.queries.query import Query
    from tradestore.schema.backup import create_backup, prune_backups, restore_backup
    from tradestore.schema.introspect import (
        ColumnInfo,
        TableInfo,
        get_connection_stats,
        get_table_info,
        table_exists,
    )
    from tradestore.schema.migrate import (
        MigrationStatus,
        RollbackPlan,
        break_lock,
        migrate,
        migration_status,
        rollback,
        rollback_plan,
    )
    from tradestore.trading.inputs import (
        AuditReport,
        EquitySnapshot,
        ExecutionResult,
        IterationSummary,
        RiskSnapshot,
        TradeSignal,
    )
    from tradestore.trading.queries import load_queries
    from tradestore.trading.store import TradeStore
    from tradestore.trading.store_async import AsyncTradeStore

__version__ = "0.1.0"

#: Where each public name lives.
_HOME: dict[str, str] = {
    "AsyncConnection": "tradestore.db.connection_async",
    "AsyncPool": "tradestore.db.pool_async",
    "AsyncTradeStore": "tradestore.trading.store_async",
    "AuditReport": "tradestore.trading.inputs",
    "BackupError": "tradestore.errors",
    "ColumnInfo": "tradestore.schema.introspect",
    "ConfigurationError": "tradestore.errors",
    "Connection": "tradestore.db.connection",
    "ConnectionFailed": "tradestore.errors",
    "ConnectionRejected": "tradestore.errors",
    "DatabaseURL": "tradestore.db.url",
    "DatabaseURLError": "tradestore.errors",
    "EquitySnapshot": "tradestore.trading.inputs",
    "ExecutionResult": "tradestore.trading.inputs",
    "IllegalTransition": "tradestore.errors",
    "IntegrityViolation": "tradestore.errors",
    "IterationSummary": "tradestore.trading.inputs",
    "JsonList": "tradestore.queries.fields",
    "JsonObject": "tradestore.queries.fields",
    "MigrationError": "tradestore.errors",
    "MigrationStatus": "tradestore.schema.migrate",
    "Money": "tradestore.queries.fields",
    "NotFound": "tradestore.errors",
    "Pool": "tradestore.db.pool",
    "PoolClosed": "tradestore.errors",
    "PoolError": "tradestore.errors",
    "PoolStats": "tradestore.db.pool",
    "PoolTimeout": "tradestore.errors",
    "Queries": "tradestore.queries.loader",
    "Query": "tradestore.queries.query",
    "QueryError": "tradestore.errors",
    "QueryTimeout": "tradestore.errors",
    "RiskSnapshot": "tradestore.trading.inputs",
    "RollbackPlan": "tradestore.schema.migrate",
    "Settings": "tradestore.db.settings",
    "SqlFileError": "tradestore.errors",
    "StaleVersionError": "tradestore.errors",
    "TableInfo": "tradestore.schema.introspect",
    "Text": "tradestore.queries.fields",
    "TradeSignal": "tradestore.trading.inputs",
    "TradeStore": "tradestore.trading.store",
    "TradestoreError": "tradestore.errors",
    "UtcDatetime": "tradestore.queries.fields",
    "break_lock": "tradestore.schema.migrate",
    "connect": "tradestore.db.connect",
    "create_backup": "tradestore.schema.backup",
    "get_connection_stats": "tradestore.schema.introspect",
    "get_table_info": "tradestore.schema.introspect",
    "load_queries": "tradestore.trading.queries",
    "load_settings": "tradestore.db.settings",
    "migrate": "tradestore.schema.migrate",
    "migration_status": "tradestore.schema.migrate",
    "parse_url": "tradestore.db.url",
    "prune_backups": "tradestore.schema.backup",
    "restore_backup": "tradestore.schema.backup",
    "rollback": "tradestore.schema.migrate",
    "rollback_plan": "tradestore.schema.migrate",
    "table_exists": "tradestore.schema.introspect",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'tradestore' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next access is a plain attribute read
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AsyncConnection",
    "AsyncPool",
    "AsyncTradeStore",
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
    "JsonList",
    "JsonObject",
    "MigrationError",
    "MigrationStatus",
    "Money",
    "NotFound",
    "Pool",
    "PoolClosed",
    "PoolError",
    "PoolStats",
    "PoolTimeout",
    "Queries",
    "Query",
    "QueryError",
    "QueryTimeout",
    "RiskSnapshot",
    "RollbackPlan",
    "Settings",
    "SqlFileError",
    "StaleVersionError",
    "TableInfo",
    "Text",
    "TradeSignal",
    "TradeStore",
    "TradestoreError",
    "UtcDatetime",
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

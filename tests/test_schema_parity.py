"""PostgreSQL and SQLite end with the same schema, and the row models match it.

Compared by name: tables, views, columns (in order), NOT NULL on table columns, explicit
indexes, triggers and named CHECK constraints; then every model's fields against its
relation's columns; then the same rows read back through the models give equal values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from tradestore import Connection, Pool, migrate
from tradestore.trading import models as m

pytestmark = pytest.mark.postgres

MODEL_OF: dict[str, type[BaseModel]] = {
    "trade_history": m.TradeHistoryRecord,
    "equity_curve": m.EquityPoint,
    "risk_metrics": m.RiskMetricsRecord,
    "iteration_log": m.IterationLogRecord,
    "audit_report_log": m.AuditReportRecord,
    "accounts": m.Account,
    "portfolios": m.Portfolio,
    "orders": m.Order,
    "trades": m.Trade,
    "positions": m.Position,
    "audit_logs": m.AuditLog,
    "daily_strategy_pnl": m.DailyStrategyPnl,
    "open_positions_pnl": m.OpenPositionPnl,
}


@dataclass
class Schema:
    tables: dict[str, list[str]] = field(default_factory=dict)
    views: dict[str, list[str]] = field(default_factory=dict)
    not_null: dict[str, set[str]] = field(default_factory=dict)
    indexes: set[str] = field(default_factory=set)
    triggers: set[str] = field(default_factory=set)
    checks: set[str] = field(default_factory=set)


def _user(name: str) -> bool:
    return not name.startswith(("_yoyo", "yoyo_", "sqlite_"))


def _pg_schema(conn: Connection) -> Schema:
    schema = Schema()
    rows = conn.execute(
        "SELECT t.table_name, t.table_type, c.column_name, c.is_nullable "
        "FROM information_schema.tables AS t "
        "JOIN information_schema.columns AS c "
        "ON c.table_schema = t.table_schema AND c.table_name = t.table_name "
        "WHERE t.table_schema = current_schema() "
        "ORDER BY t.table_name, c.ordinal_position"
    ).fetchall()
    for table, kind, column, nullable in rows:
        if not _user(table):
            continue
        target = schema.tables if kind == "BASE TABLE" else schema.views
        target.setdefault(table, []).append(column)
        if kind == "BASE TABLE" and nullable == "NO":
            schema.not_null.setdefault(table, set()).add(column)
    schema.indexes = {
        name
        for (name,) in conn.execute(
            "SELECT i.relname FROM pg_index AS x "
            "JOIN pg_class AS i ON i.oid = x.indexrelid "
            "JOIN pg_namespace AS n ON n.oid = i.relnamespace "
            "WHERE n.nspname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = x.indexrelid)"
        ).fetchall()
        if _user(name)
    }
    schema.triggers = {
        name
        for (name,) in conn.execute(
            "SELECT t.tgname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
        ).fetchall()
    }
    schema.checks = {
        name
        for (name,) in conn.execute(
            "SELECT k.conname FROM pg_constraint AS k "
            "JOIN pg_namespace AS n ON n.oid = k.connamespace "
            "WHERE n.nspname = current_schema() AND k.contype = 'c'"
        ).fetchall()
    }
    return schema


def _sqlite_schema(conn: Connection) -> Schema:
    schema = Schema()
    objects = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    for kind, name, sql in objects:
        if not _user(name):
            continue
        if kind in ("table", "view"):
            # PRAGMA compiles a view: its decimal functions come from the kit's connection.
            info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
            target = schema.tables if kind == "table" else schema.views
            target[name] = [row[1] for row in info]
            if kind == "table":
                schema.not_null[name] = {row[1] for row in info if row[3] or row[5]}
                schema.checks |= set(re.findall(r"CONSTRAINT (\w+) CHECK", sql))
        elif kind == "index" and sql is not None:
            schema.indexes.add(name)
        elif kind == "trigger":
            schema.triggers.add(name)
    return schema


def _schema(url: str) -> Schema:
    migrate(url)
    with Pool(url, min_size=0, max_size=1) as pool, pool.connection() as conn:
        return _pg_schema(conn) if conn.dialect == "postgresql" else _sqlite_schema(conn)


@pytest.fixture
def schemas(pg_url: str, sqlite_url: str) -> tuple[Schema, Schema]:
    return _schema(pg_url), _schema(sqlite_url)


def test_same_tables_and_columns_in_the_same_order(schemas: tuple[Schema, Schema]) -> None:
    pg, lite = schemas
    assert pg.tables == lite.tables
    assert set(pg.tables) == {name for name in MODEL_OF if not name.endswith("_pnl")}


def test_same_views_and_view_columns(schemas: tuple[Schema, Schema]) -> None:
    pg, lite = schemas
    assert pg.views == lite.views
    assert set(pg.views) == {"daily_strategy_pnl", "open_positions_pnl"}


def test_same_not_null_columns(schemas: tuple[Schema, Schema]) -> None:
    pg, lite = schemas
    assert pg.not_null == lite.not_null


def test_same_indexes_and_triggers(schemas: tuple[Schema, Schema]) -> None:
    pg, lite = schemas
    assert pg.indexes == lite.indexes
    assert pg.triggers == lite.triggers
    assert {f"{t}_touch_updated_at" for t in ("accounts", "orders", "positions")} <= pg.triggers


def test_every_postgresql_check_exists_on_sqlite(schemas: tuple[Schema, Schema]) -> None:
    pg, lite = schemas
    assert pg.checks <= lite.checks
    # SQLite adds only what its types need: boolean 0/1 and JSON validity checks.
    assert all(re.search(r"_(boolean|json)$", name) for name in lite.checks - pg.checks)


@pytest.mark.parametrize("relation", sorted(MODEL_OF))
def test_model_fields_are_the_columns(schemas: tuple[Schema, Schema], relation: str) -> None:
    pg, lite = schemas
    columns = {**pg.tables, **pg.views}[relation]
    assert list(MODEL_OF[relation].model_fields) == columns
    assert {**lite.tables, **lite.views}[relation] == columns


def _exec(conn: Connection, sql: str, params: dict[str, Any]) -> Any:
    if conn.dialect == "postgresql":
        sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
    return conn.execute(sql, params)


def _select(conn: Connection, sql: str) -> list[dict[str, Any]]:
    cur = conn.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _reports(url: str) -> tuple[list[m.OpenPositionPnl], list[m.DailyStrategyPnl]]:
    """Write the same positions on a backend; read both views back as models."""
    t0 = dt.datetime(2026, 3, 2, 14, 30, 0, 123456, tzinfo=dt.UTC)
    with Pool(url, min_size=0, max_size=1) as pool, pool.transaction() as conn:
        account = _exec(
            conn, "INSERT INTO accounts (name) VALUES (:n) RETURNING id", {"n": "a"}
        ).fetchone()[0]
        portfolio = _exec(
            conn,
            "INSERT INTO portfolios (account_id, name) VALUES (:a, :n) RETURNING id",
            {"a": account, "n": "p"},
        ).fetchone()[0]
        insert = (
            "INSERT INTO positions (portfolio_id, symbol, side, quantity, entry_price, "
            "entry_time, current_price, exit_price, exit_time, realized_pnl, status, "
            "strategy_id) VALUES (:p, :symbol, :side, :qty, :entry, :t, :current, :exit, "
            ":exit_time, :realized, :status, :strategy)"
        )
        rows = [
            ("AAPL", "long", "10", "150.12345678", "151.5", None, None, "0", "open", "mom"),
            ("TSLA", "short", "0.5", "200", "190.00000001", None, None, "0", "open", "mr"),
            ("MSFT", "long", "1", "1", None, None, None, "0", "open", None),
            ("NVDA", "long", "2", "100", None, "110", t0, "20.00000001", "closed", "mom"),
            ("AMD", "long", "2", "100", None, "90", t0, "-20", "closed", "mom"),
            ("ABC", "long", "1", "1", None, "1.1", t0, "0.1", "closed", "mr"),
        ]
        for sym, side, qty, entry, cur, exit_, exit_t, realized, status, strat in rows:
            _exec(
                conn,
                insert,
                {
                    "p": portfolio,
                    "symbol": sym,
                    "side": side,
                    "qty": Decimal(qty),
                    "entry": Decimal(entry),
                    "t": t0,
                    "current": None if cur is None else Decimal(cur),
                    "exit": None if exit_ is None else Decimal(exit_),
                    "exit_time": exit_t,
                    "realized": Decimal(realized),
                    "status": status,
                    "strategy": strat,
                },
            )
        cols_open = ", ".join(m.OpenPositionPnl.model_fields)
        cols_daily = ", ".join(m.DailyStrategyPnl.model_fields)
        open_rows = _select(conn, f"SELECT {cols_open} FROM open_positions_pnl ORDER BY symbol")
        daily = _select(conn, f"SELECT {cols_daily} FROM daily_strategy_pnl ORDER BY strategy_id")
    return (
        [m.OpenPositionPnl.model_validate(r) for r in open_rows],
        [m.DailyStrategyPnl.model_validate(r) for r in daily],
    )


def test_views_give_equal_exact_values_on_both_backends(pg_url: str, sqlite_url: str) -> None:
    migrate(pg_url)
    migrate(sqlite_url)
    pg_open, pg_daily = _reports(pg_url)
    lite_open, lite_daily = _reports(sqlite_url)
    for model in (*pg_open, *lite_open):
        object.__setattr__(model, "position_id", 0)
        object.__setattr__(model, "portfolio_id", 0)
        object.__setattr__(model, "account_id", 0)
    assert pg_open == lite_open
    assert pg_daily == lite_daily
    by_symbol = {row.symbol: row for row in pg_open}
    assert by_symbol["AAPL"].unrealized_pnl == Decimal("13.7654322")
    assert by_symbol["TSLA"].unrealized_pnl == Decimal("4.999999995")
    assert by_symbol["MSFT"].market_value is None
    assert [(d.strategy_id, d.closed_positions, d.realized_pnl) for d in pg_daily] == [
        ("mom", 2, Decimal("0.00000001")),
        ("mr", 1, Decimal("0.1")),
    ]
    assert pg_daily[0].trade_date == dt.date(2026, 3, 2)

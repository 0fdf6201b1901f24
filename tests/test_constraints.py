"""The schema's constraints and triggers on both backends, through a tradestore Pool."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from tradestore import Connection, Pool, migrate
from tradestore.errors import IntegrityViolation
from tradestore.trading.models import Account, AuditLog, Order, Position, TradeHistoryRecord

T0 = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC)
SQLITE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


@pytest.fixture
def pool(db_url: str) -> Iterator[Pool]:
    migrate(db_url)
    with Pool(db_url, min_size=0, max_size=2) as p:
        yield p


def run(conn: Connection, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    """Execute `sql` written with :name parameters in the connection's driver style."""
    if conn.dialect == "postgresql":
        sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
    return conn.execute(sql, dict(params or {}))


def insert(conn: Connection, table: str, row: Mapping[str, Any]) -> int | None:
    cols = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    returning = "" if table == "trade_history" else " RETURNING id"
    cur = run(conn, f"INSERT INTO {table} ({cols}) VALUES ({marks}){returning}", row)
    return None if not returning else int(cur.fetchone()[0])


def fetch(conn: Connection, table: str, key: str, value: Any) -> dict[str, Any]:
    cur = run(conn, f"SELECT * FROM {table} WHERE {key} = :v", {"v": value})
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def valid_rows(conn: Connection) -> dict[str, dict[str, Any]]:
    """One valid row per table (parents inserted), for tests that spoil one column."""
    account = insert(conn, "accounts", {"name": "main", "cash_balance": Decimal("1000")})
    portfolio = insert(conn, "portfolios", {"account_id": account, "name": "core"})
    order_row = {
        "portfolio_id": portfolio,
        "symbol": "AAPL",
        "order_type": "limit",
        "side": "buy",
        "quantity": Decimal("10"),
        "limit_price": Decimal("150.25"),
    }
    order = insert(conn, "orders", order_row)
    return {
        "accounts": {"name": "second"},
        "portfolios": {"account_id": account, "name": "other"},
        "orders": order_row,
        "trades": {
            "order_id": order,
            "symbol": "AAPL",
            "side": "buy",
            "quantity": Decimal("5"),
            "price": Decimal("150.25"),
            "executed_at": T0,
        },
        "positions": {
            "portfolio_id": portfolio,
            "symbol": "MSFT",
            "side": "long",
            "quantity": Decimal("3"),
            "entry_price": Decimal("400"),
            "entry_time": T0,
        },
        "trade_history": {
            "correlation_id": "c-1",
            "symbol": "AAPL",
            "action": "BUY",
            "strategy_name": "momentum",
            "quantity": Decimal("10"),
            "signal_time": T0,
        },
        "audit_logs": {"action": "create", "entity_type": "order", "entity_id": str(order)},
        "audit_report_log": {"report_type": "daily", "generated_at": T0},
        "iteration_log": {"iteration_number": 1, "started_at": T0},
    }


@pytest.mark.parametrize(
    ("table", "spoil", "constraint"),
    [
        ("orders", {"quantity": Decimal("-1")}, "orders_(quantity_positive|filled_quantity_range)"),
        ("orders", {"order_type": "iceberg"}, "orders_order_type_valid"),
        ("orders", {"side": "hold"}, "orders_side_valid"),
        ("orders", {"status": "lost"}, "orders_status_valid"),
        ("orders", {"filled_quantity": Decimal("11")}, "orders_filled_quantity_range"),
        ("orders", {"limit_price": None}, "orders_limit_price_required"),
        ("trades", {"quantity": Decimal("-0.00000001")}, "trades_quantity_positive"),
        ("trades", {"commission": Decimal("-1")}, "trades_commission_non_negative"),
        ("positions", {"quantity": Decimal("-3")}, "positions_quantity_non_negative"),
        ("positions", {"side": "sideways"}, "positions_side_valid"),
        ("positions", {"status": "closed"}, "positions_closed_has_exit"),
        ("trade_history", {"action": "MAYBE"}, "trade_history_action_valid"),
        ("trade_history", {"quantity": Decimal("-5")}, "trade_history_quantity_non_negative"),
        ("audit_logs", {"severity": "loud"}, "audit_logs_severity_valid"),
        ("audit_report_log", {"report_type": "hourly"}, "audit_report_log_report_type_valid"),
        ("iteration_log", {"signals_generated": -1}, "iteration_log_counts_non_negative"),
        ("accounts", {"metadata": '["not", "an", "object"]'}, "accounts_json_objects"),
    ],
)
def test_check_constraint_names_itself(
    pool: Pool, table: str, spoil: dict[str, Any], constraint: str
) -> None:
    with pool.connection() as conn:
        row = {**valid_rows(conn)[table], **spoil}
        with pytest.raises(IntegrityViolation, match=constraint) as caught:
            insert(conn, table, row)
    assert caught.value.sqlstate in ("23514", "SQLITE_CONSTRAINT_CHECK")


def test_the_valid_rows_are_accepted(pool: Pool) -> None:
    # The control of the tests above: each spoiled row differs from a row that is stored.
    with pool.transaction() as conn:
        rows = valid_rows(conn)
        ids = {table: insert(conn, table, row) for table, row in rows.items()}
    with pool.connection() as conn:
        for table, row in rows.items():
            key, value = ("id", ids[table]) if ids[table] is not None else ("correlation_id", "c-1")
            stored = fetch(conn, table, key, value)
            # Text and integer columns read back as written on both backends.
            plain = {k: v for k, v in row.items() if type(v) in (str, int)}
            assert {k: stored[k] for k in plain} == plain, table


@pytest.mark.parametrize(
    ("table", "column"),
    [("portfolios", "account_id"), ("orders", "portfolio_id"), ("trades", "order_id")],
)
def test_foreign_keys_are_enforced(pool: Pool, table: str, column: str) -> None:
    with pool.connection() as conn:
        row = {**valid_rows(conn)[table], column: 999_999}
        with pytest.raises(IntegrityViolation, match=r"(?i)foreign key") as caught:
            insert(conn, table, row)
    assert caught.value.sqlstate in ("23503", "SQLITE_CONSTRAINT_FOREIGNKEY")


def test_a_parent_with_children_cannot_be_deleted(pool: Pool) -> None:
    with pool.connection() as conn:
        valid_rows(conn)
        with pytest.raises(IntegrityViolation, match=r"(?i)foreign key"):
            run(conn, "DELETE FROM accounts WHERE name = :n", {"n": "main"})


def test_one_open_position_per_symbol_and_portfolio(pool: Pool) -> None:
    with pool.connection() as conn:
        row = valid_rows(conn)["positions"]
        insert(conn, "positions", row)
        with pytest.raises(IntegrityViolation, match=r"(?i)unique"):
            insert(conn, "positions", row)


def test_updated_at_is_maintained_and_version_guards_updates(pool: Pool) -> None:
    old = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with pool.connection() as conn:
        account_id = insert(conn, "accounts", {"name": "acct"})
        fresh = Account.model_validate(fetch(conn, "accounts", "id", account_id))
        assert fresh.version == 1
        assert fresh.updated_at == fresh.created_at or fresh.updated_at >= fresh.created_at

        # A caller's own updated_at is kept (backfills)...
        run(
            conn, "UPDATE accounts SET updated_at = :t WHERE id = :id", {"t": old, "id": account_id}
        )
        assert Account.model_validate(fetch(conn, "accounts", "id", account_id)).updated_at == old

        # ...any other UPDATE stamps it; the store's version check bumps the version.
        bump = (
            "UPDATE accounts SET name = :name, version = version + 1 "
            "WHERE id = :id AND version = :version"
        )
        cur = run(conn, bump, {"name": "renamed", "id": account_id, "version": 1})
        assert cur.rowcount == 1
        after = Account.model_validate(fetch(conn, "accounts", "id", account_id))
        assert after.updated_at > old
        assert (after.name, after.version) == ("renamed", 2)

        stale = run(conn, bump, {"name": "lost update", "id": account_id, "version": 1})
        assert stale.rowcount == 0


def test_audit_logs_are_append_only(pool: Pool) -> None:
    with pool.connection() as conn:
        audit_id = insert(
            conn,
            "audit_logs",
            {"action": "create", "entity_type": "order", "entity_id": "1", "new_values": {"a": 1}},
        )
        with pytest.raises(IntegrityViolation, match="append-only"):
            run(conn, "UPDATE audit_logs SET action = 'x' WHERE id = :id", {"id": audit_id})
        entry = AuditLog.model_validate(fetch(conn, "audit_logs", "id", audit_id))
        assert (entry.action, entry.severity, entry.new_values) == ("create", "info", {"a": 1})
        assert run(conn, "DELETE FROM audit_logs WHERE id = :id", {"id": audit_id}).rowcount == 1


def test_defaults_fill_rows_that_validate_as_models(pool: Pool) -> None:
    with pool.connection() as conn:
        rows = valid_rows(conn)
        insert(conn, "trade_history", rows["trade_history"])
        record = TradeHistoryRecord.model_validate(
            fetch(conn, "trade_history", "correlation_id", "c-1")
        )
        order = Order.model_validate(fetch(conn, "orders", "symbol", "AAPL"))
        position_id = insert(conn, "positions", rows["positions"])
        position = Position.model_validate(fetch(conn, "positions", "id", position_id))
        raw_created = fetch(conn, "orders", "symbol", "AAPL")["created_at"]
    assert record.executed is False
    assert record.quantity == Decimal("10")
    assert record.signal_time == T0
    assert (order.status, order.filled_quantity, order.metadata) == ("new", Decimal(0), {})
    assert (position.status, position.realized_pnl, position.version) == ("open", Decimal(0), 1)
    if pool.dialect == "sqlite":
        # SQLite's DEFAULT writes the kit's own fixed-width UTC text, so times sort as text.
        assert SQLITE_TIMESTAMP.match(raw_created)

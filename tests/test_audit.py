"""The audit trail on both backends: a row for every create/update/delete in the same
transaction (and gone with it), the event loggers, and the three queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from tradestore import load_queries
from tradestore.db.scope import DbScope
from tradestore.errors import TradestoreError
from tradestore.trading.models import Portfolio
from tradestore.trading.repositories import Repositories

QUERIES = load_queries()
T0 = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

# A trigger that makes the audit insert of one action fail, to prove the entity change it
# belongs to is rolled back with it.
REFUSE_AUDIT = {
    "postgresql": [
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit refused for %', NEW.action; END; $$",
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_logs FOR EACH ROW "
        "WHEN (NEW.action = '{action}') EXECUTE FUNCTION refuse_audit()",
    ],
    "sqlite": [
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_logs "
        "WHEN NEW.action = '{action}' BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
    ],
}


def refuse_audit(scope: DbScope, action: str) -> None:
    """Install the failing trigger for `action` (a fixed identifier-like test literal)."""
    assert action.replace("_", "").isalpha()
    with scope.pool.connection() as conn:
        for statement in REFUSE_AUDIT[conn.dialect]:
            conn.execute(statement.replace("{action}", action))


def test_account_history_has_old_and_new_values(repos: Repositories) -> None:
    account = repos.accounts.create(name="main", cash_balance="10", user_id="alice")
    repos.accounts.update(account.id, version=1, cash_balance="20.5", user_id="bob")
    repos.accounts.delete(account.id, version=2, user_id="carol")
    history = repos.audit.get_entity_history("account", account.id)
    assert [(h.action, h.user_id, h.entity_id) for h in history] == [
        ("create", "alice", str(account.id)),
        ("update", "bob", str(account.id)),
        ("delete", "carol", str(account.id)),
    ]
    created, updated, deleted = history
    assert created.old_values is None
    assert created.new_values is not None
    assert created.new_values["name"] == "main"
    assert isinstance(created.new_values["cash_balance"], str)  # JSON-safe Decimal
    assert updated.old_values is not None
    assert updated.new_values is not None
    assert Decimal(updated.old_values["cash_balance"]) == Decimal(10)
    assert Decimal(updated.new_values["cash_balance"]) == Decimal("20.5")
    assert (updated.old_values["version"], updated.new_values["version"]) == (1, 2)
    assert dt.datetime.fromisoformat(updated.new_values["updated_at"]).tzinfo is not None
    assert deleted.new_values is None
    assert deleted.old_values is not None
    assert deleted.old_values["version"] == 2


def test_every_entity_change_is_audited(repos: Repositories, portfolio: Portfolio) -> None:
    order = repos.orders.submit(
        portfolio_id=portfolio.id,
        symbol="AAPL",
        side="buy",
        order_type="market",
        quantity=10,
        strategy_id="momentum",
        user_id="bot",
    )
    order, trade = repos.orders.fill(order.id, quantity=4, price="101.5", user_id="bot")
    order = repos.orders.update(order.id, version=order.version, broker_order_id="B-1")
    repos.orders.cancel(order.id, reason="eod", user_id="bot")
    position = repos.positions.open(
        portfolio_id=portfolio.id, symbol="AAPL", side="long", quantity=4, entry_price="101.5"
    )
    position = repos.positions.mark_to_market(position.id, price=102)
    position = repos.positions.update(position.id, version=position.version, metadata={"a": 1})
    position = repos.positions.close(position.id, exit_price=103)
    repos.positions.delete(position.id, version=position.version)
    repos.portfolios.update(portfolio.id, version=1, cash=5)

    def actions(entity: str, entity_id: int) -> list[str]:
        return [h.action for h in repos.audit.get_entity_history(entity, entity_id)]

    assert actions("portfolio", portfolio.id) == ["create", "update"]
    assert actions("order", order.id) == [
        "order_submitted",
        "order_filled",
        "update",
        "order_cancelled",
    ]
    assert actions("trade", trade.id) == ["create"]
    assert actions("position", position.id) == [
        "position_opened",
        "position_marked",
        "update",
        "position_closed",
        "delete",
    ]
    filled = repos.audit.get_entity_history("order", order.id)[1]
    assert (filled.user_id, filled.strategy_id) == ("bot", "momentum")
    assert filled.metadata == {
        "trade_id": trade.id,
        "quantity": str(trade.quantity),
        "price": str(trade.price),
        "commission": str(trade.commission),
        "complete": False,
    }
    assert filled.old_values is not None
    assert filled.new_values is not None
    assert (filled.old_values["status"], filled.new_values["status"]) == ("new", "partially_filled")
    cancelled = repos.audit.get_entity_history("order", order.id)[3]
    assert cancelled.metadata == {"reason": "eod"}


def test_a_failed_transaction_takes_its_audit_rows_with_it(
    repos: Repositories, scope: DbScope
) -> None:
    with pytest.raises(RuntimeError, match="crash"), scope.transaction():
        account = repos.accounts.create(name="main")
        assert len(repos.audit.get_entity_history("account", account.id)) == 1  # same tx
        raise RuntimeError("crash")
    assert repos.accounts.list() == []
    assert repos.audit.get_audit_trail() == []


CHANGES: dict[str, Callable[[Repositories, Portfolio], object]] = {
    "create": lambda r, p: r.accounts.create(name="second"),
    "update": lambda r, p: r.portfolios.update(p.id, version=1, cash=1),
    "delete": lambda r, p: r.portfolios.delete(p.id, version=1),
    "order_submitted": lambda r, p: r.orders.submit(
        portfolio_id=p.id, symbol="X", side="buy", order_type="market", quantity=1
    ),
    "position_opened": lambda r, p: r.positions.open(
        portfolio_id=p.id, symbol="X", side="long", quantity=1, entry_price=1
    ),
}


@pytest.mark.parametrize("action", list(CHANGES))
def test_a_failed_audit_insert_undoes_the_change(
    repos: Repositories, scope: DbScope, portfolio: Portfolio, action: str
) -> None:
    before = (
        repos.accounts.list(),
        repos.portfolios.list(),
        repos.orders.list(),
        repos.positions.list(),
    )
    refuse_audit(scope, action)
    with pytest.raises(TradestoreError, match="audit refused"):
        CHANGES[action](repos, portfolio)
    after = (
        repos.accounts.list(),
        repos.portfolios.list(),
        repos.orders.list(),
        repos.positions.list(),
    )
    assert after == before


def test_a_failed_fill_audit_undoes_the_trade_and_the_state(
    repos: Repositories, scope: DbScope, portfolio: Portfolio
) -> None:
    order = repos.orders.submit(
        portfolio_id=portfolio.id, symbol="X", side="buy", order_type="market", quantity=2
    )
    refuse_audit(scope, "order_filled")
    with pytest.raises(TradestoreError, match="audit refused"):
        repos.orders.fill(order.id, quantity=2, price=1)
    assert repos.orders.get(order.id) == order
    assert repos.trades.list() == []
    assert [h.action for h in repos.audit.get_audit_trail()] == [
        "order_submitted",
        "create",
        "create",
    ]


def test_risk_and_system_events(repos: Repositories) -> None:
    breach = repos.audit.log_risk_limit_breached(
        "daily_loss",
        Decimal("500"),
        Decimal("512.25"),
        "portfolio",
        7,
        "halt_trading",
        user_id="risk-engine",
        strategy_id="momentum",
    )
    assert (breach.action, breach.severity, breach.entity_type, breach.entity_id) == (
        "risk_limit_breached",
        "warning",
        "portfolio",
        "7",
    )
    assert breach.new_values == {
        "limit_type": "daily_loss",
        "limit_value": "500",
        "current_value": "512.25",
        "action_taken": "halt_trading",
    }
    event = repos.audit.log_system_event(
        "broker_disconnected", severity="error", details={"retry_in": 30}
    )
    assert (event.action, event.entity_type, event.entity_id, event.severity) == (
        "system_event",
        "system",
        "broker_disconnected",
        "error",
    )
    assert event.metadata == {"retry_in": 30}
    assert [a.id for a in repos.audit.get_audit_trail(action="system_event")] == [event.id]


def test_user_activity_is_a_half_open_window(repos: Repositories) -> None:
    audit = repos.audit
    rows = [
        audit.record("update", "account", 1, user_id="alice", occurred_at=T0 + n * DAY)
        for n in range(4)
    ]
    audit.record("update", "account", 1, user_id="bob", occurred_at=T0 + DAY)
    found = audit.get_user_activity("alice", T0 + DAY, T0 + 3 * DAY)
    assert [r.id for r in found] == [rows[1].id, rows[2].id]
    assert found[0].occurred_at == T0 + DAY
    assert audit.get_user_activity("carol", T0, T0 + 9 * DAY) == []


def test_audit_trail_filters_orders_and_limits(repos: Repositories) -> None:
    audit = repos.audit
    a = audit.record("create", "account", 1, occurred_at=T0)
    b = audit.record("update", "account", 1, occurred_at=T0 + DAY)
    c = audit.record("update", "account", 1, occurred_at=T0 + 2 * DAY)
    assert [r.id for r in audit.get_audit_trail()] == [c.id, b.id, a.id]
    assert [r.id for r in audit.get_audit_trail(action="update")] == [c.id, b.id]
    assert [r.id for r in audit.get_audit_trail(start_date=T0 + DAY)] == [c.id, b.id]
    assert [r.id for r in audit.get_audit_trail(end_date=T0 + DAY)] == [a.id]
    assert [r.id for r in audit.get_audit_trail(limit=1)] == [c.id]
    assert [
        r.id for r in audit.get_audit_trail(action="update", start_date=T0, end_date=T0 + 2 * DAY)
    ] == [b.id]


def test_naive_times_are_refused(repos: Repositories) -> None:
    naive = dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="start must be a timezone-aware"):
        repos.audit.get_user_activity("alice", naive, T0)
    with pytest.raises(ValueError, match="end_date must be a timezone-aware"):
        repos.audit.get_audit_trail(end_date=naive)
    with pytest.raises(ValueError, match="occurred_at must be a timezone-aware"):
        repos.audit.record("x", "y", 1, occurred_at=naive)


def test_default_occurred_at_is_the_database_clock(repos: Repositories) -> None:
    row = repos.audit.record("x", "y", 1)
    # Both come from the same statement's clock (PostgreSQL now(); SQLite's 'now' is fixed
    # for one sqlite3_step), so they are equal, not merely close.
    assert row.occurred_at == row.created_at

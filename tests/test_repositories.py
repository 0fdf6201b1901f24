"""Repositories of accounts, portfolios, trades and positions on both backends: CRUD, filters,
optimistic locking, exact money, position P&L."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from deadlines import join_all
from tradestore import load_queries
from tradestore.db.scope import DbScope
from tradestore.errors import IllegalTransition, IntegrityViolation, NotFound, StaleVersionError
from tradestore.trading.models import Account, Portfolio
from tradestore.trading.repositories import Repositories

QUERIES = load_queries()
T0 = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC)


# -- accounts ------------------------------------------------------------------------------


def test_account_create_get_round_trips_exact_money(repos: Repositories) -> None:
    created = repos.accounts.create(
        name="main",
        cash_balance=Decimal("123456789012.12345678"),
        buying_power="0.00000001",
        risk_parameters={"max_risk": "0.02", "symbols": ["AAPL"]},
        metadata={"broker": "paper"},
    )
    assert created.version == 1
    assert created.cash_balance == Decimal("123456789012.12345678")
    assert created.buying_power == Decimal("0.00000001")
    assert created.base_currency == "USD"
    assert created.is_active is True
    assert repos.accounts.get(created.id) == created


def test_account_list_filters_on_active(repos: Repositories) -> None:
    live = repos.accounts.create(name="live")
    paper = repos.accounts.create(name="paper", is_active=False)
    assert [a.id for a in repos.accounts.list()] == [live.id, paper.id]
    assert [a.id for a in repos.accounts.list(active=True)] == [live.id]
    assert [a.id for a in repos.accounts.list(active=False)] == [paper.id]
    assert [a.id for a in repos.accounts.list(limit=1)] == [live.id]


def test_account_update_bumps_version_and_keeps_other_columns(repos: Repositories) -> None:
    created = repos.accounts.create(name="main", cash_balance=10, metadata={"a": 1})
    updated = repos.accounts.update(
        created.id, version=1, cash_balance=Decimal("20.5"), is_active=False
    )
    assert updated.version == 2
    assert (updated.cash_balance, updated.is_active) == (Decimal("20.5"), False)
    assert (updated.name, updated.metadata) == ("main", {"a": 1})
    assert updated.updated_at >= created.updated_at
    assert repos.accounts.get(created.id) == updated


def test_account_stale_update_raises_and_changes_nothing(repos: Repositories) -> None:
    created = repos.accounts.create(name="main")
    repos.accounts.update(created.id, version=1, cash_balance=1)  # another writer wins
    with pytest.raises(StaleVersionError, match=rf"account {created.id}: version 1 is stale"):
        repos.accounts.update(created.id, version=1, cash_balance=2)
    assert repos.accounts.get(created.id).cash_balance == Decimal(1)
    with pytest.raises(StaleVersionError):
        repos.accounts.delete(created.id, version=1)
    assert repos.accounts.get(created.id).version == 2


def test_concurrent_writers_of_one_version_one_wins(repos: Repositories, scope: DbScope) -> None:
    """Both read version 1; the second writer waits on the first's lock, then finds its
    version gone (PostgreSQL: the UPDATE matches no row; SQLite: BEGIN IMMEDIATE waits and
    the re-read sees version 2). Either way: StaleVersionError, the first write stands."""
    created = repos.accounts.create(name="main")
    locked = threading.Event()
    release = threading.Event()

    def first_writer() -> None:
        with scope.transaction():  # holds the row lock until release
            repos.accounts.update(created.id, version=1, cash_balance=1)
            locked.set()
            release.wait(timeout=10)

    writer = threading.Thread(target=first_writer, daemon=True)
    writer.start()
    assert locked.wait(timeout=10)
    threading.Timer(0.2, release.set).start()  # let the second writer queue up behind it
    with pytest.raises(StaleVersionError, match=f"account {created.id}: version 1"):
        repos.accounts.update(created.id, version=1, cash_balance=2)
    join_all([writer])
    assert repos.accounts.get(created.id).cash_balance == Decimal(1)


def test_account_update_refuses_unknown_fields_and_bad_money(repos: Repositories) -> None:
    created = repos.accounts.create(name="main")
    with pytest.raises(TypeError, match="cannot change created_at, id"):
        repos.accounts.update(created.id, version=1, id=5, created_at=T0)
    with pytest.raises(ValueError, match="account update"):
        repos.accounts.update(created.id, version=1, cash_balance=Decimal("1.123456789"))
    with pytest.raises(ValueError, match="cash_balance has more than 8 decimal places"):
        repos.accounts.create(name="other", cash_balance=Decimal("1.123456789"))
    assert repos.accounts.get(created.id).version == 1


def test_account_missing_is_not_found(repos: Repositories) -> None:
    with pytest.raises(NotFound, match="account 999 not found"):
        repos.accounts.get(999)
    with pytest.raises(NotFound):
        repos.accounts.update(999, version=1, name="x")
    with pytest.raises(NotFound):
        repos.accounts.delete(999, version=1)


def test_account_delete(repos: Repositories) -> None:
    created = repos.accounts.create(name="main")
    deleted = repos.accounts.delete(created.id, version=1)
    assert deleted == created
    with pytest.raises(NotFound):
        repos.accounts.get(created.id)


# -- portfolios ----------------------------------------------------------------------------


def test_portfolio_crud_and_account_filter(repos: Repositories) -> None:
    a = repos.accounts.create(name="a")
    b = repos.accounts.create(name="b")
    pa = repos.portfolios.create(account_id=a.id, name="core", cash="1000.25")
    pb = repos.portfolios.create(account_id=b.id, name="core")
    assert [p.id for p in repos.portfolios.list(account_id=a.id)] == [pa.id]
    assert [p.id for p in repos.portfolios.list()] == [pa.id, pb.id]
    moved = repos.portfolios.update(pa.id, version=1, total_value=Decimal("5.5"), metrics={"x": 1})
    assert (moved.version, moved.total_value, moved.metrics) == (2, Decimal("5.5"), {"x": 1})
    assert moved.cash == Decimal("1000.25")
    with pytest.raises(TypeError, match="cannot change account_id"):
        repos.portfolios.update(pa.id, version=2, account_id=b.id)
    with pytest.raises(StaleVersionError):
        repos.portfolios.update(pa.id, version=1, name="again")
    repos.portfolios.delete(pb.id, version=1)
    assert [p.id for p in repos.portfolios.list()] == [pa.id]


def test_account_with_portfolios_cannot_be_deleted(
    repos: Repositories, portfolio: Portfolio
) -> None:
    with pytest.raises(IntegrityViolation):
        repos.accounts.delete(portfolio.account_id, version=1)
    assert isinstance(repos.accounts.get(portfolio.account_id), Account)


# -- positions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "mark", "unrealized", "exit_price", "realized"),
    [
        ("long", "110.5", "31.50000000", "95.25", "-14.25000000"),
        ("short", "110.5", "-31.50000000", "95.25", "14.25000000"),
    ],
)
def test_position_pnl_long_and_short(
    repos: Repositories,
    portfolio: Portfolio,
    side: str,
    mark: str,
    unrealized: str,
    exit_price: str,
    realized: str,
) -> None:
    opened = repos.positions.open(
        portfolio_id=portfolio.id,
        symbol="AAPL",
        side=side,  # type: ignore[arg-type]
        quantity=3,
        entry_price=Decimal("100"),
        entry_time=T0,
    )
    assert (opened.status, opened.current_price, opened.unrealized_pnl) == (
        "open",
        Decimal(100),
        Decimal(0),
    )
    marked = repos.positions.mark_to_market(opened.id, price=Decimal(mark), version=1)
    assert marked.unrealized_pnl == Decimal(unrealized)
    assert (marked.current_price, marked.version) == (Decimal(mark), 2)
    closed = repos.positions.close(opened.id, exit_price=exit_price, exit_time=T0, version=2)
    assert closed.status == "closed"
    assert closed.realized_pnl == Decimal(realized)
    assert (closed.unrealized_pnl, closed.exit_price, closed.exit_time) == (
        Decimal(0),
        Decimal(exit_price),
        T0,
    )
    assert repos.positions.get(opened.id) == closed


def test_position_pnl_is_rounded_half_even_to_8_places(
    repos: Repositories, portfolio: Portfolio
) -> None:
    opened = repos.positions.open(
        portfolio_id=portfolio.id,
        symbol="BTC",
        side="long",
        quantity=Decimal("0.00000005"),
        entry_price=Decimal("0.1"),
    )
    # 0.00000005 * 0.1 = 0.000000005 rounds to 0 (even); * 0.3 = 0.000000015 rounds to ...02
    assert repos.positions.mark_to_market(opened.id, price="0.2").unrealized_pnl == Decimal(0)
    assert repos.positions.mark_to_market(opened.id, price="0.4").unrealized_pnl == Decimal(
        "0.00000002"
    )


def test_closed_position_cannot_be_marked_or_closed_again(
    repos: Repositories, portfolio: Portfolio
) -> None:
    opened = repos.positions.open(
        portfolio_id=portfolio.id, symbol="AAPL", side="long", quantity=1, entry_price=10
    )
    repos.positions.close(opened.id, exit_price=11)
    with pytest.raises(IllegalTransition, match=f"position {opened.id} is closed"):
        repos.positions.mark_to_market(opened.id, price=12)
    with pytest.raises(IllegalTransition):
        repos.positions.close(opened.id, exit_price=12)
    with pytest.raises(IllegalTransition, match="quantity of a closed position"):
        repos.positions.update(opened.id, version=2, quantity=5)


def test_one_open_position_per_portfolio_and_symbol(
    repos: Repositories, portfolio: Portfolio
) -> None:
    first = repos.positions.open(
        portfolio_id=portfolio.id, symbol="AAPL", side="long", quantity=1, entry_price=10
    )
    with pytest.raises(IntegrityViolation, match=r"positions_one_open_per_symbol_idx|UNIQUE"):
        repos.positions.open(
            portfolio_id=portfolio.id, symbol="AAPL", side="short", quantity=1, entry_price=10
        )
    repos.positions.close(first.id, exit_price=10)
    again = repos.positions.open(
        portfolio_id=portfolio.id, symbol="AAPL", side="short", quantity=1, entry_price=10
    )
    assert [p.id for p in repos.positions.list(portfolio_id=portfolio.id, status="open")] == [
        again.id
    ]
    assert [p.id for p in repos.positions.list(status="closed", symbol="AAPL")] == [first.id]
    assert repos.positions.list(symbol="MSFT") == []


def test_position_update_recomputes_unrealized_and_locks_versions(
    repos: Repositories, portfolio: Portfolio
) -> None:
    opened = repos.positions.open(
        portfolio_id=portfolio.id, symbol="AAPL", side="long", quantity=2, entry_price=10
    )
    marked = repos.positions.mark_to_market(opened.id, price=12)
    assert marked.unrealized_pnl == Decimal(4)
    grown = repos.positions.update(opened.id, version=2, quantity=5, metadata={"why": "add"})
    assert (grown.quantity, grown.unrealized_pnl, grown.version) == (Decimal(5), Decimal(10), 3)
    with pytest.raises(StaleVersionError):
        repos.positions.mark_to_market(opened.id, price=13, version=2)
    with pytest.raises(StaleVersionError):
        repos.positions.delete(opened.id, version=2)
    repos.positions.delete(opened.id, version=3)
    with pytest.raises(NotFound, match=f"position {opened.id} not found"):
        repos.positions.get(opened.id)


def test_position_inputs_are_checked(repos: Repositories, portfolio: Portfolio) -> None:
    with pytest.raises(ValueError, match="entry_time must be a timezone-aware"):
        repos.positions.open(
            portfolio_id=portfolio.id,
            symbol="AAPL",
            side="long",
            quantity=1,
            entry_price=10,
            entry_time=dt.datetime(2026, 1, 1),  # naive on purpose
        )
    with pytest.raises(ValueError, match="price is not a number"):
        repos.positions.open(
            portfolio_id=portfolio.id, symbol="AAPL", side="long", quantity=1, entry_price="ten"
        )
    assert repos.positions.list() == []


# -- trades --------------------------------------------------------------------------------


def test_trades_list_filters_by_order_symbol_and_time(
    repos: Repositories, portfolio: Portfolio
) -> None:
    aapl = repos.orders.submit(
        portfolio_id=portfolio.id, symbol="AAPL", side="buy", order_type="market", quantity=10
    )
    msft = repos.orders.submit(
        portfolio_id=portfolio.id, symbol="MSFT", side="sell", order_type="market", quantity=1
    )
    hour = dt.timedelta(hours=1)
    _, t1 = repos.orders.fill(aapl.id, quantity=4, price=100, executed_at=T0)
    _, t2 = repos.orders.fill(aapl.id, quantity=6, price=101, executed_at=T0 + hour)
    _, t3 = repos.orders.fill(msft.id, quantity=1, price=400, executed_at=T0 + 2 * hour)
    assert [t.id for t in repos.trades.list()] == [t3.id, t2.id, t1.id]
    assert [t.id for t in repos.trades.list(order_id=aapl.id)] == [t2.id, t1.id]
    assert [t.id for t in repos.trades.list(symbol="MSFT")] == [t3.id]
    window = repos.trades.list(start=T0 + hour, end=T0 + 2 * hour)
    assert [t.id for t in window] == [t2.id]
    assert [t.id for t in repos.trades.list(limit=1)] == [t3.id]
    assert repos.trades.get(t1.id) == t1
    assert (t1.side, t1.symbol, t1.quantity, t1.executed_at) == ("buy", "AAPL", Decimal(4), T0)
    with pytest.raises(NotFound, match="trade 999 not found"):
        repos.trades.get(999)


def test_nul_in_entity_text_or_json_is_refused_on_both_backends(
    repos: Repositories, portfolio: Portfolio
) -> None:
    """PostgreSQL cannot store NUL and SQLite can: both refuse it, naming query and parameter,
    before any SQL runs (nothing is half-written)."""
    with pytest.raises(ValueError, match=r"insert_account: parameter 'name' must not contain NUL"):
        repos.accounts.create(name="desk\x00one")
    with pytest.raises(ValueError, match=r"insert_order: parameter 'metadata' must not contain"):
        repos.orders.submit(
            portfolio_id=portfolio.id,
            symbol="AAPL",
            side="buy",
            order_type="market",
            quantity="1",
            metadata={"note": ["ok", "bad\x00"]},
        )
    order = repos.orders.submit(
        portfolio_id=portfolio.id, symbol="AAPL", side="buy", order_type="market", quantity="1"
    )
    with pytest.raises(ValueError, match=r"order update: parameter 'strategy_id' must not"):
        repos.orders.update(order.id, version=order.version, strategy_id="mom\x00")
    assert [a.name for a in repos.accounts.list()] == ["main"]
    assert [o.id for o in repos.orders.list(portfolio_id=portfolio.id)] == [order.id]
    assert repos.orders.get(order.id).version == order.version

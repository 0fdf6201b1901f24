"""The order state machine: every legal and illegal move, fills and their exact average price,
amendments, deletes, concurrent fills, and a fill's trade + state + audit committing together."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest

from deadlines import join_all
from tradestore import load_queries
from tradestore.db.scope import DbScope
from tradestore.errors import (
    IllegalTransition,
    IntegrityViolation,
    NotFound,
    StaleVersionError,
)
from tradestore.trading.lifecycle import ORDER_TRANSITIONS, apply_fill, check_transition, to_money
from tradestore.trading.models import Order, OrderStatus, Portfolio
from tradestore.trading.repositories import Repositories

QUERIES = load_queries()
T0 = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC)
STATUSES: tuple[OrderStatus, ...] = ("new", "partially_filled", "filled", "cancelled", "rejected")


def submit(repos: Repositories, portfolio: Portfolio, quantity: int | str = 10) -> Order:
    return repos.orders.submit(
        portfolio_id=portfolio.id,
        symbol="AAPL",
        side="buy",
        order_type="limit",
        quantity=quantity,
        limit_price="150.25",
        strategy_id="momentum",
    )


def order_in(repos: Repositories, portfolio: Portfolio, status: OrderStatus) -> Order:
    """A fresh order of quantity 10 brought to `status` through the lifecycle."""
    order = submit(repos, portfolio)
    if status == "partially_filled":
        order, _ = repos.orders.fill(order.id, quantity=4, price=150)
    elif status == "filled":
        order, _ = repos.orders.fill(order.id, quantity=10, price=150)
    elif status == "cancelled":
        order = repos.orders.cancel(order.id)
    elif status == "rejected":
        order = repos.orders.reject(order.id, reason="no margin")
    assert order.status == status
    return order


# -- the rules, without a database ----------------------------------------------------------


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_transition_table(current: OrderStatus, target: OrderStatus) -> None:
    legal = {
        ("new", "partially_filled"),
        ("new", "filled"),
        ("new", "cancelled"),
        ("new", "rejected"),
        ("partially_filled", "partially_filled"),
        ("partially_filled", "filled"),
        ("partially_filled", "cancelled"),
    }
    assert (target in ORDER_TRANSITIONS[current]) == ((current, target) in legal)
    if (current, target) in legal:
        check_transition(1, current, target)
    else:
        with pytest.raises(
            IllegalTransition, match=f"order 1: cannot go from {current} to {target}"
        ):
            check_transition(1, current, target)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1.123456789", "more than 8 decimal places"),
        ("1e12", "more than 12 digits"),
        ("NaN", "must be finite"),
        ("abc", "is not a number"),
        (True, "must be a number"),
    ],
)
def test_to_money_refuses_what_numeric_20_8_cannot_hold(value: object, problem: str) -> None:
    with pytest.raises(ValueError, match=f"quantity .*{problem}|quantity {problem}"):
        to_money(value, "quantity")  # type: ignore[arg-type]


def test_to_money_takes_floats_by_their_shortest_text() -> None:
    assert to_money(0.1, "price") == Decimal("0.1")
    assert to_money("-999999999999.99999999", "price") == Decimal("-999999999999.99999999")


# -- every action from every state, on both backends ----------------------------------------

ACTIONS: dict[str, Callable[[Repositories, int], object]] = {
    "fill_part": lambda r, i: r.orders.fill(i, quantity=1, price=151),
    "fill_rest": lambda r, i: r.orders.fill(
        i, quantity=r.orders.get(i).quantity - r.orders.get(i).filled_quantity, price=151
    ),
    "cancel": lambda r, i: r.orders.cancel(i, reason="user"),
    "reject": lambda r, i: r.orders.reject(i, reason="broker said no"),
    "amend": lambda r, i: r.orders.update(i, version=r.orders.get(i).version, limit_price=149),
}
EXPECTED: dict[tuple[OrderStatus, str], OrderStatus | None] = {
    ("new", "fill_part"): "partially_filled",
    ("new", "fill_rest"): "filled",
    ("new", "cancel"): "cancelled",
    ("new", "reject"): "rejected",
    ("new", "amend"): "new",
    ("partially_filled", "fill_part"): "partially_filled",
    ("partially_filled", "fill_rest"): "filled",
    ("partially_filled", "cancel"): "cancelled",
    ("partially_filled", "reject"): None,
    ("partially_filled", "amend"): "partially_filled",
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_from_every_status(
    repos: Repositories, portfolio: Portfolio, status: OrderStatus, action: str
) -> None:
    order = order_in(repos, portfolio, status)
    trades_before = len(repos.trades.list(order_id=order.id))
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(IllegalTransition, match=f"order {order.id}"):
            ACTIONS[action](repos, order.id)
        assert repos.orders.get(order.id) == order  # nothing changed
        assert len(repos.trades.list(order_id=order.id)) == trades_before
        return
    ACTIONS[action](repos, order.id)
    after = repos.orders.get(order.id)
    assert after.status == expected
    assert after.version == order.version + 1
    fills = 1 if action.startswith("fill") else 0
    assert len(repos.trades.list(order_id=order.id)) == trades_before + fills


def test_cancel_and_reject_keep_the_reason(repos: Repositories, portfolio: Portfolio) -> None:
    cancelled = repos.orders.cancel(submit(repos, portfolio).id, reason="stale signal")
    rejected = repos.orders.reject(submit(repos, portfolio).id, reason="no margin")
    assert cancelled.metadata == {"cancelled_reason": "stale signal"}
    assert rejected.metadata == {"rejected_reason": "no margin"}


# -- fills ------------------------------------------------------------------------------------


def test_partial_fills_average_price_is_exact(repos: Repositories, portfolio: Portfolio) -> None:
    order = submit(repos, portfolio, quantity=10)
    order, first = repos.orders.fill(order.id, quantity=3, price="10.01", commission="0.5")
    assert (order.status, order.filled_quantity, order.average_fill_price) == (
        "partially_filled",
        Decimal(3),
        Decimal("10.01"),
    )
    assert (first.quantity, first.price, first.commission) == (
        Decimal(3),
        Decimal("10.01"),
        Decimal("0.5"),
    )
    order, _ = repos.orders.fill(order.id, quantity=7, price="10.02")
    # (3 * 10.01 + 7 * 10.02) / 10 = 100.17 / 10
    assert (order.status, order.filled_quantity, order.average_fill_price) == (
        "filled",
        Decimal(10),
        Decimal("10.017"),
    )
    assert repos.orders.get(order.id) == order


def test_average_of_many_fills_does_not_drift(repos: Repositories, portfolio: Portfolio) -> None:
    """The average comes from all trades, not from the previous (rounded) average: rolling
    the rounded average forward would give 1.16666666 here instead of 7/6 = 1.16666667."""
    order = submit(repos, portfolio, quantity=6)
    for quantity, price in [(1, 1), (1, 1), (1, 2), (3, 1)]:
        order, _ = repos.orders.fill(order.id, quantity=quantity, price=price)
    assert order.average_fill_price == Decimal("1.16666667")
    assert order.status == "filled"


def test_apply_fill_uses_every_earlier_fill() -> None:
    order = Order.model_validate(
        {
            "id": 1,
            "portfolio_id": 1,
            "symbol": "X",
            "asset_class": "equity",
            "order_type": "market",
            "side": "buy",
            "quantity": "3",
            "status": "partially_filled",
            "filled_quantity": "2",
            "average_fill_price": "1.5",
            "metadata": {},
            "created_at": T0,
            "updated_at": T0,
            "version": 3,
        }
    )
    outcome = apply_fill(
        order, [(Decimal(1), Decimal(1)), (Decimal(1), Decimal(2))], Decimal(1), Decimal(2)
    )
    assert (outcome.status, outcome.filled_quantity, outcome.average_fill_price) == (
        "filled",
        Decimal(3),
        Decimal("1.66666667"),
    )


def test_overfill_raises_and_writes_nothing(repos: Repositories, portfolio: Portfolio) -> None:
    order, _ = repos.orders.fill(submit(repos, portfolio, quantity=10).id, quantity=4, price=1)
    with pytest.raises(IllegalTransition, match="fill of 7 exceeds the remaining 6"):
        repos.orders.fill(order.id, quantity=7, price=1)
    assert repos.orders.get(order.id) == order
    assert len(repos.trades.list(order_id=order.id)) == 1
    with pytest.raises(ValueError, match="fill quantity must be positive"):
        repos.orders.fill(order.id, quantity=0, price=1)


def test_fill_with_stale_version_raises(repos: Repositories, portfolio: Portfolio) -> None:
    order = submit(repos, portfolio)
    repos.orders.fill(order.id, quantity=1, price=1, version=1)
    with pytest.raises(StaleVersionError, match=f"order {order.id}: version 1 is stale"):
        repos.orders.fill(order.id, quantity=1, price=1, version=1)
    with pytest.raises(StaleVersionError):
        repos.orders.cancel(order.id, version=1)
    assert repos.orders.get(order.id).filled_quantity == Decimal(1)


def test_missing_order_is_not_found(repos: Repositories) -> None:
    with pytest.raises(NotFound, match="order 404 not found"):
        repos.orders.fill(404, quantity=1, price=1)
    with pytest.raises(NotFound):
        repos.orders.cancel(404)


def test_concurrent_fills_never_overfill(
    repos: Repositories, portfolio: Portfolio, scope: DbScope
) -> None:
    """Two threads fill 6 of the same 10: the order lock lets exactly one through."""
    order = submit(repos, portfolio, quantity=10)
    barrier = threading.Barrier(2, timeout=60)
    outcomes: list[str] = []

    def fill() -> None:
        barrier.wait()
        try:
            repos.orders.fill(order.id, quantity=6, price=1)
            outcomes.append("filled")
        except IllegalTransition:
            outcomes.append("refused")

    threads = [threading.Thread(target=fill, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    join_all(threads)
    assert sorted(outcomes) == ["filled", "refused"]
    assert repos.orders.get(order.id).filled_quantity == Decimal(6)
    assert len(repos.trades.list(order_id=order.id)) == 1


def test_fill_trade_and_state_roll_back_together(
    repos: Repositories, portfolio: Portfolio, scope: DbScope
) -> None:
    order = submit(repos, portfolio)
    with pytest.raises(RuntimeError, match="bot crashed"), scope.transaction():
        repos.orders.fill(order.id, quantity=10, price=1)
        raise RuntimeError("bot crashed")
    assert repos.orders.get(order.id) == order
    assert repos.trades.list(order_id=order.id) == []
    assert [a.action for a in repos.audit.get_entity_history("order", order.id)] == [
        "order_submitted"
    ]


# -- submit, amend, delete ----------------------------------------------------------------------


def test_submit_checks_the_schema_rules(repos: Repositories, portfolio: Portfolio) -> None:
    with pytest.raises(IntegrityViolation, match="orders_limit_price_required"):
        repos.orders.submit(
            portfolio_id=portfolio.id, symbol="AAPL", side="buy", order_type="limit", quantity=1
        )
    with pytest.raises(IntegrityViolation):
        repos.orders.submit(
            portfolio_id=999, symbol="AAPL", side="buy", order_type="market", quantity=1
        )
    assert repos.orders.list() == []


def test_orders_list_filters(repos: Repositories, portfolio: Portfolio) -> None:
    a = submit(repos, portfolio)
    b = repos.orders.submit(
        portfolio_id=portfolio.id, symbol="MSFT", side="sell", order_type="market", quantity=1
    )
    repos.orders.cancel(b.id)
    assert [o.id for o in repos.orders.list()] == [b.id, a.id]
    assert [o.id for o in repos.orders.list(status="new")] == [a.id]
    assert [o.id for o in repos.orders.list(symbol="MSFT")] == [b.id]
    assert [o.id for o in repos.orders.list(strategy_id="momentum")] == [a.id]
    assert [o.id for o in repos.orders.list(portfolio_id=portfolio.id, limit=1)] == [b.id]
    assert repos.orders.list(portfolio_id=portfolio.id + 1) == []


def test_amend_rules(repos: Repositories, portfolio: Portfolio) -> None:
    order, _ = repos.orders.fill(submit(repos, portfolio).id, quantity=4, price=1)
    with pytest.raises(IllegalTransition, match="quantity 3 is below the filled 4"):
        repos.orders.update(order.id, version=order.version, quantity=3)
    with pytest.raises(TypeError, match="cannot change filled_quantity, status"):
        repos.orders.update(order.id, version=order.version, status="filled", filled_quantity=10)
    with pytest.raises(StaleVersionError):
        repos.orders.update(order.id, version=1, limit_price=2)
    done = repos.orders.update(order.id, version=order.version, quantity=4)
    assert (done.status, done.quantity, done.version) == ("filled", Decimal(4), order.version + 1)


def test_delete_only_orders_without_trades(repos: Repositories, portfolio: Portfolio) -> None:
    fresh = submit(repos, portfolio)
    filled, _ = repos.orders.fill(submit(repos, portfolio).id, quantity=1, price=1)
    assert repos.orders.delete(fresh.id, version=1) == fresh
    with pytest.raises(IntegrityViolation):
        repos.orders.delete(filled.id, version=filled.version)
    assert [o.id for o in repos.orders.list()] == [filled.id]

"""The order state machine and the money math of fills and positions, in pure Python.

Kept apart from the repositories so the rules can be read (and tested) without a database:
which order status may follow which, what a fill does to filled quantity, status and average
price, and what a position earns. Money is Decimal throughout and every computed amount is
quantized to 8 places, the scale of the schema's numeric(20,8) columns, so PostgreSQL and
SQLite store the very same value.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tradestore.errors import IllegalTransition
from tradestore.trading.models import Order, OrderStatus, PositionSide

#: Eight decimal places: the scale of every numeric(20,8) column.
MONEY_SCALE = Decimal("0.00000001")
#: At most 12 digits before the point, like numeric(20,8).
MONEY_LIMIT = Decimal("1e12")
#: Room for exact products and sums of numeric(20,8) values before the final rounding.
_WIDE = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)

#: Which status may follow which. A partially filled order can be filled further or cancelled
#: (the rest of it), never rejected: the broker accepted it when it filled part of it.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    "new": frozenset({"partially_filled", "filled", "cancelled", "rejected"}),
    "partially_filled": frozenset({"partially_filled", "filled", "cancelled"}),
    "filled": frozenset(),
    "cancelled": frozenset(),
    "rejected": frozenset(),
}
OPEN_ORDER_STATUSES: frozenset[OrderStatus] = frozenset({"new", "partially_filled"})


def to_money(value: Decimal | int | str | float, name: str) -> Decimal:
    """A caller's amount as a Decimal that fits numeric(20,8), or ValueError naming `name`.

    Refused rather than rounded: PostgreSQL would round a ninth decimal place away while
    SQLite would keep it, and the two backends must hold the same value. Floats go through
    their shortest text (0.1 -> Decimal("0.1")), not their binary expansion.
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not {value!r}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except decimal.InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{name} must be finite, not {amount}")
    if abs(amount) >= MONEY_LIMIT:
        raise ValueError(f"{name} has more than 12 digits before the point: {amount}")
    if amount != amount.quantize(MONEY_SCALE, context=_WIDE):
        raise ValueError(f"{name} has more than 8 decimal places: {amount} (numeric(20,8))")
    return amount


def quantize_money(value: Decimal) -> Decimal:
    """Round a computed amount to 8 places, half to even (banker's rounding)."""
    return value.quantize(MONEY_SCALE, rounding=decimal.ROUND_HALF_EVEN, context=_WIDE)


def check_transition(order_id: int, current: OrderStatus, target: OrderStatus) -> None:
    """Raise IllegalTransition unless an order may go from `current` to `target`."""
    if target not in ORDER_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ORDER_TRANSITIONS[current])) or "none: it is final"
        raise IllegalTransition(
            f"order {order_id}: cannot go from {current} to {target} (allowed: {allowed})"
        )


@dataclass(frozen=True)
class FillOutcome:
    """What one fill makes of an order: its new status, filled quantity and average price."""

    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal


def apply_fill(
    order: Order,
    earlier_fills: Iterable[tuple[Decimal, Decimal]],
    fill_quantity: Decimal,
    fill_price: Decimal,
) -> FillOutcome:
    """The order after one more fill of `fill_quantity` at `fill_price`.

    The average price is the exact volume-weighted mean of every fill (`earlier_fills` are
    (quantity, price) pairs of `order`'s trades), rounded once at the end, so it does not
    drift as rounding errors of earlier averages pile up.
    """
    order_id, quantity, filled_quantity = order.id, order.quantity, order.filled_quantity
    if order.status not in OPEN_ORDER_STATUSES:
        raise IllegalTransition(f"order {order_id}: a {order.status} order cannot be filled")
    if fill_quantity <= 0:
        raise ValueError(f"order {order_id}: fill quantity must be positive, not {fill_quantity}")
    if fill_price < 0:
        raise ValueError(f"order {order_id}: fill price must not be negative, not {fill_price}")
    remaining = quantity - filled_quantity
    if fill_quantity > remaining:
        raise IllegalTransition(
            f"order {order_id}: fill of {fill_quantity} exceeds the remaining {remaining} "
            f"(quantity {quantity}, filled {filled_quantity})"
        )
    new_filled = filled_quantity + fill_quantity
    target: OrderStatus = "filled" if new_filled == quantity else "partially_filled"
    check_transition(order_id, order.status, target)
    notional = _WIDE.multiply(fill_quantity, fill_price)
    volume = fill_quantity
    for qty, price in earlier_fills:
        notional = _WIDE.add(notional, _WIDE.multiply(qty, price))
        volume += qty
    average = quantize_money(_WIDE.divide(notional, volume))
    return FillOutcome(target, new_filled, average)


def position_pnl(
    side: PositionSide, quantity: Decimal, entry_price: Decimal, price: Decimal
) -> Decimal:
    """Profit of a position at `price`: long gains when the price rises, short when it falls."""
    move = price - entry_price if side == "long" else entry_price - price
    return quantize_money(_WIDE.multiply(move, quantity))


__all__ = [
    "MONEY_SCALE",
    "OPEN_ORDER_STATUSES",
    "ORDER_TRANSITIONS",
    "FillOutcome",
    "apply_fill",
    "check_transition",
    "position_pnl",
    "quantize_money",
    "to_money",
]

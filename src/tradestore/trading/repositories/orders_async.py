"""Orders and their lifecycle: submit, fill (partly or fully), cancel, reject, amend.

Every step locks the order (PostgreSQL ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` holds the
write lock already), checks the move against `tradestore.trading.lifecycle`, writes the new
state with an optimistic-locking UPDATE, and appends its audit row; a fill also inserts its
trade. All of it in one transaction, so an order never shows a fill without its trade or its
audit row.

Written once for asyncio; the sync `OrderRepository` (``orders.py``) is generated from it.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradestore.errors import IllegalTransition
from tradestore.queries.fields import refuse_nul
from tradestore.trading.audit_base import require_aware
from tradestore.trading.lifecycle import OPEN_ORDER_STATUSES, apply_fill, check_transition, to_money
from tradestore.trading.models import Order, OrderSide, OrderStatus, OrderType, Trade
from tradestore.trading.repositories._base import merged, one, params_of
from tradestore.trading.repositories._repository_async import AsyncRepository

Amount = Decimal | int | str | float

#: Every column update_order writes (the lifecycle changes status and fill columns).
ORDER_STATE = (
    "broker_order_id",
    "quantity",
    "limit_price",
    "stop_price",
    "status",
    "filled_quantity",
    "average_fill_price",
    "strategy_id",
    "metadata",
)
#: What `update()` (an amendment) may change; status and fills only move through the lifecycle.
ORDER_FIELDS = (
    "broker_order_id",
    "quantity",
    "limit_price",
    "stop_price",
    "strategy_id",
    "metadata",
)


class AsyncOrderRepository(AsyncRepository):
    """The ``orders`` table and the order state machine."""

    entity_type = "order"

    async def submit(
        self,
        *,
        portfolio_id: int,
        symbol: str,
        side: OrderSide,
        order_type: OrderType,
        quantity: Amount,
        limit_price: Amount | None = None,
        stop_price: Amount | None = None,
        account_id: int | None = None,
        strategy_id: str | None = None,
        broker_order_id: str | None = None,
        asset_class: str = "equity",
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Order:
        """Record a new order (status ``new``) and its ``order_submitted`` audit row."""
        params: dict[str, Any] = {
            "portfolio_id": portfolio_id,
            "account_id": account_id,
            "broker_order_id": broker_order_id,
            "symbol": symbol,
            "asset_class": asset_class,
            "order_type": order_type,
            "side": side,
            "quantity": to_money(quantity, "quantity"),
            "limit_price": None if limit_price is None else to_money(limit_price, "limit_price"),
            "stop_price": None if stop_price is None else to_money(stop_price, "stop_price"),
            "strategy_id": strategy_id,
            "metadata": dict(metadata or {}),
        }
        refuse_nul(params, "insert_order")
        async with self._scope.transaction() as conn:
            order = one(await self._q.insert_order(conn, **params), "insert_order")
            await self._audit.log_order_submitted(order, user_id=user_id)
        return order

    async def get(self, order_id: int) -> Order:
        """One order; NotFound if there is none with that id."""
        return self._found(await self._q.get_order(self._scope.db(), id=order_id), order_id)

    async def list(
        self,
        *,
        portfolio_id: int | None = None,
        status: OrderStatus | None = None,
        symbol: str | None = None,
        strategy_id: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Order]:
        """Orders newest first, filtered by whichever of the arguments are given."""
        return await self._q.list_orders(
            self._scope.db(),
            portfolio_id=portfolio_id,
            status=status,
            symbol=symbol,
            strategy_id=strategy_id,
            limit=limit,
        )

    async def fill(
        self,
        order_id: int,
        *,
        quantity: Amount,
        price: Amount,
        commission: Amount = 0,
        executed_at: dt.datetime | None = None,
        version: int | None = None,
        user_id: str | None = None,
    ) -> tuple[Order, Trade]:
        """Record a fill: insert its trade, update filled quantity, average price and status.

        A fill of the whole remainder makes the order ``filled``, less makes it
        ``partially_filled``; more than the remainder, or a fill of a cancelled, rejected or
        filled order, raises IllegalTransition. `version`, when given, must be the order's
        current one (StaleVersionError otherwise).
        """
        fill_qty = to_money(quantity, "quantity")
        fill_price = to_money(price, "price")
        fee = to_money(commission, "commission")
        when = require_aware(executed_at, "executed_at") if executed_at else dt.datetime.now(dt.UTC)
        async with self._scope.transaction() as conn:
            order = await self._lock(order_id, version)
            fills = await self._q.trades_of_order(conn, order_id=order_id)
            earlier = [(t.quantity, t.price) for t in fills]
            outcome = apply_fill(
                order,
                earlier,
                fill_qty,
                fill_price,
            )
            trade_params: dict[str, Any] = {
                "order_id": order_id,
                "symbol": order.symbol,
                "side": order.side,
                "quantity": fill_qty,
                "price": fill_price,
                "commission": fee,
                "executed_at": when,
                "strategy_id": order.strategy_id,
                "metadata": {},
            }
            trade = one(await self._q.insert_trade(conn, **trade_params), "insert_trade")
            filled = await self._write(
                order,
                status=outcome.status,
                filled_quantity=outcome.filled_quantity,
                average_fill_price=outcome.average_fill_price,
            )
            await self._audit.record(
                "create",
                "trade",
                trade.id,
                new=trade,
                user_id=user_id,
                strategy_id=trade.strategy_id,
            )
            await self._audit.log_order_filled(filled, trade, previous=order, user_id=user_id)
        return filled, trade

    async def cancel(
        self,
        order_id: int,
        *,
        reason: str | None = None,
        version: int | None = None,
        user_id: str | None = None,
    ) -> Order:
        """Cancel a new or partially filled order (what was filled stays filled)."""
        return await self._finish(order_id, "cancelled", reason, version, user_id)

    async def reject(
        self,
        order_id: int,
        *,
        reason: str,
        version: int | None = None,
        user_id: str | None = None,
    ) -> Order:
        """Mark a new order as rejected by the broker; `reason` goes into its metadata."""
        return await self._finish(order_id, "rejected", reason, version, user_id)

    async def update(
        self, order_id: int, *, version: int, user_id: str | None = None, **changes: Any
    ) -> Order:
        """Amend an open order read at `version` (quantity, prices, broker id, strategy, metadata).

        Only new and partially filled orders can be amended, and never below what is filled.
        """
        async with self._scope.transaction():
            current = await self._lock(order_id, version)
            if current.status not in OPEN_ORDER_STATUSES:
                raise IllegalTransition(
                    f"order {order_id}: a {current.status} order cannot be amended"
                )
            wanted = merged(current, changes, ORDER_FIELDS, "order")
            if wanted.quantity < current.filled_quantity:
                raise IllegalTransition(
                    f"order {order_id}: quantity {wanted.quantity} is below the filled "
                    f"{current.filled_quantity}"
                )
            status: OrderStatus = current.status
            if current.filled_quantity > 0 and wanted.quantity == current.filled_quantity:
                status = "filled"  # shrinking to what is filled completes the order
            row = await self._write(current, **params_of(wanted, ORDER_FIELDS), status=status)
            await self._audit.record(
                "update",
                "order",
                order_id,
                old=current,
                new=row,
                user_id=user_id,
                strategy_id=row.strategy_id,
            )
        return row

    async def delete(self, order_id: int, *, version: int, user_id: str | None = None) -> Order:
        """Delete an order read at `version`; one with trades is refused (IntegrityViolation)."""
        async with self._scope.transaction() as conn:
            current = await self._lock(order_id, version)
            row = self._written(
                await self._q.delete_order(conn, id=order_id, version=version),
                order_id,
                version,
                "delete_order",
            )
            await self._audit.record(
                "delete",
                "order",
                order_id,
                old=current,
                user_id=user_id,
                strategy_id=row.strategy_id,
            )
        return row

    # -- internals ------------------------------------------------------------------------

    async def _lock(self, order_id: int, version: int | None) -> Order:
        order = self._found(await self._q.lock_order(self._scope.db(), id=order_id), order_id)
        self._check_version(order.version, order_id, version)
        return order

    async def _write(self, current: Order, **changes: Any) -> Order:
        """update_order with `current`'s state plus `changes`, matched on `current.version`."""
        params = params_of(current, ORDER_STATE)
        params.update(changes)
        return self._written(
            await self._q.update_order(
                self._scope.db(), id=current.id, version=current.version, **params
            ),
            current.id,
            current.version,
            "update_order",
        )

    async def _finish(
        self,
        order_id: int,
        target: OrderStatus,
        reason: str | None,
        version: int | None,
        user_id: str | None,
    ) -> Order:
        async with self._scope.transaction():
            order = await self._lock(order_id, version)
            check_transition(order_id, order.status, target)
            metadata = dict(order.metadata)
            if reason is not None:
                metadata[f"{target}_reason"] = reason
            row = await self._write(order, status=target, metadata=metadata)
            await self._audit.record(
                f"order_{target}",
                "order",
                order_id,
                old=order,
                new=row,
                user_id=user_id,
                strategy_id=row.strategy_id,
                metadata={"reason": reason} if reason is not None else None,
            )
        return row


__all__ = ["ORDER_FIELDS", "AsyncOrderRepository"]

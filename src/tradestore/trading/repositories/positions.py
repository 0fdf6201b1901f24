# Generated from positions_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""Positions: open, mark to market (unrealized P&L), close (realized P&L), amend, delete.

P&L is computed in Python with Decimal (`tradestore.trading.lifecycle.position_pnl`) and written
with an optimistic-locking UPDATE together with the position's audit row, in one transaction.

Written once for asyncio; the sync `PositionRepository` (``positions.py``) is generated from it.
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
from tradestore.trading.lifecycle import position_pnl, to_money
from tradestore.trading.models import Position, PositionSide, PositionStatus
from tradestore.trading.repositories._base import merged, one, params_of
from tradestore.trading.repositories._repository import Repository

Amount = Decimal | int | str | float

#: Every column update_position writes.
POSITION_STATE = (
    "quantity",
    "entry_price",
    "current_price",
    "exit_price",
    "exit_time",
    "realized_pnl",
    "unrealized_pnl",
    "status",
    "strategy_id",
    "metadata",
)
#: What `update()` may change; prices and P&L move through mark_to_market and close.
POSITION_FIELDS = ("quantity", "entry_price", "strategy_id", "metadata")


class PositionRepository(Repository):
    """The ``positions`` table: at most one open position per portfolio and symbol."""

    entity_type = "position"

    def open(
        self,
        *,
        portfolio_id: int,
        symbol: str,
        side: PositionSide,
        quantity: Amount,
        entry_price: Amount,
        entry_time: dt.datetime | None = None,
        strategy_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Position:
        """Open a position, marked at its entry price (a second open one for the same
        portfolio and symbol raises IntegrityViolation)."""
        price = to_money(entry_price, "entry_price")
        params: dict[str, Any] = {
            "portfolio_id": portfolio_id,
            "symbol": symbol,
            "side": side,
            "quantity": to_money(quantity, "quantity"),
            "entry_price": price,
            "entry_time": require_aware(entry_time, "entry_time")
            if entry_time
            else dt.datetime.now(dt.UTC),
            "current_price": price,
            "strategy_id": strategy_id,
            "metadata": dict(metadata or {}),
        }
        refuse_nul(params, "insert_position")
        with self._scope.transaction() as conn:
            row = one(self._q.insert_position(conn, **params), "insert_position")
            self._audit.record(
                "position_opened",
                "position",
                row.id,
                new=row,
                user_id=user_id,
                strategy_id=strategy_id,
            )
        return row

    def get(self, position_id: int) -> Position:
        """One position; NotFound if there is none with that id."""
        return self._found(
            self._q.get_position(self._scope.db(), id=position_id), position_id
        )

    def list(
        self,
        *,
        portfolio_id: int | None = None,
        status: PositionStatus | None = None,
        symbol: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Position]:
        """Positions in id order, filtered by whichever of the arguments are given."""
        return self._q.list_positions(
            self._scope.db(), portfolio_id=portfolio_id, status=status, symbol=symbol, limit=limit
        )

    def mark_to_market(
        self,
        position_id: int,
        *,
        price: Amount,
        version: int | None = None,
        user_id: str | None = None,
    ) -> Position:
        """Set the current price of an open position and its unrealized P&L."""
        mark = to_money(price, "price")
        with self._scope.transaction():
            current = self._lock_open(position_id, version, "marked to market")
            pnl = position_pnl(current.side, current.quantity, current.entry_price, mark)
            row = self._write(current, current_price=mark, unrealized_pnl=pnl)
            self._audit.record(
                "position_marked",
                "position",
                position_id,
                old=current,
                new=row,
                user_id=user_id,
                strategy_id=row.strategy_id,
                severity="debug",  # a bot marks every iteration: routine, not news
            )
        return row

    def close(
        self,
        position_id: int,
        *,
        exit_price: Amount,
        exit_time: dt.datetime | None = None,
        version: int | None = None,
        user_id: str | None = None,
    ) -> Position:
        """Close an open position at `exit_price`: realized P&L set, unrealized back to 0."""
        price = to_money(exit_price, "exit_price")
        when = require_aware(exit_time, "exit_time") if exit_time else dt.datetime.now(dt.UTC)
        with self._scope.transaction():
            current = self._lock_open(position_id, version, "closed")
            realized = position_pnl(current.side, current.quantity, current.entry_price, price)
            row = self._write(
                current,
                status="closed",
                current_price=price,
                exit_price=price,
                exit_time=when,
                realized_pnl=realized,
                unrealized_pnl=Decimal(0),
            )
            self._audit.record(
                "position_closed",
                "position",
                position_id,
                old=current,
                new=row,
                user_id=user_id,
                strategy_id=row.strategy_id,
            )
        return row

    def update(
        self, position_id: int, *, version: int, user_id: str | None = None, **changes: Any
    ) -> Position:
        """Amend a position read at `version` (quantity, entry price, strategy, metadata).

        Quantity and entry price change only while open; unrealized P&L follows them.
        """
        with self._scope.transaction():
            current = self._lock(position_id, version)
            wanted = merged(current, changes, POSITION_FIELDS, "position")
            sizing = {"quantity", "entry_price"} & set(changes)
            if sizing and current.status != "open":
                raise IllegalTransition(
                    f"position {position_id}: {', '.join(sorted(sizing))} of a closed "
                    "position cannot change"
                )
            unrealized = current.unrealized_pnl
            if current.status == "open" and current.current_price is not None:
                unrealized = position_pnl(
                    wanted.side, wanted.quantity, wanted.entry_price, current.current_price
                )
            row = self._write(
                current, **params_of(wanted, POSITION_FIELDS), unrealized_pnl=unrealized
            )
            self._audit.record(
                "update",
                "position",
                position_id,
                old=current,
                new=row,
                user_id=user_id,
                strategy_id=row.strategy_id,
            )
        return row

    def delete(
        self, position_id: int, *, version: int, user_id: str | None = None
    ) -> Position:
        """Delete a position read at `version` (e.g. one opened by mistake)."""
        with self._scope.transaction() as conn:
            self._lock(position_id, version)
            row = self._written(
                self._q.delete_position(conn, id=position_id, version=version),
                position_id,
                version,
                "delete_position",
            )
            self._audit.record(
                "delete",
                "position",
                position_id,
                old=row,
                user_id=user_id,
                strategy_id=row.strategy_id,
            )
        return row

    # -- internals ------------------------------------------------------------------------

    def _lock(self, position_id: int, version: int | None) -> Position:
        row = self._q.lock_position(self._scope.db(), id=position_id)
        position = self._found(row, position_id)
        self._check_version(position.version, position_id, version)
        return position

    def _lock_open(self, position_id: int, version: int | None, what: str) -> Position:
        position = self._lock(position_id, version)
        if position.status != "open":
            raise IllegalTransition(f"position {position_id} is closed: it cannot be {what}")
        return position

    def _write(self, current: Position, **changes: Any) -> Position:
        """update_position with `current`'s state plus `changes`, matched on its version."""
        params = params_of(current, POSITION_STATE)
        params.update(changes)
        return self._written(
            self._q.update_position(
                self._scope.db(), id=current.id, version=current.version, **params
            ),
            current.id,
            current.version,
            "update_position",
        )


__all__ = ["POSITION_FIELDS", "PositionRepository"]

"""Trades: read-only here. A trade is inserted only by `AsyncOrderRepository.fill`, in the fill's
transaction, and never changed afterwards (a correction is a new trade).

Written once for asyncio; the sync `TradeRepository` (``trades.py``) is generated from it.
"""

from __future__ import annotations

import builtins
import datetime as dt

from tradestore.trading.audit_base import require_aware
from tradestore.trading.models import Trade
from tradestore.trading.repositories._repository_async import AsyncRepository


class AsyncTradeRepository(AsyncRepository):
    """The ``trades`` table."""

    entity_type = "trade"

    async def get(self, trade_id: int) -> Trade:
        """One trade; NotFound if there is none with that id."""
        return self._found(await self._q.get_trade(self._scope.db(), id=trade_id), trade_id)

    async def list(
        self,
        *,
        order_id: int | None = None,
        symbol: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[Trade]:
        """Trades newest first, of one order and/or symbol, executed in [start, end)."""
        return await self._q.list_trades(
            self._scope.db(),
            order_id=order_id,
            symbol=symbol,
            start=None if start is None else require_aware(start, "start"),
            end=None if end is None else require_aware(end, "end"),
            limit=limit,
        )


__all__ = ["AsyncTradeRepository"]

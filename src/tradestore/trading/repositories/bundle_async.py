"""One of each repository plus the audit trail, bound to one scope: what a store carries.

Written once for asyncio; the sync `Repositories` and `bind_all` (``bundle.py``) are generated
from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradestore.trading.audit_async import AsyncAuditTrail
from tradestore.trading.repositories.accounts_async import AsyncAccountRepository
from tradestore.trading.repositories.orders_async import AsyncOrderRepository
from tradestore.trading.repositories.portfolios_async import AsyncPortfolioRepository
from tradestore.trading.repositories.positions_async import AsyncPositionRepository
from tradestore.trading.repositories.trades_async import AsyncTradeRepository

if TYPE_CHECKING:
    from tradestore.db.scope_async import AsyncDbScope
    from tradestore.trading.builtin_queries import BuiltinQueries


@dataclass(frozen=True)
class AsyncRepositories:
    """One of each repository plus the audit trail, sharing one scope."""

    accounts: AsyncAccountRepository
    portfolios: AsyncPortfolioRepository
    orders: AsyncOrderRepository
    trades: AsyncTradeRepository
    positions: AsyncPositionRepository
    audit: AsyncAuditTrail


def async_bind_all(scope: AsyncDbScope, queries: BuiltinQueries) -> AsyncRepositories:
    """Every repository and the audit trail on `scope` (e.g. for `AsyncTradeStore`)."""
    return AsyncRepositories(
        accounts=AsyncAccountRepository(scope, queries),
        portfolios=AsyncPortfolioRepository(scope, queries),
        orders=AsyncOrderRepository(scope, queries),
        trades=AsyncTradeRepository(scope, queries),
        positions=AsyncPositionRepository(scope, queries),
        audit=AsyncAuditTrail(scope, queries),
    )


__all__ = ["AsyncRepositories", "async_bind_all"]

# Generated from bundle_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""One of each repository plus the audit trail, bound to one scope: what a store carries.

Written once for asyncio; the sync `Repositories` and `bind_all` (``bundle.py``) are generated
from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradestore.trading.audit import AuditTrail
from tradestore.trading.repositories.accounts import AccountRepository
from tradestore.trading.repositories.orders import OrderRepository
from tradestore.trading.repositories.portfolios import PortfolioRepository
from tradestore.trading.repositories.positions import PositionRepository
from tradestore.trading.repositories.trades import TradeRepository

if TYPE_CHECKING:
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries


@dataclass(frozen=True)
class Repositories:
    """One of each repository plus the audit trail, sharing one scope."""

    accounts: AccountRepository
    portfolios: PortfolioRepository
    orders: OrderRepository
    trades: TradeRepository
    positions: PositionRepository
    audit: AuditTrail


def bind_all(scope: DbScope, queries: BuiltinQueries) -> Repositories:
    """Every repository and the audit trail on `scope` (e.g. for `TradeStore`)."""
    return Repositories(
        accounts=AccountRepository(scope, queries),
        portfolios=PortfolioRepository(scope, queries),
        orders=OrderRepository(scope, queries),
        trades=TradeRepository(scope, queries),
        positions=PositionRepository(scope, queries),
        audit=AuditTrail(scope, queries),
    )


__all__ = ["Repositories", "bind_all"]

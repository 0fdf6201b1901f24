"""Repositories of the trading entities: accounts, portfolios, orders, trades, positions.

Each takes ``(scope, queries)``; every write runs in ``scope.transaction()`` together with its
audit row, and joins the caller's transaction when one is open. `bind_all` builds them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradestore.audit import AuditTrail
from tradestore.repositories.accounts import AccountRepository
from tradestore.repositories.orders import OrderRepository
from tradestore.repositories.portfolios import PortfolioRepository
from tradestore.repositories.positions import PositionRepository
from tradestore.repositories.trades import TradeRepository

if TYPE_CHECKING:
    from tradestore.builtin_queries import BuiltinQueries
    from tradestore.scope import DbScope


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


__all__ = [
    "AccountRepository",
    "OrderRepository",
    "PortfolioRepository",
    "PositionRepository",
    "Repositories",
    "TradeRepository",
    "bind_all",
]

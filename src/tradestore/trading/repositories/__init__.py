"""Repositories of the trading entities: accounts, portfolios, orders, trades, positions.

Each takes ``(scope, queries)``; every write runs in ``scope.transaction()`` together with its
audit row, and joins the caller's transaction when one is open. `bind_all` builds them all.
Each has its async twin (`AsyncAccountRepository`, ..., `async_bind_all`) over an
`AsyncDbScope`: the same methods, awaited.
"""

from __future__ import annotations

from tradestore.trading.repositories.accounts import AccountRepository
from tradestore.trading.repositories.accounts_async import AsyncAccountRepository
from tradestore.trading.repositories.bundle import Repositories, bind_all
from tradestore.trading.repositories.bundle_async import AsyncRepositories, async_bind_all
from tradestore.trading.repositories.orders import OrderRepository
from tradestore.trading.repositories.orders_async import AsyncOrderRepository
from tradestore.trading.repositories.portfolios import PortfolioRepository
from tradestore.trading.repositories.portfolios_async import AsyncPortfolioRepository
from tradestore.trading.repositories.positions import PositionRepository
from tradestore.trading.repositories.positions_async import AsyncPositionRepository
from tradestore.trading.repositories.trades import TradeRepository
from tradestore.trading.repositories.trades_async import AsyncTradeRepository

__all__ = [
    "AccountRepository",
    "AsyncAccountRepository",
    "AsyncOrderRepository",
    "AsyncPortfolioRepository",
    "AsyncPositionRepository",
    "AsyncRepositories",
    "AsyncTradeRepository",
    "OrderRepository",
    "PortfolioRepository",
    "PositionRepository",
    "Repositories",
    "TradeRepository",
    "async_bind_all",
    "bind_all",
]

"""Portfolios: create, read, list, update and delete, each change with its audit row.

Written once for asyncio; the sync `PortfolioRepository` (``portfolios.py``) is generated from it.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradestore.queries.fields import refuse_nul
from tradestore.trading.lifecycle import to_money
from tradestore.trading.models import Portfolio
from tradestore.trading.repositories._base import merged, one, params_of
from tradestore.trading.repositories._repository_async import AsyncRepository

#: Columns `update()` may change; a portfolio never moves to another account.
PORTFOLIO_FIELDS = ("name", "base_currency", "cash", "total_value", "metrics", "metadata")

Amount = Decimal | int | str | float


class AsyncPortfolioRepository(AsyncRepository):
    """The ``portfolios`` table."""

    entity_type = "portfolio"

    async def create(
        self,
        *,
        account_id: int,
        name: str,
        base_currency: str = "USD",
        cash: Amount = 0,
        total_value: Amount = 0,
        metrics: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Portfolio:
        """Create a portfolio of an account (its audit row in the same transaction)."""
        params: dict[str, Any] = {
            "account_id": account_id,
            "name": name,
            "base_currency": base_currency,
            "cash": to_money(cash, "cash"),
            "total_value": to_money(total_value, "total_value"),
            "metrics": dict(metrics or {}),
            "metadata": dict(metadata or {}),
        }
        refuse_nul(params, "insert_portfolio")
        async with self._scope.transaction() as conn:
            row = one(await self._q.insert_portfolio(conn, **params), "insert_portfolio")
            await self._audit.record("create", "portfolio", row.id, new=row, user_id=user_id)
        return row

    async def get(self, portfolio_id: int) -> Portfolio:
        """One portfolio; NotFound if there is none with that id."""
        return self._found(
            await self._q.get_portfolio(self._scope.db(), id=portfolio_id), portfolio_id
        )

    async def list(
        self, *, account_id: int | None = None, limit: int = 100
    ) -> builtins.list[Portfolio]:
        """Portfolios in id order, optionally of one account."""
        return await self._q.list_portfolios(self._scope.db(), account_id=account_id, limit=limit)

    async def update(
        self, portfolio_id: int, *, version: int, user_id: str | None = None, **changes: Any
    ) -> Portfolio:
        """Change columns of a portfolio read at `version`; StaleVersionError if it moved on."""
        async with self._scope.transaction() as conn:
            current = self._found(await self._q.get_portfolio(conn, id=portfolio_id), portfolio_id)
            self._check_version(current.version, portfolio_id, version)
            wanted = merged(current, changes, PORTFOLIO_FIELDS, "portfolio")
            row = self._written(
                await self._q.update_portfolio(
                    conn, id=portfolio_id, version=version, **params_of(wanted, PORTFOLIO_FIELDS)
                ),
                portfolio_id,
                version,
                "update_portfolio",
            )
            await self._audit.record(
                "update", "portfolio", portfolio_id, old=current, new=row, user_id=user_id
            )
        return row

    async def delete(
        self, portfolio_id: int, *, version: int, user_id: str | None = None
    ) -> Portfolio:
        """Delete a portfolio read at `version` (one without orders or positions)."""
        async with self._scope.transaction() as conn:
            current = self._found(await self._q.get_portfolio(conn, id=portfolio_id), portfolio_id)
            self._check_version(current.version, portfolio_id, version)
            row = self._written(
                await self._q.delete_portfolio(conn, id=portfolio_id, version=version),
                portfolio_id,
                version,
                "delete_portfolio",
            )
            await self._audit.record("delete", "portfolio", portfolio_id, old=row, user_id=user_id)
        return row


__all__ = ["PORTFOLIO_FIELDS", "AsyncPortfolioRepository"]

"""Accounts: create, read, list, update and delete, each change with its audit row.

Written once for asyncio; the sync `AccountRepository` (``accounts.py``) is generated from it.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradestore.queries.fields import refuse_nul
from tradestore.trading.lifecycle import to_money
from tradestore.trading.models import Account
from tradestore.trading.repositories._base import merged, one, params_of
from tradestore.trading.repositories._repository_async import AsyncRepository

#: Columns `update()` may change; id, timestamps and version belong to the store.
ACCOUNT_FIELDS = (
    "name",
    "account_type",
    "base_currency",
    "cash_balance",
    "total_equity",
    "buying_power",
    "maintenance_margin",
    "risk_parameters",
    "is_active",
    "metadata",
)

Amount = Decimal | int | str | float


class AsyncAccountRepository(AsyncRepository):
    """The ``accounts`` table."""

    entity_type = "account"

    async def create(
        self,
        *,
        name: str,
        account_type: str = "cash",
        base_currency: str = "USD",
        cash_balance: Amount = 0,
        total_equity: Amount = 0,
        buying_power: Amount = 0,
        maintenance_margin: Amount = 0,
        risk_parameters: Mapping[str, Any] | None = None,
        is_active: bool = True,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Account:
        """Create an account (its audit row in the same transaction)."""
        params: dict[str, Any] = {
            "name": name,
            "account_type": account_type,
            "base_currency": base_currency,
            "cash_balance": to_money(cash_balance, "cash_balance"),
            "total_equity": to_money(total_equity, "total_equity"),
            "buying_power": to_money(buying_power, "buying_power"),
            "maintenance_margin": to_money(maintenance_margin, "maintenance_margin"),
            "risk_parameters": dict(risk_parameters or {}),
            "is_active": is_active,
            "metadata": dict(metadata or {}),
        }
        refuse_nul(params, "insert_account")
        async with self._scope.transaction() as conn:
            row = one(await self._q.insert_account(conn, **params), "insert_account")
            await self._audit.record("create", "account", row.id, new=row, user_id=user_id)
        return row

    async def get(self, account_id: int) -> Account:
        """One account; NotFound if there is none with that id."""
        return self._found(await self._q.get_account(self._scope.db(), id=account_id), account_id)

    async def list(self, *, active: bool | None = None, limit: int = 100) -> builtins.list[Account]:
        """Accounts in id order; `active` keeps only active (True) or inactive (False) ones."""
        return await self._q.list_accounts(self._scope.db(), active=active, limit=limit)

    async def update(
        self, account_id: int, *, version: int, user_id: str | None = None, **changes: Any
    ) -> Account:
        """Change columns of an account read at `version`; StaleVersionError if it moved on."""
        async with self._scope.transaction() as conn:
            current = self._found(await self._q.get_account(conn, id=account_id), account_id)
            self._check_version(current.version, account_id, version)
            wanted = merged(current, changes, ACCOUNT_FIELDS, "account")
            row = self._written(
                await self._q.update_account(
                    conn, id=account_id, version=version, **params_of(wanted, ACCOUNT_FIELDS)
                ),
                account_id,
                version,
                "update_account",
            )
            await self._audit.record(
                "update", "account", account_id, old=current, new=row, user_id=user_id
            )
        return row

    async def delete(self, account_id: int, *, version: int, user_id: str | None = None) -> Account:
        """Delete an account read at `version` (its portfolios must be gone first)."""
        async with self._scope.transaction() as conn:
            current = self._found(await self._q.get_account(conn, id=account_id), account_id)
            self._check_version(current.version, account_id, version)
            row = self._written(
                await self._q.delete_account(conn, id=account_id, version=version),
                account_id,
                version,
                "delete_account",
            )
            await self._audit.record("delete", "account", account_id, old=row, user_id=user_id)
        return row


__all__ = ["ACCOUNT_FIELDS", "AsyncAccountRepository"]

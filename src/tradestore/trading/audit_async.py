"""The audit trail: append-only rows saying who changed what, from which value to which.

Repositories write one row per create, update and delete inside the transaction of the change
itself, so an entity change and its audit row commit together or not at all. Bots add their
own events (a risk limit breached, a system event). Values are stored as JSON: Decimals as
exact strings, datetimes as ISO strings (pydantic's JSON mode), so both backends agree.

Written once for asyncio; the sync `AuditTrail` (``audit.py``) is generated from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tradestore.errors import QueryError
from tradestore.queries.fields import refuse_nul
from tradestore.trading.audit_base import json_values, require_aware
from tradestore.trading.models import AuditLog, AuditSeverity, Order, Trade

if TYPE_CHECKING:
    from tradestore.db.scope_async import AsyncDbScope
    from tradestore.trading.builtin_queries import BuiltinQueries


class AsyncAuditTrail:
    """Write and query audit rows; calls join the caller's open transaction."""

    def __init__(self, scope: AsyncDbScope, queries: BuiltinQueries) -> None:
        self._scope = scope
        self._q = queries

    async def record(
        self,
        action: str,
        entity_type: str,
        entity_id: int | str,
        *,
        old: BaseModel | Mapping[str, Any] | None = None,
        new: BaseModel | Mapping[str, Any] | None = None,
        user_id: str | None = None,
        strategy_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        severity: AuditSeverity = "info",
        occurred_at: dt.datetime | None = None,
    ) -> AuditLog:
        """Append one audit row (occurred_at: the database clock unless given)."""
        if occurred_at is not None:
            require_aware(occurred_at, "occurred_at")
        params: dict[str, Any] = {
            "occurred_at": occurred_at,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "user_id": user_id,
            "strategy_id": strategy_id,
            "old_values": json_values(old),
            "new_values": json_values(new),
            "metadata": json_values(metadata) or {},
            "severity": severity,
        }
        refuse_nul(params, "insert_audit_log")
        row = await self._q.insert_audit_log(self._scope.db(), **params)
        if row is None:  # pragma: no cover  (INSERT ... RETURNING always returns the row)
            raise QueryError("insert_audit_log returned no row", query="insert_audit_log")
        return row

    # -- the events a bot logs ----------------------------------------------------------

    async def log_order_submitted(self, order: Order, *, user_id: str | None = None) -> AuditLog:
        """An order went to the broker (the order repository logs this on submit)."""
        return await self.record(
            "order_submitted",
            "order",
            order.id,
            new=order,
            user_id=user_id,
            strategy_id=order.strategy_id,
        )

    async def log_order_filled(
        self,
        order: Order,
        trade: Trade,
        *,
        previous: Order | None = None,
        user_id: str | None = None,
    ) -> AuditLog:
        """An order was filled (in part or in full) by `trade`; `previous` is the order before."""
        return await self.record(
            "order_filled",
            "order",
            order.id,
            old=previous,
            new=order,
            user_id=user_id,
            strategy_id=order.strategy_id,
            metadata={
                "trade_id": trade.id,
                "quantity": trade.quantity,
                "price": trade.price,
                "commission": trade.commission,
                "complete": order.status == "filled",
            },
        )

    async def log_risk_limit_breached(  # noqa: PLR0917  (positional order fixed by the issue's API)
        self,
        limit_type: str,
        limit_value: Decimal | float | int,
        current_value: Decimal | float | int,
        entity_type: str,
        entity_id: int | str,
        action_taken: str,
        *,
        user_id: str | None = None,
        strategy_id: str | None = None,
    ) -> AuditLog:
        """A risk limit was crossed and what the bot did about it (severity warning)."""
        return await self.record(
            "risk_limit_breached",
            entity_type,
            entity_id,
            new={
                "limit_type": limit_type,
                "limit_value": limit_value,
                "current_value": current_value,
                "action_taken": action_taken,
            },
            user_id=user_id,
            strategy_id=strategy_id,
            severity="warning",
        )

    async def log_system_event(
        self,
        event: str,
        *,
        severity: AuditSeverity = "info",
        details: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> AuditLog:
        """Something that happened to the bot rather than to an entity (start, stop, outage)."""
        return await self.record(
            "system_event", "system", event, user_id=user_id, metadata=details, severity=severity
        )

    # -- queries ------------------------------------------------------------------------

    async def get_entity_history(self, entity_type: str, entity_id: int | str) -> list[AuditLog]:
        """Every audit row of one entity, oldest first."""
        return await self._q.audit_entity_history(
            self._scope.db(), entity_type=entity_type, entity_id=str(entity_id)
        )

    async def get_user_activity(
        self, user_id: str, start: dt.datetime, end: dt.datetime
    ) -> list[AuditLog]:
        """What one user did from `start` (inclusive) to `end` (exclusive), oldest first."""
        return await self._q.audit_user_activity(
            self._scope.db(),
            user_id=user_id,
            start=require_aware(start, "start"),
            end=require_aware(end, "end"),
        )

    async def get_audit_trail(
        self,
        action: str | None = None,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[AuditLog]:
        """Audit rows newest first, optionally of one action and within [start_date, end_date)."""
        if start_date is not None:
            require_aware(start_date, "start_date")
        if end_date is not None:
            require_aware(end_date, "end_date")
        return await self._q.audit_trail(
            self._scope.db(),
            action=action,
            start_date=start_date,
            end_date=end_date,
            limit=limit,
        )


__all__ = ["AsyncAuditTrail", "json_values", "require_aware"]

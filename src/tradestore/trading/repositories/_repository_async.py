"""The base of the entity repositories: the scope they run in, the queries, the audit trail.

Written once for asyncio; the sync `Repository` (``_repository.py``) is generated from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradestore.trading.audit_async import AsyncAuditTrail
from tradestore.trading.repositories._base import EntityChecks

if TYPE_CHECKING:
    from tradestore.db.scope_async import AsyncDbScope
    from tradestore.trading.builtin_queries import BuiltinQueries


class AsyncRepository(EntityChecks):
    """Base of the entity repositories: holds the scope, the queries and the audit trail."""

    def __init__(self, scope: AsyncDbScope, queries: BuiltinQueries) -> None:
        self._scope = scope
        self._q = queries
        self._audit = AsyncAuditTrail(scope, queries)


__all__ = ["AsyncRepository"]

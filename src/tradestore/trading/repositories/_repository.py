# Generated from _repository_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""The base of the entity repositories: the scope they run in, the queries, the audit trail.

Written once for asyncio; the sync `Repository` (``_repository.py``) is generated from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradestore.trading.audit import AuditTrail
from tradestore.trading.repositories._base import EntityChecks

if TYPE_CHECKING:
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries


class Repository(EntityChecks):
    """Base of the entity repositories: holds the scope, the queries and the audit trail."""

    def __init__(self, scope: DbScope, queries: BuiltinQueries) -> None:
        self._scope = scope
        self._q = queries
        self._audit = AuditTrail(scope, queries)


__all__ = ["Repository"]

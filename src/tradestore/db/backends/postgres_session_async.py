"""A returned PostgreSQL connection made clean again: `reset` always, `restore` when marked.

Written once for asyncio; the sync twin (``postgres_session.py``) is generated from it. Both
backends call these, so the two faces clean a connection the same way.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

# DISCARD ALL without its DEALLOCATE ALL and DISCARD PLANS: the session's prepared statements
# are psycopg's cache of the kit's own queries (prepare_threshold); dropping them would make
# every query re-prepare after each restored connection. RESET ALL returns every setting to
# its session default, which for the kit's startup options (`-c search_path`,
# `-c statement_timeout`) is the kit's value. One round trip: a statement without parameters
# goes over the simple query protocol, where several may share one message.
RESTORE_SESSION = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
    "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES"
)


async def reset(raw: psycopg.AsyncConnection[Any]) -> bool:
    """Roll back what the borrower left open; False when the connection is not worth keeping."""
    if raw.closed or raw.broken:
        return False
    status = raw.pgconn.transaction_status
    if status == TransactionStatus.IDLE:
        return True
    if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        try:
            await raw.execute("ROLLBACK")
        except psycopg.Error:
            return False
        return raw.pgconn.transaction_status == TransactionStatus.IDLE
    # ACTIVE (a result still streaming) or UNKNOWN: not worth saving.
    return False


async def restore(raw: psycopg.AsyncConnection[Any]) -> bool:
    """Put back the session as connect() left it (after `reset`); False to discard it."""
    # The driver's side first. reset() has rolled back whatever the borrower left open, so
    # autocommit may change; set only what differs.
    if not raw.autocommit:
        await raw.set_autocommit(True)
    if raw.read_only is not None:
        await raw.set_read_only(None)
    if raw.isolation_level is not None:
        await raw.set_isolation_level(None)
    if raw.deferrable is not None:
        await raw.set_deferrable(None)
    raw.row_factory = tuple_row
    raw.cursor_factory = psycopg.AsyncCursor
    raw.server_cursor_factory = psycopg.AsyncServerCursor
    await raw.execute(RESTORE_SESSION, prepare=False)
    return raw.pgconn.transaction_status == TransactionStatus.IDLE

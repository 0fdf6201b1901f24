"""PostgreSQL through psycopg 3's `AsyncConnection`: the async face of `PostgresBackend`.

Everything that is not I/O (what an error means, the free checks, the startup options, the
per-connection adapters) is the sync backend's, kept as `sync`; connecting and pinging end by
the caller's deadline through the event loop (`postgres_deadline_async`), and a returned
connection is cleaned by the same code as on the sync face (`postgres_session_async`).
"""

from __future__ import annotations

from typing import Any

import psycopg

from tradestore.db.backends import postgres_session_async as session
from tradestore.db.backends.base import AsyncBackend
from tradestore.db.backends.postgres import DEFAULT_TIMEOUT_S, PostgresBackend
from tradestore.db.backends.postgres_deadline_async import connect_within, ping_within
from tradestore.db.url import DatabaseURL


class AsyncPostgresBackend(AsyncBackend):
    sync: PostgresBackend

    def __init__(self, url: DatabaseURL, *, query_timeout: float | None = None) -> None:
        super().__init__(PostgresBackend(url, query_timeout=query_timeout))

    async def connect(self, timeout: float | None = None) -> psycopg.AsyncConnection[Any]:
        raw = await connect_within(self.sync.conninfo(), self.sync.bound(timeout))
        await raw.set_autocommit(True)  # a fresh, idle connection: no round trip
        self.sync.configure(raw)
        return raw

    async def ping(self, raw: psycopg.AsyncConnection[Any], timeout: float | None = None) -> None:
        await ping_within(raw, DEFAULT_TIMEOUT_S if timeout is None else timeout)

    async def reset(self, raw: psycopg.AsyncConnection[Any]) -> bool:
        return await session.reset(raw)

    async def restore(self, raw: psycopg.AsyncConnection[Any]) -> bool:
        return await session.restore(raw)

    async def execute(
        self, raw: psycopg.AsyncConnection[Any], sql: str, params: Any = None
    ) -> psycopg.AsyncCursor[Any]:
        return await raw.execute(sql, params)

    def close(self, raw: psycopg.AsyncConnection[Any]) -> None:
        self.sync.close(raw)


__all__ = ["AsyncPostgresBackend"]

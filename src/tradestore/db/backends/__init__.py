"""Backends: one module per database driver (psycopg 3, sqlite3), each with its async face."""

from __future__ import annotations

from tradestore.db.backends.base import AsyncBackend, Backend, DriverErrorInfo
from tradestore.db.url import DatabaseURL

__all__ = ["AsyncBackend", "Backend", "DriverErrorInfo", "async_backend_for", "backend_for"]


def backend_for(url: DatabaseURL, *, query_timeout: float | None = None) -> Backend:
    """The backend for a parsed URL; drivers are imported only when used."""
    if url.dialect == "postgresql":
        from tradestore.db.backends.postgres import PostgresBackend  # noqa: PLC0415

        return PostgresBackend(url, query_timeout=query_timeout)
    from tradestore.db.backends.sqlite import SqliteBackend  # noqa: PLC0415

    return SqliteBackend(url, query_timeout=query_timeout)


def async_backend_for(url: DatabaseURL, *, query_timeout: float | None = None) -> AsyncBackend:
    """The async backend for a parsed URL (see `backend_for`)."""
    if url.dialect == "postgresql":
        from tradestore.db.backends.postgres_aio import AsyncPostgresBackend  # noqa: PLC0415

        return AsyncPostgresBackend(url, query_timeout=query_timeout)
    from tradestore.db.backends.sqlite_aio import AsyncSqliteBackend  # noqa: PLC0415

    return AsyncSqliteBackend(url, query_timeout=query_timeout)

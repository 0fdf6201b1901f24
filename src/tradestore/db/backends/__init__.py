"""Backends: one module per database driver (psycopg 3, sqlite3)."""

from __future__ import annotations

from tradestore.db.backends.base import Backend, DriverErrorInfo
from tradestore.db.url import DatabaseURL

__all__ = ["Backend", "DriverErrorInfo", "backend_for"]


def backend_for(url: DatabaseURL, *, query_timeout: float | None = None) -> Backend:
    """The backend for a parsed URL; drivers are imported only when used."""
    if url.dialect == "postgresql":
        from tradestore.db.backends.postgres import PostgresBackend  # noqa: PLC0415

        return PostgresBackend(url, query_timeout=query_timeout)
    from tradestore.db.backends.sqlite import SqliteBackend  # noqa: PLC0415

    return SqliteBackend(url, query_timeout=query_timeout)

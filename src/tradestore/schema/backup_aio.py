"""Backups for asyncio: the same functions as `tradestore.schema.backup`, off the event loop.

Every step of a backup blocks (a SQLite copy, ``pg_dump`` / ``pg_restore`` and the files they
write), so nothing here runs on the event loop's thread: a SQLite copy runs on the worker
thread of one of the pool's connections (the only thread that may use it, and an in-memory
database is reachable through no other), PostgreSQL's client tools and the file work on a
thread of their own. The work itself is `backup`'s, unchanged: one implementation, two faces.

Cancelling the awaiting task does not stop a copy already running on its thread: the file
is still written whole under its temporary name, then renamed (never half a backup).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tradestore.db.backends.sqlite_aio import AsyncSqliteBackend
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool_async import AsyncPool
from tradestore.schema import backup

T = TypeVar("T")


async def _on_connection_thread(conn: AsyncConnection, call: Callable[..., T], *args: Any) -> T:
    """Run `call(raw, *args)` on the thread that owns the SQLite connection `conn`."""
    backend = conn.backend
    assert isinstance(backend, AsyncSqliteBackend)  # only SQLite copies through a connection
    raw = conn.raw  # a copy may change the session: the pool restores it on return
    return await backend.worker(raw).run(call, raw, *args)


async def create_backup(
    pool: AsyncPool, path: str | Path | None = None, *, directory: str | Path | None = None
) -> Path:
    """`backup.create_backup` for an `AsyncPool`: the same file, written off the event loop."""
    if pool.dialect != "sqlite":
        return await asyncio.to_thread(backup.create_backup, pool.url, path, directory=directory)
    target = await asyncio.to_thread(backup.backup_target, pool.dialect, path, directory)
    async with pool.connection() as conn:
        return await _on_connection_thread(conn, backup.sqlite_backup, pool.url, target)


async def restore_backup(pool: AsyncPool, path: str | Path) -> None:
    """`backup.restore_backup` for an `AsyncPool`, off the event loop."""
    if pool.dialect != "sqlite":
        await asyncio.to_thread(backup.restore_backup, pool.url, path)
        return
    source_path = await asyncio.to_thread(backup.existing_backup, path)
    async with pool.connection() as conn:
        await _on_connection_thread(conn, backup.sqlite_restore, pool.url, source_path)


async def prune_backups(
    directory: str | Path, retention_days: int, *, now: dt.datetime | None = None
) -> list[Path]:
    """`backup.prune_backups` on a worker thread."""
    return await asyncio.to_thread(backup.prune_backups, directory, retention_days, now=now)


__all__ = ["create_backup", "prune_backups", "restore_backup"]

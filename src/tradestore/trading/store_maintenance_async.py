"""Housekeeping that `AsyncTradeStore` offers on its own database: retention, backups,
introspection.

Thin shells over `tradestore.trading.retention_async`, `tradestore.schema.backup_aio` and
`tradestore.schema.introspect_async`, so a bot can call ``store.create_backup()`` without
wiring pools and settings itself. Defaults come from the environment (AUDIT_RETENTION_DAYS,
DB_BACKUP_DIRECTORY, DB_BACKUP_RETENTION_DAYS).

Written once for asyncio; the sync `StoreMaintenance` (``store_maintenance.py``) is generated
from it. On the async face whatever blocks (reading the settings, backup files and client
tools, archive files) runs on a worker thread, never on the event loop.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradestore.db._acompat import ASYNC
from tradestore.db.settings import Settings, load_settings
from tradestore.schema import backup_aio, introspect_async
from tradestore.trading import retention_async

if TYPE_CHECKING:
    from tradestore.db.pool_async import AsyncPool
    from tradestore.db.scope_async import AsyncDbScope
    from tradestore.trading.builtin_queries import BuiltinQueries

if ASYNC:
    import asyncio


class AsyncStoreMaintenance:
    """Mixed into `AsyncTradeStore`: everything here runs on the store's pool and scope."""

    pool: AsyncPool
    scope: AsyncDbScope
    queries: BuiltinQueries
    settings: Settings | None

    async def _settings(self) -> Settings:
        # A store opened on an explicit URL did not read the environment; its housekeeping
        # defaults still come from there.
        if self.settings is None:
            if ASYNC:
                self.settings = await asyncio.to_thread(load_settings)  # may read .env
            else:
                self.settings = load_settings()
        return self.settings

    # -- retention -------------------------------------------------------------------

    async def purge_audit_logs(
        self, older_than: dt.datetime | None = None, *, batch_size: int = 1000
    ) -> int:
        """Delete audit rows older than `older_than` (default: AUDIT_RETENTION_DAYS ago), in
        short batches; returns how many were deleted."""
        if older_than is None:
            days = (await self._settings()).audit_retention_days
            older_than = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        return await retention_async.purge_audit_logs(
            self.scope, self.queries, older_than, batch_size=batch_size
        )

    async def archive(
        self,
        table: str,
        older_than: dt.datetime,
        to: str | os.PathLike[str],
        *,
        batch_size: int = 1000,
        fmt: retention_async.ArchiveFormat = "jsonl",
        progress: retention_async.Progress | None = None,
    ) -> int:
        """Move rows of `table` older than `older_than` to the file `to`, batch by batch
        (each batch fsynced before it is deleted); returns how many rows moved."""
        return await retention_async.archive(
            self.scope,
            self.queries,
            table,
            older_than,
            to,
            batch_size=batch_size,
            fmt=fmt,
            progress=progress,
        )

    # -- backups ---------------------------------------------------------------------

    async def create_backup(self, path: str | Path | None = None) -> Path:
        """Back up the database (SQLite online backup API; PostgreSQL ``pg_dump -Fc``).

        Without `path` the file goes to DB_BACKUP_DIRECTORY under a timestamped name, and
        older backups there beyond DB_BACKUP_RETENTION_DAYS are pruned.
        """
        if path is not None:
            return await backup_aio.create_backup(self.pool, path)
        settings = await self._settings()
        written = await backup_aio.create_backup(self.pool, directory=settings.db_backup_directory)
        await backup_aio.prune_backups(
            settings.db_backup_directory, settings.db_backup_retention_days
        )
        return written

    async def restore_backup(self, path: str | Path) -> None:
        """Replace the database's content with the backup at `path`."""
        await backup_aio.restore_backup(self.pool, path)

    # -- introspection ---------------------------------------------------------------

    async def table_exists(self, name: str) -> bool:
        """Whether a table or view called `name` exists."""
        return await introspect_async.table_exists(self.pool, name)

    async def get_table_info(self, name: str) -> introspect_async.TableInfo:
        """Columns (name, type, nullable, default) and row estimate of table `name`."""
        return await introspect_async.get_table_info(self.pool, name)

    def get_connection_stats(self) -> dict[str, Any]:
        """Pool counters and per-query timings, JSON-ready and without a password."""
        return introspect_async.get_connection_stats(self.pool)


__all__ = ["AsyncStoreMaintenance"]

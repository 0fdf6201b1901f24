# Generated from store_maintenance_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""Housekeeping that `TradeStore` offers on its own database: retention, backups,
introspection.

Thin shells over `tradestore.trading.retention`, `tradestore.schema.backup` and
`tradestore.schema.introspect`, so a bot can call ``store.create_backup()`` without
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
from tradestore.schema import backup, introspect
from tradestore.trading import retention

if TYPE_CHECKING:
    from tradestore.db.pool import Pool
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries


class StoreMaintenance:
    """Mixed into `TradeStore`: everything here runs on the store's pool and scope."""

    pool: Pool
    scope: DbScope
    queries: BuiltinQueries
    settings: Settings | None

    def _settings(self) -> Settings:
        # A store opened on an explicit URL did not read the environment; its housekeeping
        # defaults still come from there.
        if self.settings is None:
            self.settings = load_settings()
        return self.settings

    # -- retention -------------------------------------------------------------------

    def purge_audit_logs(
        self, older_than: dt.datetime | None = None, *, batch_size: int = 1000
    ) -> int:
        """Delete audit rows older than `older_than` (default: AUDIT_RETENTION_DAYS ago), in
        short batches; returns how many were deleted."""
        if older_than is None:
            days = (self._settings()).audit_retention_days
            older_than = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        return retention.purge_audit_logs(
            self.scope, self.queries, older_than, batch_size=batch_size
        )

    def archive(
        self,
        table: str,
        older_than: dt.datetime,
        to: str | os.PathLike[str],
        *,
        batch_size: int = 1000,
        fmt: retention.ArchiveFormat = "jsonl",
        progress: retention.Progress | None = None,
    ) -> int:
        """Move rows of `table` older than `older_than` to the file `to`, batch by batch
        (each batch fsynced before it is deleted); returns how many rows moved."""
        return retention.archive(
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

    def create_backup(self, path: str | Path | None = None) -> Path:
        """Back up the database (SQLite online backup API; PostgreSQL ``pg_dump -Fc``).

        Without `path` the file goes to DB_BACKUP_DIRECTORY under a timestamped name, and
        older backups there beyond DB_BACKUP_RETENTION_DAYS are pruned.
        """
        if path is not None:
            return backup.create_backup(self.pool, path)
        settings = self._settings()
        written = backup.create_backup(self.pool, directory=settings.db_backup_directory)
        backup.prune_backups(
            settings.db_backup_directory, settings.db_backup_retention_days
        )
        return written

    def restore_backup(self, path: str | Path) -> None:
        """Replace the database's content with the backup at `path`."""
        backup.restore_backup(self.pool, path)

    # -- introspection ---------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        """Whether a table or view called `name` exists."""
        return introspect.table_exists(self.pool, name)

    def get_table_info(self, name: str) -> introspect.TableInfo:
        """Columns (name, type, nullable, default) and row estimate of table `name`."""
        return introspect.get_table_info(self.pool, name)

    def get_connection_stats(self) -> dict[str, Any]:
        """Pool counters and per-query timings, JSON-ready and without a password."""
        return introspect.get_connection_stats(self.pool)


__all__ = ["StoreMaintenance"]

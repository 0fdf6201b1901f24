"""Retention: purge old audit rows, and archive old rows of the time-keyed tables to a file.

Both work in batches, each its own short transaction, so a bot writing at the same time
waits at most one batch (SQLite has a single writer; PostgreSQL locks only the batch's rows).

`archive` never loses a row: per batch it reads the rows, appends them to the file, flushes
and fsyncs it, and only then deletes exactly those rows (by key). A crash between the fsync
and the delete leaves the rows in both places, so a rerun may write them to the file again
(at-least-once); it can never leave a row in neither. Only the tables of `ARCHIVABLE_TABLES`
can be archived: each maps to its own fixed named queries, the table name never reaches SQL.

Written once for asyncio; the sync twin (``retention.py``) is generated from it. On the
async face the file is opened, written, fsynced and closed on a worker thread, never on the
event loop; a cancelled archive deletes nothing it has not fsynced.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from tradestore.db._acompat import ASYNC
from tradestore.errors import TradestoreError
from tradestore.trading.audit_base import require_aware
from tradestore.trading.retention_base import (
    ARCHIVABLE,
    ARCHIVABLE_TABLES,
    ArchivableTable,
    ArchiveFile,
    ArchiveFormat,
    archivable,
    check_batch_size,
)

if TYPE_CHECKING:
    from tradestore.db.scope_async import AsyncDbScope
    from tradestore.trading.builtin_queries import BuiltinQueries

if ASYNC:
    import asyncio

Progress = Callable[[int, int], None]


async def purge_audit_logs(
    scope: AsyncDbScope,
    queries: BuiltinQueries,
    older_than: dt.datetime,
    *,
    batch_size: int = 1000,
) -> int:
    """Delete audit rows that occurred before `older_than`; returns how many were deleted."""
    require_aware(older_than, "older_than")
    check_batch_size(batch_size)
    total = 0
    while True:
        async with scope.transaction() as conn:
            deleted = await queries.retention_purge_audit_logs(
                conn, older_than=older_than, limit=batch_size
            )
        total += deleted
        if deleted < batch_size:
            return total


async def archive(
    scope: AsyncDbScope,
    queries: BuiltinQueries,
    table: str,
    older_than: dt.datetime,
    to: str | os.PathLike[str],
    *,
    batch_size: int = 1000,
    fmt: ArchiveFormat = "jsonl",
    progress: Progress | None = None,
) -> int:
    """Move rows of `table` older than `older_than` into the file `to`; returns how many.

    The file is appended to (a rerun after a failure continues it; a CSV header is written
    only into an empty file). `progress(done, total)` is called once before the first batch
    and after every batch. Rows leave the table only after they are fsynced to the file.
    """
    spec = archivable(table, fmt)
    require_aware(older_than, "older_than")
    check_batch_size(batch_size)
    count = getattr(queries, spec.count_query)
    fetch = getattr(queries, spec.batch_query)
    delete = getattr(queries, spec.delete_query)
    total = int(await count(scope.db(), older_than=older_than) or 0)
    done = 0
    if progress is not None:
        progress(done, total)
    if ASYNC:
        out = await asyncio.to_thread(ArchiveFile, to, fmt, spec)
    else:
        out = ArchiveFile(to, fmt, spec)
    try:
        while True:
            rows: Sequence[BaseModel] = await fetch(
                scope.db(), older_than=older_than, limit=batch_size
            )
            if not rows:
                return done
            if ASYNC:
                await asyncio.to_thread(out.append, rows)
            else:
                out.append(rows)
            keys = [getattr(row, spec.key) for row in rows]
            async with scope.transaction() as conn:
                deleted = await delete(conn, keys=keys)
            if deleted == 0:
                # Someone else removed them; stop rather than fetch the same rows forever.
                raise TradestoreError(
                    f"archive of {table}: a batch of {len(rows)} rows was written to {to} "
                    "but none could be deleted (removed by another process?)"
                )
            done += len(rows)
            if progress is not None:
                progress(done, max(total, done))
    finally:
        if ASYNC:
            await asyncio.to_thread(out.close)
        else:
            out.close()


__all__ = [
    "ARCHIVABLE",
    "ARCHIVABLE_TABLES",
    "ArchivableTable",
    "ArchiveFormat",
    "Progress",
    "archive",
    "purge_audit_logs",
]

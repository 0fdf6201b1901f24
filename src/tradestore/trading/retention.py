"""Retention: purge old audit rows, and archive old rows of the time-keyed tables to a file.

Both work in batches, each its own short transaction, so a bot writing at the same time
waits at most one batch (SQLite has a single writer; PostgreSQL locks only the batch's rows).

`archive` never loses a row: per batch it reads the rows, appends them to the file, flushes
and fsyncs it, and only then deletes exactly those rows (by key). A crash between the fsync
and the delete leaves the rows in both places, so a rerun may write them to the file again
(at-least-once); it can never leave a row in neither. Only the tables of `ARCHIVABLE_TABLES`
can be archived: each maps to its own fixed named queries, the table name never reaches SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from tradestore.errors import TradestoreError
from tradestore.trading.audit import require_aware
from tradestore.trading.models import (
    AuditLog,
    AuditReportRecord,
    EquityPoint,
    IterationLogRecord,
    RiskMetricsRecord,
    TradeHistoryRecord,
)

if TYPE_CHECKING:
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries

ArchiveFormat = Literal["jsonl", "csv"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ArchivableTable:
    """One table `archive` may move out: its time column, key, row model and queries."""

    table: str
    time_column: str
    key: str
    model: type[BaseModel]
    count_query: str
    batch_query: str
    delete_query: str


def _spec(table: str, time_column: str, key: str, model: type[BaseModel]) -> ArchivableTable:
    return ArchivableTable(
        table,
        time_column,
        key,
        model,
        f"retention_count_{table}",
        f"retention_batch_{table}",
        f"retention_delete_{table}",
    )


#: The whitelist: table name -> its fixed queries in sql/retention.sql.
ARCHIVABLE: dict[str, ArchivableTable] = {
    spec.table: spec
    for spec in (
        _spec("audit_logs", "occurred_at", "id", AuditLog),
        _spec("trade_history", "signal_time", "correlation_id", TradeHistoryRecord),
        _spec("equity_curve", "recorded_at", "id", EquityPoint),
        _spec("risk_metrics", "recorded_at", "id", RiskMetricsRecord),
        _spec("iteration_log", "started_at", "id", IterationLogRecord),
        _spec("audit_report_log", "generated_at", "id", AuditReportRecord),
    )
}
ARCHIVABLE_TABLES: tuple[str, ...] = tuple(ARCHIVABLE)


def purge_audit_logs(
    scope: DbScope,
    queries: BuiltinQueries,
    older_than: dt.datetime,
    *,
    batch_size: int = 1000,
) -> int:
    """Delete audit rows that occurred before `older_than`; returns how many were deleted."""
    require_aware(older_than, "older_than")
    _check_batch_size(batch_size)
    total = 0
    while True:
        with scope.transaction() as conn:
            deleted = queries.retention_purge_audit_logs(
                conn, older_than=older_than, limit=batch_size
            )
        total += deleted
        if deleted < batch_size:
            return total


def archive(
    scope: DbScope,
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
    spec = ARCHIVABLE.get(table)
    if spec is None:
        raise ValueError(
            f"table {table!r} cannot be archived (archivable: {', '.join(ARCHIVABLE_TABLES)})"
        )
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"archive format must be 'jsonl' or 'csv', not {fmt!r}")
    require_aware(older_than, "older_than")
    _check_batch_size(batch_size)
    count = getattr(queries, spec.count_query)
    fetch = getattr(queries, spec.batch_query)
    delete = getattr(queries, spec.delete_query)
    total = int(count(scope.db(), older_than=older_than) or 0)
    done = 0
    if progress is not None:
        progress(done, total)
    with Path(to).open("a", encoding="utf-8", newline="") as out:
        write = _writer(out, fmt, list(spec.model.model_fields))
        while True:
            rows: Sequence[BaseModel] = fetch(scope.db(), older_than=older_than, limit=batch_size)
            if not rows:
                return done
            write(rows)
            out.flush()
            os.fsync(out.fileno())
            keys = [getattr(row, spec.key) for row in rows]
            with scope.transaction() as conn:
                deleted = delete(conn, keys=keys)
            if deleted == 0:
                # Someone else removed them; stop rather than fetch the same rows forever.
                raise TradestoreError(
                    f"archive of {table}: a batch of {len(rows)} rows was written to {to} "
                    "but none could be deleted (removed by another process?)"
                )
            done += len(rows)
            if progress is not None:
                progress(done, max(total, done))


def _writer(
    out: IO[str], fmt: ArchiveFormat, fields: list[str]
) -> Callable[[Sequence[BaseModel]], None]:
    """A function appending rows to `out` as JSON Lines or CSV (JSON values as JSON text)."""
    if fmt == "jsonl":

        def write_jsonl(rows: Sequence[BaseModel]) -> None:
            out.writelines(
                json.dumps(row.model_dump(mode="json"), ensure_ascii=False) + "\n" for row in rows
            )

        return write_jsonl

    table = csv.DictWriter(out, fieldnames=fields)
    if out.tell() == 0:
        table.writeheader()

    def write_csv(rows: Sequence[BaseModel]) -> None:
        table.writerows(
            {k: _csv_cell(v) for k, v in row.model_dump(mode="json").items()} for row in rows
        )

    return write_csv


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")


__all__ = [
    "ARCHIVABLE",
    "ARCHIVABLE_TABLES",
    "ArchivableTable",
    "archive",
    "purge_audit_logs",
]

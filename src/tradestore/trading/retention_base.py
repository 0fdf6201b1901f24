"""What both faces of retention share: the archivable tables and their fixed queries, the
argument checks, and the archive file itself.

The file is plain blocking I/O (append, flush, fsync); the sync `archive` calls it directly,
the async one hands each call to a worker thread (`tradestore.trading.retention_async`).
"""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tradestore.trading.models import (
    AuditLog,
    AuditReportRecord,
    EquityPoint,
    IterationLogRecord,
    RiskMetricsRecord,
    TradeHistoryRecord,
)

ArchiveFormat = Literal["jsonl", "csv"]


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


def archivable(table: str, fmt: str) -> ArchivableTable:
    """The spec of `table`, or ValueError when it is not archivable or `fmt` is unknown."""
    spec = ARCHIVABLE.get(table)
    if spec is None:
        raise ValueError(
            f"table {table!r} cannot be archived (archivable: {', '.join(ARCHIVABLE_TABLES)})"
        )
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"archive format must be 'jsonl' or 'csv', not {fmt!r}")
    return spec


def check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")


class ArchiveFile:
    """The archive: opened for appending, rows written as JSON Lines or CSV (a CSV header only
    into an empty file), every batch flushed and fsynced before `append` returns.

    Its calls may come from different threads (the async face runs each on a worker thread),
    one at a time: a lock makes `close` wait for an `append` still running.
    """

    def __init__(self, to: str | os.PathLike[str], fmt: ArchiveFormat, spec: ArchivableTable):
        self._out = Path(to).open("a", encoding="utf-8", newline="")  # noqa: SIM115  (closed by close())
        self._lock = threading.Lock()
        self._csv: csv.DictWriter[str] | None = None
        if fmt == "csv":
            self._csv = csv.DictWriter(self._out, fieldnames=list(spec.model.model_fields))
            if self._out.tell() == 0:
                self._csv.writeheader()

    def append(self, rows: Sequence[BaseModel]) -> None:
        """Write `rows`, then flush and fsync: once this returns they survive a crash."""
        with self._lock:
            if self._csv is None:
                self._out.writelines(
                    json.dumps(row.model_dump(mode="json"), ensure_ascii=False) + "\n"
                    for row in rows
                )
            else:
                self._csv.writerows(
                    {k: _csv_cell(v) for k, v in row.model_dump(mode="json").items()}
                    for row in rows
                )
            self._out.flush()
            os.fsync(self._out.fileno())

    def close(self) -> None:
        with self._lock:
            self._out.close()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


__all__ = [
    "ARCHIVABLE",
    "ARCHIVABLE_TABLES",
    "ArchivableTable",
    "ArchiveFile",
    "ArchiveFormat",
    "archivable",
    "check_batch_size",
]

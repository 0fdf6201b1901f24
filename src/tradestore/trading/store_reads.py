# Generated from store_reads_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""The run-record reads of `TradeStore`: every filter optional, newest first.

Time windows are ``[start_date, end_date)`` and must be timezone-aware (a naive bound would
mean different instants on PostgreSQL and SQLite); ``limit=None`` means all rows.

Written once for asyncio; the sync `RunRecordReads` (``store_reads.py``) is generated from it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from tradestore.trading.models import (
    AuditReportRecord,
    EquityPoint,
    IterationLogRecord,
    ReportType,
    RiskMetricsRecord,
    TradeHistoryRecord,
)
from tradestore.trading.store_base import NO_LIMIT, aware, limit_of

if TYPE_CHECKING:
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries


class RunRecordReads:
    """Mixed into `TradeStore`: trades, equity, risk, iterations and audit reports, read
    back."""

    scope: DbScope
    queries: BuiltinQueries

    def get_trade(self, correlation_id: str) -> TradeHistoryRecord | None:
        """One trade record by its correlation id, or None."""
        return self.queries.get_trade_record(self.scope.db(), correlation_id=correlation_id)

    def get_trade_history(
        self,
        symbol: str | None = None,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        limit: int | None = None,
        executed: bool | None = None,
    ) -> list[TradeHistoryRecord]:
        """Trade records, newest signal first; the window applies to ``signal_time``."""
        return self.queries.trade_history(
            self.scope.db(),
            symbol=symbol,
            executed=executed,
            start_date=aware(start_date, "start_date"),
            end_date=aware(end_date, "end_date"),
            limit=limit_of(limit),
        )

    def get_equity_curve(
        self,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[EquityPoint]:
        """Equity points, newest first; the window applies to ``recorded_at``."""
        return self.queries.equity_curve(
            self.scope.db(),
            start_date=aware(start_date, "start_date"),
            end_date=aware(end_date, "end_date"),
            limit=limit_of(limit),
        )

    def get_risk_metrics(
        self,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[RiskMetricsRecord]:
        """Risk snapshots, newest first; the window applies to ``recorded_at``."""
        return self.queries.risk_metrics(
            self.scope.db(),
            start_date=aware(start_date, "start_date"),
            end_date=aware(end_date, "end_date"),
            limit=limit_of(limit),
        )

    def get_iterations(
        self,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[IterationLogRecord]:
        """Iteration summaries, newest first; the window applies to ``started_at``."""
        return self.queries.iterations(
            self.scope.db(),
            start_date=aware(start_date, "start_date"),
            end_date=aware(end_date, "end_date"),
            limit=limit_of(limit),
        )

    def get_audit_reports(
        self,
        report_type: ReportType | None = None,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditReportRecord]:
        """Audit reports, newest first; the window applies to ``generated_at``."""
        return self.queries.audit_reports(
            self.scope.db(),
            report_type=report_type,
            start_date=aware(start_date, "start_date"),
            end_date=aware(end_date, "end_date"),
            limit=limit_of(limit),
        )


__all__ = ["NO_LIMIT", "RunRecordReads"]

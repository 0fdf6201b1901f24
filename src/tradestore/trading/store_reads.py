"""The run-record reads of `TradeStore`: every filter optional, newest first.

Time windows are ``[start_date, end_date)`` and must be timezone-aware (a naive bound would
mean different instants on PostgreSQL and SQLite); ``limit=None`` means all rows.
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

if TYPE_CHECKING:
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries

NO_LIMIT = 2**62
"""What ``limit=None`` binds: SQLite refuses ``LIMIT NULL``, and no table holds this many rows."""


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    """A filter bound as-is must be aware: a naive one means different instants per backend."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(dt.UTC)


def _limit(limit: int | None) -> int:
    if limit is None:
        return NO_LIMIT
    if limit < 0:
        raise ValueError(f"limit must be >= 0 or None (got {limit})")
    return limit


class RunRecordReads:
    """Mixed into `TradeStore`: trades, equity, risk, iterations and audit reports, read back."""

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
            start_date=_aware(start_date, "start_date"),
            end_date=_aware(end_date, "end_date"),
            limit=_limit(limit),
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
            start_date=_aware(start_date, "start_date"),
            end_date=_aware(end_date, "end_date"),
            limit=_limit(limit),
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
            start_date=_aware(start_date, "start_date"),
            end_date=_aware(end_date, "end_date"),
            limit=_limit(limit),
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
            start_date=_aware(start_date, "start_date"),
            end_date=_aware(end_date, "end_date"),
            limit=_limit(limit),
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
            start_date=_aware(start_date, "start_date"),
            end_date=_aware(end_date, "end_date"),
            limit=_limit(limit),
        )


__all__ = ["NO_LIMIT", "RunRecordReads"]

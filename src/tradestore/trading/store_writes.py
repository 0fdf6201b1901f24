# Generated from store_writes_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""The run-record writes of `TradeStore` and its failure policy (``on_error``).

Each write validates the bot's input (`tradestore.trading.inputs`) before any SQL runs, binds
the values to a named query, and goes through `RunRecordWrites._write`, where ``on_error``
decides whether a failed write raises or is logged (see `tradestore.trading.store`).

Written once for asyncio; the sync `RunRecordWrites` (``store_writes.py``) is generated from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from tradestore.trading.inputs import (
    AuditReport,
    EquitySnapshot,
    ExecutionResult,
    IterationSummary,
    RiskSnapshot,
    TradeSignal,
    utc_now,
)
from tradestore.trading.models import (
    AuditReportRecord,
    EquityPoint,
    IterationLogRecord,
    RiskMetricsRecord,
)
from tradestore.trading.store_base import (
    Write,
    OnError,
    TradeItem,
    checked_correlation_id,
    equity_params,
    json_text,
    log_failed_write,
    model_of,
    new_correlation_id,
    ratio_return,
    trade_params,
    trade_rows,
)

if TYPE_CHECKING:
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries

T = TypeVar("T")


class RunRecordWrites:
    """Mixed into `TradeStore`: trades, equity, risk, iterations and audit reports, written."""

    scope: DbScope
    queries: BuiltinQueries
    on_error: OnError

    @staticmethod
    def generate_correlation_id() -> str:
        """A fresh correlation id (32 hex digits of a random UUID) tying a signal to its fill."""
        return new_correlation_id()

    # -- failure policy ----------------------------------------------------------------

    def _write(self, operation: str, ref: str, call: Write[T]) -> T | None:
        try:
            return call()
        except Exception as exc:
            if self.on_error == "raise" or self.scope.current is not None:
                raise
            log_failed_write(operation, ref, exc)
            return None

    # -- writes ------------------------------------------------------------------------

    def log_trade(
        self,
        signal: TradeSignal | Mapping[str, Any],
        execution: ExecutionResult | Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Record a signal and (optionally) its execution; return the correlation id.

        Logging an existing correlation id again replaces that row (a retry is harmless; the
        execution may be logged after the signal). Under ``on_error="log"`` the id is returned
        even when the write failed: the row may then not exist (see the store's module docs).
        """
        cid = checked_correlation_id(correlation_id)
        params = trade_params(
            model_of(TradeSignal, signal),
            None if execution is None else model_of(ExecutionResult, execution),
            cid,
        )
        self._write(
            "log_trade", cid, lambda: self.queries.upsert_trade_record(self.scope.db(), **params)
        )
        return cid

    def log_trades(self, items: Iterable[TradeItem]) -> list[str]:
        """Bulk-record many trades in one statement (COPY on PostgreSQL); return their ids.

        Each item is a signal, or a tuple ``(signal, execution)`` or
        ``(signal, execution, correlation_id)``. All items are validated before anything is
        sent; the batch is stored whole or not at all. Unlike `log_trade`, an id already in
        the table fails the batch (bulk loading does not upsert).
        """
        rows = trade_rows(items)
        ids = [row["correlation_id"] for row in rows]
        if rows:
            ref = f"{ids[0]}..{ids[-1]} ({len(ids)} trades)"
            self._write(
                "log_trades", ref, lambda: self.queries.copy_trade_records(self.scope.db(), rows)
            )
        return ids

    def log_equity_snapshot(
        self,
        equity: Decimal | int | float | str,
        cash: Decimal | int | float | str | None = None,
        buying_power: Decimal | int | float | str | None = None,
        ts: dt.datetime | None = None,
    ) -> EquityPoint | None:
        """Append an equity point with its total and daily return; return the stored row.

        ``total_return`` = equity / (first point of the curve) - 1; ``daily_return`` =
        equity / (last point before this point's UTC day) - 1, or, on the curve's first day,
        relative to that day's first point. Both are fractions (0.05 is +5 %), 8 places,
        None when the base is 0. ``cash`` defaults to the equity (an all-cash account) and
        ``buying_power`` to the cash. ``ts`` defaults to now.
        """
        cash_value = equity if cash is None else cash
        snap = EquitySnapshot(
            equity=equity,
            cash=cash_value,
            buying_power=cash_value if buying_power is None else buying_power,
            recorded_at=utc_now() if ts is None else ts,
        )
        return self._write(
            "log_equity_snapshot", new_correlation_id(), lambda: self._equity(snap)
        )

    def _equity(self, snap: EquitySnapshot) -> EquityPoint:
        at = snap.recorded_at
        day_start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        with self.scope.transaction() as conn:
            first = self.queries.first_equity_point(conn, at=at)
            base = self.queries.last_equity_point_before(conn, before=day_start)
            if base is None:
                base = self.queries.first_equity_point_since(conn, since=day_start, at=at)
            row = self.queries.insert_equity_point(conn, **equity_params(snap, first, base))
        assert row is not None  # INSERT ... RETURNING gives the row
        return row

    def log_risk_metrics(self, **fields: Any) -> RiskMetricsRecord | None:
        """Append a risk snapshot (the fields of `RiskSnapshot`; ``portfolio_value`` required)."""
        params = RiskSnapshot.model_validate(fields).model_dump()
        return self._write(
            "log_risk_metrics",
            new_correlation_id(),
            lambda: self.queries.insert_risk_metrics(self.scope.db(), **params),
        )

    def log_iteration(
        self, summary: IterationSummary | Mapping[str, Any]
    ) -> IterationLogRecord | None:
        """Append the statistics of one pass of the bot's loop; return the stored row."""
        params = model_of(IterationSummary, summary).model_dump()
        params["symbols_processed"] = json_text(params["symbols_processed"])
        params["errors"] = json_text(params["errors"])
        return self._write(
            "log_iteration",
            new_correlation_id(),
            lambda: self.queries.insert_iteration(self.scope.db(), **params),
        )

    def log_audit_report(
        self, report: AuditReport | Mapping[str, Any]
    ) -> AuditReportRecord | None:
        """Append one audit report (iteration, daily or weekly); return the stored row."""
        params = model_of(AuditReport, report).model_dump()
        params["recommendations"] = json_text(params["recommendations"])
        params["metrics"] = json_text(params["metrics"])
        return self._write(
            "log_audit_report",
            new_correlation_id(),
            lambda: self.queries.insert_audit_report(self.scope.db(), **params),
        )


__all__ = [
    "RunRecordWrites",
    "OnError",
    "TradeItem",
    "ratio_return",
    "trade_params",
]

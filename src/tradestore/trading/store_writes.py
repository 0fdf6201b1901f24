"""The run-record writes of `TradeStore` and its failure policy (``on_error``).

Each write validates the bot's input (`tradestore.trading.inputs`) before any SQL runs, binds
the values to a named query, and goes through `RunRecordWrites._write`, where ``on_error``
decides whether a failed write raises or is logged (see `tradestore.trading.store`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel

from tradestore.errors import TradestoreError
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

if TYPE_CHECKING:
    from tradestore.db.scope import DbScope
    from tradestore.trading.builtin_queries import BuiltinQueries

OnError = Literal["raise", "log"]
TradeItem = TradeSignal | Mapping[str, Any] | tuple[Any, ...]

_RATIO_STEP = Decimal("0.00000001")
_RATIO_BOUND = Decimal(10) ** 12  # numeric(20,8) holds 12 integer digits

# The store's logger keeps its name (bots route and filter on it), whichever module logs.
logger = logging.getLogger("tradestore.store")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _model(cls: type[M], value: M | Mapping[str, Any]) -> M:
    return value if isinstance(value, cls) else cls.model_validate(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def ratio_return(value: Decimal, base: Decimal) -> Decimal | None:
    """``value / base - 1`` to 8 places (half-even); None when undefined or out of range.

    None, not an error, because a return is derived data: a zero base (an empty account) or a
    ratio beyond numeric(20,8) must not stop the equity point itself from being stored.
    """
    if base == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 50
        result = (value / base - 1).quantize(_RATIO_STEP, rounding=ROUND_HALF_EVEN)
    return result if abs(result) < _RATIO_BOUND else None


def trade_params(
    signal: TradeSignal, execution: ExecutionResult | None, correlation_id: str
) -> dict[str, Any]:
    """The parameters of ``upsert_trade_record`` / ``copy_trade_records`` for one trade."""
    params = signal.model_dump()
    run = execution or ExecutionResult(executed=False)
    params.update(run.model_dump())
    params["correlation_id"] = correlation_id
    return params


def _correlation_id(value: str | None) -> str:
    if value is None:
        return RunRecordWrites.generate_correlation_id()
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValueError("correlation_id must be a non-empty string of at most 200 characters")
    if "\x00" in value:
        # As for every text input (`tradestore.queries.fields.Text`): PostgreSQL cannot store it.
        raise ValueError("correlation_id must not contain NUL characters ('\\x00')")
    return value


class RunRecordWrites:
    """Mixed into `TradeStore`: trades, equity, risk, iterations and audit reports, written."""

    scope: DbScope
    queries: BuiltinQueries
    on_error: OnError

    @staticmethod
    def generate_correlation_id() -> str:
        """A fresh correlation id (32 hex digits of a random UUID) tying a signal to its fill."""
        return uuid.uuid4().hex

    # -- failure policy ----------------------------------------------------------------

    def _write(self, operation: str, ref: str, call: Callable[[], T]) -> T | None:
        try:
            return call()
        except Exception as exc:
            if self.on_error == "raise" or self.scope.current is not None:
                raise
            logger.error(
                "%s failed, the record was NOT stored (correlation_id=%s): %s: %s",
                operation,
                ref,
                type(exc).__name__,
                exc,
                exc_info=not isinstance(exc, TradestoreError),
                extra={"correlation_id": ref, "operation": operation},
            )
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
        even when the write failed: the row may then not exist (see `tradestore.trading.store`).
        """
        cid = _correlation_id(correlation_id)
        params = trade_params(
            _model(TradeSignal, signal),
            None if execution is None else _model(ExecutionResult, execution),
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
        rows: list[dict[str, Any]] = []
        for item in items:
            parts = item if isinstance(item, tuple) else (item,)
            if not 1 <= len(parts) <= 3:
                raise ValueError(
                    f"log_trades item {len(rows) + 1}: expected signal, (signal, execution) "
                    f"or (signal, execution, correlation_id), got a tuple of {len(parts)}"
                )
            signal, execution, cid = (*parts, None, None)[:3]
            rows.append(
                trade_params(
                    _model(TradeSignal, signal),
                    None if execution is None else _model(ExecutionResult, execution),
                    _correlation_id(cid),
                )
            )
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
            "log_equity_snapshot", self.generate_correlation_id(), lambda: self._equity(snap)
        )

    def _equity(self, snap: EquitySnapshot) -> EquityPoint:
        at = snap.recorded_at
        day_start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        with self.scope.transaction() as conn:
            first = self.queries.first_equity_point(conn, at=at)
            base = self.queries.last_equity_point_before(conn, before=day_start)
            if base is None:
                base = self.queries.first_equity_point_since(conn, since=day_start, at=at)
            params: dict[str, Any] = snap.model_dump()
            params["total_return"] = (
                Decimal(0) if first is None else ratio_return(snap.equity, first.equity)
            )
            params["daily_return"] = (
                Decimal(0) if base is None else ratio_return(snap.equity, base.equity)
            )
            row = self.queries.insert_equity_point(conn, **params)
        assert row is not None  # INSERT ... RETURNING gives the row
        return row

    def log_risk_metrics(self, **fields: Any) -> RiskMetricsRecord | None:
        """Append a risk snapshot (the fields of `RiskSnapshot`; ``portfolio_value`` required)."""
        params = RiskSnapshot.model_validate(fields).model_dump()
        return self._write(
            "log_risk_metrics",
            self.generate_correlation_id(),
            lambda: self.queries.insert_risk_metrics(self.scope.db(), **params),
        )

    def log_iteration(
        self, summary: IterationSummary | Mapping[str, Any]
    ) -> IterationLogRecord | None:
        """Append the statistics of one pass of the bot's loop; return the stored row."""
        params = _model(IterationSummary, summary).model_dump()
        params["symbols_processed"] = _json_text(params["symbols_processed"])
        params["errors"] = _json_text(params["errors"])
        return self._write(
            "log_iteration",
            self.generate_correlation_id(),
            lambda: self.queries.insert_iteration(self.scope.db(), **params),
        )

    def log_audit_report(self, report: AuditReport | Mapping[str, Any]) -> AuditReportRecord | None:
        """Append one audit report (iteration, daily or weekly); return the stored row."""
        params = _model(AuditReport, report).model_dump()
        params["recommendations"] = _json_text(params["recommendations"])
        params["metrics"] = _json_text(params["metrics"])
        return self._write(
            "log_audit_report",
            self.generate_correlation_id(),
            lambda: self.queries.insert_audit_report(self.scope.db(), **params),
        )


__all__ = ["OnError", "RunRecordWrites", "TradeItem", "ratio_return", "trade_params"]

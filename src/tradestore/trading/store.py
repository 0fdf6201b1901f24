"""`TradeStore`: what a trading bot imports to record and read back its runs.

The store is a thin layer over the named queries in ``sql/trade_history.sql``,
``sql/equity.sql``, ``sql/risk_metrics.sql``, ``sql/iterations.sql`` and
``sql/audit_reports.sql``: it validates the bot's input (`tradestore.trading.inputs`) before any SQL
runs, binds the values, and returns typed rows (`tradestore.trading.models`). It never builds SQL.

Failure policy (``on_error``):

- ``"raise"`` (the default, for library use): a failed write raises the kit's error
  (`QueryError`, `PoolTimeout`, `ConnectionFailed`, ...).
- ``"log"`` (for a bot that must keep trading when its database is down): a failed write is
  logged at ERROR on the ``tradestore.store`` logger, with the operation and the correlation
  id (log_trade / log_trades; an incident id for the other writes), and the call returns as
  if it had succeeded: the correlation id, or None instead of the row. The record is then
  NOT stored; the log line is the only trace of it.
- Always raised, whatever the mode: invalid input (pydantic `ValidationError`, naming the
  field; a bug in the caller that no retry fixes), and any failure inside ``store.transaction()``
  (the transaction is already lost, so the whole block must fail and roll back).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from types import TracebackType
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from tradestore.db.connection import Connection
from tradestore.db.pool import Pool
from tradestore.db.scope import DbScope
from tradestore.db.settings import Settings, load_settings
from tradestore.db.url import DatabaseURL
from tradestore.errors import TradestoreError
from tradestore.schema.introspect import list_tables
from tradestore.schema.migrate import migrate as run_migrations
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
    ReportType,
    RiskMetricsRecord,
    TradeHistoryRecord,
)
from tradestore.trading.queries import load_queries
from tradestore.trading.repositories import bind_all
from tradestore.trading.store_maintenance import StoreMaintenance

OnError = Literal["raise", "log"]
TradeItem = TradeSignal | Mapping[str, Any] | tuple[Any, ...]

NO_LIMIT = 2**62
"""What ``limit=None`` binds: SQLite refuses ``LIMIT NULL``, and no table holds this many rows."""

BOT_RUN_TABLES = (
    "audit_report_log",
    "equity_curve",
    "iteration_log",
    "risk_metrics",
    "trade_history",
)

_RATIO_STEP = Decimal("0.00000001")
_RATIO_BOUND = Decimal(10) ** 12  # numeric(20,8) holds 12 integer digits

logger = logging.getLogger("tradestore.store")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _model(cls: type[M], value: M | Mapping[str, Any]) -> M:
    return value if isinstance(value, cls) else cls.model_validate(value)


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
        return TradeStore.generate_correlation_id()
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValueError("correlation_id must be a non-empty string of at most 200 characters")
    if "\x00" in value:
        # As for every text input (`tradestore.queries.fields.Text`): PostgreSQL cannot store it.
        raise ValueError("correlation_id must not contain NUL characters ('\\x00')")
    return value


class TradeStore(StoreMaintenance):
    """Bot run records (trades, equity, risk, iterations, audit reports) over one pool.

    Attributes: ``pool`` (the `Pool`), ``scope`` (the `DbScope` every call runs in),
    ``queries`` (the built-in named queries), ``settings`` (the `Settings` read from the
    environment when the URL came from it, else None), ``on_error`` (see the module docs).
    """

    def __init__(
        self,
        db: str | DatabaseURL | Pool | None = None,
        *,
        on_error: OnError = "raise",
        migrate: bool = False,
        **pool_knobs: Any,
    ) -> None:
        if on_error not in ("raise", "log"):
            raise ValueError(f"on_error must be 'raise' or 'log', got {on_error!r}")
        self.on_error: OnError = on_error
        self.settings: Settings | None = None
        if isinstance(db, Pool):
            if pool_knobs:
                raise TypeError(
                    f"pool knobs ({', '.join(sorted(pool_knobs))}) apply only to a pool the "
                    "store opens, not to the Pool passed in"
                )
            if migrate:
                run_migrations(db.url)
            self.pool = db
            self.owns_pool = False
        else:
            knobs: dict[str, Any] = {}
            if db is None:
                self.settings = load_settings()
                db = self.settings.url
                knobs = self.settings.pool_knobs()
            knobs.update(pool_knobs)
            if migrate:
                run_migrations(db)
            self.pool = Pool(db, **knobs)
            self.owns_pool = True
        self.scope = DbScope(self.pool)
        self.queries = load_queries()
        # The trading entities and the audit trail share the store's scope, so their writes
        # join `store.transaction()` like the run records do. They always raise: `on_error`
        # covers only the fire-and-forget run records, never an order's state.
        entities = bind_all(self.scope, self.queries)
        self.accounts = entities.accounts
        self.portfolios = entities.portfolios
        self.orders = entities.orders
        self.trades = entities.trades
        self.positions = entities.positions
        self.audit = entities.audit

    @classmethod
    def from_env(
        cls, *, on_error: OnError = "raise", migrate: bool = False, **pool_knobs: Any
    ) -> TradeStore:
        """A store on DATABASE_URL, sized by DB_POOL_SIZE / DB_MAX_OVERFLOW (see settings)."""
        return cls(None, on_error=on_error, migrate=migrate, **pool_knobs)

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the pool if the store opened it; a Pool passed in stays open (its owner's)."""
        if self.owns_pool:
            self.pool.close()

    def __enter__(self) -> TradeStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TradeStore({self.pool.url.redacted!r}, on_error={self.on_error!r})"

    def transaction(self) -> AbstractContextManager[Connection]:
        """Run every store call of this thread inside one transaction: one commit, or none.

        Batching many writes in one commit is much faster than one commit each, and a block
        that raises leaves nothing behind. Nested blocks are savepoints.
        """
        return self.scope.transaction()

    session = transaction
    """Alias of `transaction` (the name bots ported from ORM sessions expect)."""

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
        even when the write failed: the row may then not exist (see the module docs).
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

    # -- reads (every filter optional; newest first; windows are [start_date, end_date)) --

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

    # -- health ------------------------------------------------------------------------

    def health_check(self) -> dict[str, Any]:
        """The pool's health report plus whether the bot run tables exist; never raises.

        ``schema`` is ``{"ready": bool, "missing_tables": [...]}`` (one catalogue query), so a
        bot started against an unmigrated database learns it at start-up, not at its first
        write. The database appears only redacted (never a password).
        """
        report = self.pool.health_check()
        report["on_error"] = self.on_error
        if report["status"] != "healthy":
            report["schema"] = {"ready": False, "missing_tables": None}
            return report
        try:
            present = set(list_tables(self.pool))
        except Exception as exc:  # noqa: BLE001  (reported, not raised)
            report["schema"] = {"ready": False, "missing_tables": None, "error": type(exc).__name__}
            return report
        missing = [name for name in BOT_RUN_TABLES if name not in present]
        report["schema"] = {"ready": not missing, "missing_tables": missing}
        return report


__all__ = ["BOT_RUN_TABLES", "NO_LIMIT", "OnError", "TradeStore", "ratio_return"]

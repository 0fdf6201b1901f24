"""What both faces of the trading store share: input checks, query parameters, the failure
policy's log line, the schema health verdict. No I/O here.

`TradeStore` (``store.py``, sync) and `AsyncTradeStore` (``store_async.py``) are one source:
the async modules are written by hand and the sync ones generated from them
(``tools/async_to_sync.py``). Whatever does no I/O lives once, here, and both import it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Set
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from tradestore.errors import TradestoreError
from tradestore.trading.inputs import EquitySnapshot, ExecutionResult, TradeSignal
from tradestore.trading.models import EquityPoint

OnError = Literal["raise", "log"]
TradeItem = TradeSignal | Mapping[str, Any] | tuple[Any, ...]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: A write the failure policy runs: a function of no arguments doing the write (sync face),
#: or returning the awaitable that does it (async face).
Write = Callable[[], T]
AsyncWrite = Callable[[], Awaitable[T]]

BOT_RUN_TABLES = (
    "audit_report_log",
    "equity_curve",
    "iteration_log",
    "risk_metrics",
    "trade_history",
)

NO_LIMIT = 2**62
"""What ``limit=None`` binds: SQLite refuses ``LIMIT NULL``, and no table holds this many rows."""

_RATIO_STEP = Decimal("0.00000001")
_RATIO_BOUND = Decimal(10) ** 12  # numeric(20,8) holds 12 integer digits

# The store's logger keeps its name (bots route and filter on it), whichever module logs.
logger = logging.getLogger("tradestore.store")


# -- writes ----------------------------------------------------------------------------------


def model_of(cls: type[M], value: M | Mapping[str, Any]) -> M:
    """`value` as a `cls`: validated when it is a mapping."""
    return value if isinstance(value, cls) else cls.model_validate(value)


def json_text(value: Any) -> str:
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


def new_correlation_id() -> str:
    """A fresh correlation id (32 hex digits of a random UUID) tying a signal to its fill."""
    return uuid.uuid4().hex


def checked_correlation_id(value: str | None) -> str:
    """The caller's correlation id, checked, or a fresh one."""
    if value is None:
        return new_correlation_id()
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValueError("correlation_id must be a non-empty string of at most 200 characters")
    if "\x00" in value:
        # As for every text input (`tradestore.queries.fields.Text`): PostgreSQL cannot store it.
        raise ValueError("correlation_id must not contain NUL characters ('\\x00')")
    return value


def trade_params(
    signal: TradeSignal, execution: ExecutionResult | None, correlation_id: str
) -> dict[str, Any]:
    """The parameters of ``upsert_trade_record`` / ``copy_trade_records`` for one trade."""
    params = signal.model_dump()
    run = execution or ExecutionResult(executed=False)
    params.update(run.model_dump())
    params["correlation_id"] = correlation_id
    return params


def trade_rows(items: Iterable[TradeItem]) -> list[dict[str, Any]]:
    """The rows of a bulk `log_trades`, every item validated before any is sent."""
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
                model_of(TradeSignal, signal),
                None if execution is None else model_of(ExecutionResult, execution),
                checked_correlation_id(cid),
            )
        )
    return rows


def equity_params(
    snap: EquitySnapshot, first: EquityPoint | None, base: EquityPoint | None
) -> dict[str, Any]:
    """``insert_equity_point``'s parameters: the snapshot and its returns against the curve's
    first point and the day's base point (0 for the curve's very first point)."""
    params: dict[str, Any] = snap.model_dump()
    params["total_return"] = (
        Decimal(0) if first is None else ratio_return(snap.equity, first.equity)
    )
    params["daily_return"] = Decimal(0) if base is None else ratio_return(snap.equity, base.equity)
    return params


def log_failed_write(operation: str, ref: str, exc: Exception) -> None:
    """``on_error="log"``: the one trace of a record that was NOT stored."""
    logger.error(
        "%s failed, the record was NOT stored (correlation_id=%s): %s: %s",
        operation,
        ref,
        type(exc).__name__,
        exc,
        exc_info=not isinstance(exc, TradestoreError),
        extra={"correlation_id": ref, "operation": operation},
    )


# -- reads -----------------------------------------------------------------------------------


def aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    """A filter bound as-is must be aware: a naive one means different instants per backend."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(dt.UTC)


def limit_of(limit: int | None) -> int:
    if limit is None:
        return NO_LIMIT
    if limit < 0:
        raise ValueError(f"limit must be >= 0 or None (got {limit})")
    return limit


# -- health ----------------------------------------------------------------------------------


def schema_report(present: Set[str]) -> dict[str, Any]:
    """``health_check()["schema"]`` given the tables that exist."""
    missing = [name for name in BOT_RUN_TABLES if name not in present]
    return {"ready": not missing, "missing_tables": missing}


__all__ = [
    "BOT_RUN_TABLES",
    "NO_LIMIT",
    "AsyncWrite",
    "OnError",
    "TradeItem",
    "Write",
    "aware",
    "checked_correlation_id",
    "equity_params",
    "json_text",
    "limit_of",
    "log_failed_write",
    "model_of",
    "new_correlation_id",
    "ratio_return",
    "schema_report",
    "trade_params",
    "trade_rows",
]

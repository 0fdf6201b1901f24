"""What a bot hands the store: validated input models for the bot run records.

Every value is checked here, before any SQL runs, so a bad value fails with a pydantic
`ValidationError` (a `ValueError`) that names the field, instead of a database error later or,
worse, a row that silently differs from what the bot meant:

- money, prices and ratios are `Money`: Decimal within numeric(20,8) (at most 12 digits before
  the point and 8 after; more is refused, never rounded); NaN and infinities are refused; a
  float is taken by its shortest repr (``0.1`` is ``Decimal("0.1")``);
- prices, stops and amounts are >= 0; a BUY or SELL needs a quantity > 0 (a HOLD may be 0);
- actions are BUY, SELL, HOLD (any case in, upper case stored);
- timestamps must be timezone-aware and are converted to UTC; a naive datetime is refused,
  because PostgreSQL would read it in the session's zone and SQLite cannot know any zone;
- each JSON field (symbols, errors, recommendations, metrics) must serialise to at most
  `MAX_JSON_BYTES`; texts are bounded by `MAX_TEXT_CHARS`;
- no text and no JSON string may hold NUL ('\\x00'): PostgreSQL refuses it, SQLite would
  store it, so both refuse it here;
- unknown fields are refused (a typo is an error, not a silently dropped value).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tradestore.queries.fields import Money, Text, UtcDatetime
from tradestore.trading.models import ReportType, TradeAction

MAX_JSON_BYTES = 65_536
"""Largest JSON document one field may hold (UTF-8 bytes), so one runaway log cannot bloat a row."""

MAX_TEXT_CHARS = 10_000
"""Longest free text (reasoning, error message, report summary) stored per field."""

NonNegativeMoney = Annotated[Money, Field(ge=0)]
Confidence = Annotated[Money, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0, le=2_147_483_647)]
ShortText = Annotated[Text, Field(min_length=1, max_length=200)]
LongText = Annotated[Text, Field(max_length=MAX_TEXT_CHARS)]

# NUL as JSON writes it: ``\u0000`` after an even number of backslashes (``\\`` is one
# escaped backslash, so ``\\u0000`` is the text "\u0000", not a NUL).
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC (the default of every `*_time` / `*_at` input)."""
    return dt.datetime.now(dt.UTC)


def _json_sized(value: Any, field: str) -> Any:
    try:
        text = json.dumps(value, separators=(",", ":"), default=str)
    except (TypeError, ValueError) as exc:  # circular structures
        raise ValueError(f"{field} is not serialisable as JSON: {exc}") from None
    if _JSON_NUL.search(text):
        raise ValueError(
            f"{field} must not contain NUL characters ('\\x00'): PostgreSQL jsonb cannot store them"
        )
    size = len(text.encode())
    if size > MAX_JSON_BYTES:
        raise ValueError(
            f"{field} is {size} bytes as JSON, more than the limit of {MAX_JSON_BYTES} bytes"
        )
    return value


class Input(BaseModel):
    """Base of the input models: strict about unknown fields, immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TradeSignal(Input):
    """A trading decision: what the strategy wanted to do, at which prices, and why."""

    symbol: ShortText
    action: TradeAction
    strategy_name: ShortText
    quantity: NonNegativeMoney
    signal_price: NonNegativeMoney | None = None
    stop_loss: NonNegativeMoney | None = None
    take_profit: NonNegativeMoney | None = None
    risk_amount: NonNegativeMoney | None = None
    confidence: Confidence | None = None
    signal_time: UtcDatetime = Field(default_factory=utc_now)
    sharpe_ratio: Money | None = None
    drawdown: Money | None = None
    expectancy: Money | None = None
    reasoning: LongText | None = None

    @field_validator("action", mode="before")
    @classmethod
    def _upper_action(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("quantity")
    @classmethod
    def _positive_quantity(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        # `action` is declared before `quantity`, so it is validated (or failed) already.
        action = info.data.get("action")
        if action != "HOLD" and value <= 0:
            raise ValueError(f"quantity must be > 0 for a {action or 'trade'} (got {value})")
        return value


class ExecutionResult(Input):
    """What the broker did with a signal: filled (at which price, when) or not (and why)."""

    executed: bool
    fill_price: NonNegativeMoney | None = None
    execution_time: UtcDatetime | None = None
    broker_order_id: Annotated[Text, Field(max_length=200)] | None = None
    error_message: LongText | None = None

    @model_validator(mode="after")
    def _executed_has_time(self) -> ExecutionResult:
        # An execution without a time would sort nowhere; stamp it now rather than store NULL.
        if self.executed and self.execution_time is None:
            object.__setattr__(self, "execution_time", utc_now())
        return self


class IterationSummary(Input):
    """The statistics of one pass of a bot's main loop."""

    iteration_number: Count
    started_at: UtcDatetime = Field(default_factory=utc_now)
    symbols_processed: list[str] = Field(default_factory=list)
    signals_generated: Count = 0
    signals_validated: Count = 0
    signals_approved: Count = 0
    signals_executed: Count = 0
    duration_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    errors: list[Any] = Field(default_factory=list)

    @field_validator("symbols_processed", "errors")
    @classmethod
    def _json_limit(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        return list(_json_sized(value, info.field_name or "value"))


class AuditReport(Input):
    """A bot's periodic self-review: a summary, recommendations and the metrics behind them."""

    report_type: ReportType
    generated_at: UtcDatetime = Field(default_factory=utc_now)
    summary: LongText = ""
    recommendations: list[Any] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)

    @field_validator("recommendations", "metrics")
    @classmethod
    def _json_limit(cls, value: Any, info: ValidationInfo) -> Any:
        return _json_sized(value, info.field_name or "value")


class EquitySnapshot(Input):
    """One reading of the account: equity, cash and buying power at a time."""

    equity: Money
    cash: Money
    buying_power: Money
    recorded_at: UtcDatetime = Field(default_factory=utc_now)


class RiskSnapshot(Input):
    """One reading of the bot's risk: exposure, P&L and limits (fields of ``risk_metrics``)."""

    portfolio_value: Money
    open_positions: Count = 0
    total_exposure: NonNegativeMoney = Decimal(0)
    largest_position: NonNegativeMoney = Decimal(0)
    daily_pnl: Money = Decimal(0)
    total_pnl: Money = Decimal(0)
    max_drawdown: Money | None = None
    sharpe_ratio: Money | None = None
    risk_per_trade: Money | None = None
    daily_loss_limit: Money | None = None
    current_daily_loss: Money = Decimal(0)
    recorded_at: UtcDatetime = Field(default_factory=utc_now)


__all__ = [
    "MAX_JSON_BYTES",
    "MAX_TEXT_CHARS",
    "AuditReport",
    "EquitySnapshot",
    "ExecutionResult",
    "IterationSummary",
    "RiskSnapshot",
    "TradeSignal",
    "utc_now",
]

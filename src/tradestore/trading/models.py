"""Row models of the trading schema: one per table and per view, fields named like columns.

These are what queries return (``-- name: ... :many Trade``). Both backends give equal
values: Money columns arrive as Decimal (PostgreSQL numeric) or exact decimal text (SQLite),
times as aware UTC datetimes, JSON decoded, SQLite's 0/1 as bool. A test keeps every model's
fields equal to its table's or view's columns on both backends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tradestore.queries.fields import JsonList, JsonObject, Money, UtcDatetime

TradeAction = Literal["BUY", "SELL", "HOLD"]
OrderType = Literal["market", "limit", "stop", "stop_limit"]
OrderSide = Literal["buy", "sell"]
OrderStatus = Literal["new", "partially_filled", "filled", "cancelled", "rejected"]
PositionSide = Literal["long", "short"]
PositionStatus = Literal["open", "closed"]
AuditSeverity = Literal["debug", "info", "warning", "error", "critical"]
ReportType = Literal["iteration", "daily", "weekly"]


class Row(BaseModel):
    """Base of every row model: immutable, and strict about unknown columns (a query that
    selects a column the model lacks is a mistake `make check-sql` should catch)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- bot run records (migration 0001) -------------------------------------------------------


class TradeHistoryRecord(Row):
    """One signal and what became of it (table ``trade_history``)."""

    correlation_id: str
    symbol: str
    action: TradeAction
    strategy_name: str
    quantity: Money
    signal_price: Money | None = None
    fill_price: Money | None = None
    stop_loss: Money | None = None
    take_profit: Money | None = None
    risk_amount: Money | None = None
    confidence: Money | None = None
    signal_time: UtcDatetime
    execution_time: UtcDatetime | None = None
    broker_order_id: str | None = None
    executed: bool
    error_message: str | None = None
    sharpe_ratio: Money | None = None
    drawdown: Money | None = None
    expectancy: Money | None = None
    reasoning: str | None = None
    created_at: UtcDatetime


class EquityPoint(Row):
    """One point of the equity curve (table ``equity_curve``)."""

    id: int
    recorded_at: UtcDatetime
    equity: Money
    cash: Money
    buying_power: Money
    total_return: Money | None = None
    daily_return: Money | None = None
    created_at: UtcDatetime


class RiskMetricsRecord(Row):
    """A snapshot of portfolio risk (table ``risk_metrics``)."""

    id: int
    recorded_at: UtcDatetime
    open_positions: int
    total_exposure: Money
    largest_position: Money
    portfolio_value: Money
    daily_pnl: Money
    total_pnl: Money
    max_drawdown: Money | None = None
    sharpe_ratio: Money | None = None
    risk_per_trade: Money | None = None
    daily_loss_limit: Money | None = None
    current_daily_loss: Money
    created_at: UtcDatetime


class IterationLogRecord(Row):
    """What one bot iteration did (table ``iteration_log``)."""

    id: int
    iteration_number: int
    started_at: UtcDatetime
    symbols_processed: JsonList
    signals_generated: int
    signals_validated: int
    signals_approved: int
    signals_executed: int
    duration_seconds: float | None = None
    errors: JsonList
    created_at: UtcDatetime


class AuditReportRecord(Row):
    """A generated audit report (table ``audit_report_log``)."""

    id: int
    report_type: ReportType
    generated_at: UtcDatetime
    summary: str
    recommendations: JsonList
    metrics: JsonObject
    created_at: UtcDatetime


# --- trading entities (migrations 0002, 0003) ------------------------------------------------


class Account(Row):
    """A trading account (table ``accounts``)."""

    id: int
    name: str
    account_type: str
    base_currency: str
    cash_balance: Money
    total_equity: Money
    buying_power: Money
    maintenance_margin: Money
    risk_parameters: JsonObject
    is_active: bool
    metadata: JsonObject
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int


class Portfolio(Row):
    """A portfolio of one account (table ``portfolios``)."""

    id: int
    account_id: int
    name: str
    base_currency: str
    cash: Money
    total_value: Money
    metrics: JsonObject
    metadata: JsonObject
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int


class Order(Row):
    """An order and its fill state (table ``orders``)."""

    id: int
    portfolio_id: int
    account_id: int | None = None
    broker_order_id: str | None = None
    symbol: str
    asset_class: str
    order_type: OrderType
    side: OrderSide
    quantity: Money
    limit_price: Money | None = None
    stop_price: Money | None = None
    status: OrderStatus
    filled_quantity: Money
    average_fill_price: Money | None = None
    strategy_id: str | None = None
    metadata: JsonObject
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int


class Trade(Row):
    """One fill of an order (table ``trades``)."""

    id: int
    order_id: int
    symbol: str
    side: OrderSide
    quantity: Money
    price: Money
    commission: Money
    executed_at: UtcDatetime
    strategy_id: str | None = None
    metadata: JsonObject
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int


class Position(Row):
    """A position held by a portfolio (table ``positions``)."""

    id: int
    portfolio_id: int
    symbol: str
    side: PositionSide
    quantity: Money
    entry_price: Money
    entry_time: UtcDatetime
    current_price: Money | None = None
    exit_price: Money | None = None
    exit_time: UtcDatetime | None = None
    realized_pnl: Money
    unrealized_pnl: Money
    status: PositionStatus
    strategy_id: str | None = None
    metadata: JsonObject
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int


class AuditLog(Row):
    """One append-only audit entry (table ``audit_logs``)."""

    id: int
    occurred_at: UtcDatetime
    action: str
    entity_type: str
    entity_id: str
    user_id: str | None = None
    strategy_id: str | None = None
    old_values: JsonObject | None = None
    new_values: JsonObject | None = None
    metadata: JsonObject
    severity: AuditSeverity
    created_at: UtcDatetime


# --- reporting views (migration 0005) --------------------------------------------------------


class DailyStrategyPnl(Row):
    """Realized P&L of one strategy on one UTC day (view ``daily_strategy_pnl``).

    `realized_pnl` is an exact sum, so it is a plain Decimal (no numeric(20,8) bound).
    """

    strategy_id: str | None = None
    trade_date: dt.date
    closed_positions: int
    realized_pnl: Decimal


class OpenPositionPnl(Row):
    """An open position marked at its current price (view ``open_positions_pnl``).

    `market_value` and `unrealized_pnl` are exact products (up to 16 decimal places), so
    they are plain Decimals rather than Money.
    """

    position_id: int
    portfolio_id: int
    account_id: int
    symbol: str
    side: PositionSide
    quantity: Money
    entry_price: Money
    entry_time: UtcDatetime
    current_price: Money | None = None
    market_value: Decimal | None = None
    unrealized_pnl: Decimal
    strategy_id: str | None = None

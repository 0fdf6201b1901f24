-- Trade history: one row per signal a bot acted on (or declined), keyed by its correlation id,
-- with the execution result once known. Written by TradeStore.log_trade / log_trades.

-- name: upsert_trade_record :one TradeHistoryRecord
-- Record one signal and its execution; logging the same correlation id again replaces the
-- row's values (a retry, or the execution result arriving after the signal).
INSERT INTO trade_history (
    correlation_id, symbol, action, strategy_name, quantity, signal_price, fill_price, stop_loss,
    take_profit, risk_amount, confidence, signal_time, execution_time, broker_order_id, executed,
    error_message, sharpe_ratio, drawdown, expectancy, reasoning
)
VALUES (
    :correlation_id, :symbol, :action, :strategy_name, :quantity, :signal_price, :fill_price,
    :stop_loss, :take_profit, :risk_amount, :confidence, :signal_time, :execution_time,
    :broker_order_id, :executed, :error_message, :sharpe_ratio, :drawdown, :expectancy, :reasoning
)
ON CONFLICT (correlation_id) DO UPDATE
SET symbol = excluded.symbol,
    action = excluded.action,
    strategy_name = excluded.strategy_name,
    quantity = excluded.quantity,
    signal_price = excluded.signal_price,
    fill_price = excluded.fill_price,
    stop_loss = excluded.stop_loss,
    take_profit = excluded.take_profit,
    risk_amount = excluded.risk_amount,
    confidence = excluded.confidence,
    signal_time = excluded.signal_time,
    execution_time = excluded.execution_time,
    broker_order_id = excluded.broker_order_id,
    executed = excluded.executed,
    error_message = excluded.error_message,
    sharpe_ratio = excluded.sharpe_ratio,
    drawdown = excluded.drawdown,
    expectancy = excluded.expectancy,
    reasoning = excluded.reasoning
RETURNING correlation_id, symbol, action, strategy_name, quantity, signal_price, fill_price, stop_loss,
    take_profit, risk_amount, confidence, signal_time, execution_time, broker_order_id, executed,
    error_message, sharpe_ratio, drawdown, expectancy, reasoning, created_at;

-- name: copy_trade_records :copyfrom
-- Bulk-load many trade records at once (COPY on PostgreSQL, one executemany transaction on
-- SQLite); a correlation id already present fails the whole batch.
INSERT INTO trade_history (
    correlation_id, symbol, action, strategy_name, quantity, signal_price, fill_price, stop_loss,
    take_profit, risk_amount, confidence, signal_time, execution_time, broker_order_id, executed,
    error_message, sharpe_ratio, drawdown, expectancy, reasoning
)
VALUES (
    :correlation_id, :symbol, :action, :strategy_name, :quantity, :signal_price, :fill_price,
    :stop_loss, :take_profit, :risk_amount, :confidence, :signal_time, :execution_time,
    :broker_order_id, :executed, :error_message, :sharpe_ratio, :drawdown, :expectancy, :reasoning
);

-- name: get_trade_record :one TradeHistoryRecord
-- One trade record by correlation id, or None.
SELECT correlation_id, symbol, action, strategy_name, quantity, signal_price, fill_price, stop_loss,
    take_profit, risk_amount, confidence, signal_time, execution_time, broker_order_id, executed,
    error_message, sharpe_ratio, drawdown, expectancy, reasoning, created_at
FROM trade_history
WHERE correlation_id = :correlation_id;

-- name: trade_history :many TradeHistoryRecord
-- Trade records newest first (by signal time), optionally of one symbol, executed or not,
-- signalled in [start_date, end_date).
SELECT correlation_id, symbol, action, strategy_name, quantity, signal_price, fill_price, stop_loss,
    take_profit, risk_amount, confidence, signal_time, execution_time, broker_order_id, executed,
    error_message, sharpe_ratio, drawdown, expectancy, reasoning, created_at
FROM trade_history
WHERE (CAST(:symbol AS TEXT) IS NULL OR symbol = :symbol)
    AND (CAST(:executed AS BOOLEAN) IS NULL OR executed = :executed)
    AND (CAST(:start_date AS TIMESTAMPTZ) IS NULL OR signal_time >= :start_date)
    AND (CAST(:end_date AS TIMESTAMPTZ) IS NULL OR signal_time < :end_date)
ORDER BY signal_time DESC, created_at DESC, correlation_id DESC
LIMIT :limit;

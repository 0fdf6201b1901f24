-- Retention: purge old audit rows, and move old rows of the time-keyed tables out to a file
-- in short batches (tradestore.trading.retention). One fixed set of queries per table: the table
-- name is never a parameter.

-- name: retention_purge_audit_logs :execrows
-- Delete one batch of audit rows older than the cutoff (short transactions, no long lock).
DELETE FROM audit_logs
WHERE id IN (
    SELECT id
    FROM audit_logs
    WHERE occurred_at < :older_than
    ORDER BY id
    LIMIT :limit
);

-- name: retention_count_audit_logs :scalar
-- How many audit_logs rows are older than the cutoff (the archive's progress total).
SELECT COUNT(*)
FROM audit_logs
WHERE occurred_at < :older_than;

-- name: retention_batch_audit_logs :many AuditLog
-- The oldest audit_logs rows before the cutoff, one archive batch.
SELECT id, occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity, created_at
FROM audit_logs
WHERE occurred_at < :older_than
ORDER BY occurred_at, id
LIMIT :limit;

-- name: retention_delete_audit_logs :execrows
-- Delete the audit_logs rows of one archive batch, by key, once they are safely on disk.
DELETE FROM audit_logs
WHERE id = ANY(CAST(:keys AS BIGINT[]));

-- name: retention_count_trade_history :scalar
-- How many trade_history rows are older than the cutoff (the archive's progress total).
SELECT COUNT(*)
FROM trade_history
WHERE signal_time < :older_than;

-- name: retention_batch_trade_history :many TradeHistoryRecord
-- The oldest trade_history rows before the cutoff, one archive batch.
SELECT correlation_id, symbol, action, strategy_name, quantity, signal_price, fill_price,
    stop_loss, take_profit, risk_amount, confidence, signal_time, execution_time,
    broker_order_id, executed, error_message, sharpe_ratio, drawdown, expectancy, reasoning,
    created_at
FROM trade_history
WHERE signal_time < :older_than
ORDER BY signal_time, correlation_id
LIMIT :limit;

-- name: retention_delete_trade_history :execrows
-- Delete the trade_history rows of one archive batch, by key, once they are safely on disk.
DELETE FROM trade_history
WHERE correlation_id = ANY(CAST(:keys AS TEXT[]));

-- name: retention_count_equity_curve :scalar
-- How many equity_curve rows are older than the cutoff (the archive's progress total).
SELECT COUNT(*)
FROM equity_curve
WHERE recorded_at < :older_than;

-- name: retention_batch_equity_curve :many EquityPoint
-- The oldest equity_curve rows before the cutoff, one archive batch.
SELECT id, recorded_at, equity, cash, buying_power, total_return, daily_return, created_at
FROM equity_curve
WHERE recorded_at < :older_than
ORDER BY recorded_at, id
LIMIT :limit;

-- name: retention_delete_equity_curve :execrows
-- Delete the equity_curve rows of one archive batch, by key, once they are safely on disk.
DELETE FROM equity_curve
WHERE id = ANY(CAST(:keys AS BIGINT[]));

-- name: retention_count_risk_metrics :scalar
-- How many risk_metrics rows are older than the cutoff (the archive's progress total).
SELECT COUNT(*)
FROM risk_metrics
WHERE recorded_at < :older_than;

-- name: retention_batch_risk_metrics :many RiskMetricsRecord
-- The oldest risk_metrics rows before the cutoff, one archive batch.
SELECT id, recorded_at, open_positions, total_exposure, largest_position, portfolio_value,
    daily_pnl, total_pnl, max_drawdown, sharpe_ratio, risk_per_trade, daily_loss_limit,
    current_daily_loss, created_at
FROM risk_metrics
WHERE recorded_at < :older_than
ORDER BY recorded_at, id
LIMIT :limit;

-- name: retention_delete_risk_metrics :execrows
-- Delete the risk_metrics rows of one archive batch, by key, once they are safely on disk.
DELETE FROM risk_metrics
WHERE id = ANY(CAST(:keys AS BIGINT[]));

-- name: retention_count_iteration_log :scalar
-- How many iteration_log rows are older than the cutoff (the archive's progress total).
SELECT COUNT(*)
FROM iteration_log
WHERE started_at < :older_than;

-- name: retention_batch_iteration_log :many IterationLogRecord
-- The oldest iteration_log rows before the cutoff, one archive batch.
SELECT id, iteration_number, started_at, symbols_processed, signals_generated,
    signals_validated, signals_approved, signals_executed, duration_seconds, errors, created_at
FROM iteration_log
WHERE started_at < :older_than
ORDER BY started_at, id
LIMIT :limit;

-- name: retention_delete_iteration_log :execrows
-- Delete the iteration_log rows of one archive batch, by key, once they are safely on disk.
DELETE FROM iteration_log
WHERE id = ANY(CAST(:keys AS BIGINT[]));

-- name: retention_count_audit_report_log :scalar
-- How many audit_report_log rows are older than the cutoff (the archive's progress total).
SELECT COUNT(*)
FROM audit_report_log
WHERE generated_at < :older_than;

-- name: retention_batch_audit_report_log :many AuditReportRecord
-- The oldest audit_report_log rows before the cutoff, one archive batch.
SELECT id, report_type, generated_at, summary, recommendations, metrics, created_at
FROM audit_report_log
WHERE generated_at < :older_than
ORDER BY generated_at, id
LIMIT :limit;

-- name: retention_delete_audit_report_log :execrows
-- Delete the audit_report_log rows of one archive batch, by key, once they are safely on disk.
DELETE FROM audit_report_log
WHERE id = ANY(CAST(:keys AS BIGINT[]));

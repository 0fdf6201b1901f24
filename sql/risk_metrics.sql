-- Risk metrics: periodic snapshots of the bot's exposure, P&L and limits.

-- name: insert_risk_metrics :one RiskMetricsRecord
-- Append one risk snapshot and return it.
INSERT INTO risk_metrics (
    recorded_at, open_positions, total_exposure, largest_position, portfolio_value, daily_pnl,
    total_pnl, max_drawdown, sharpe_ratio, risk_per_trade, daily_loss_limit, current_daily_loss
)
VALUES (
    :recorded_at, :open_positions, :total_exposure, :largest_position, :portfolio_value,
    :daily_pnl, :total_pnl, :max_drawdown, :sharpe_ratio, :risk_per_trade, :daily_loss_limit,
    :current_daily_loss
)
RETURNING id, recorded_at, open_positions, total_exposure, largest_position, portfolio_value, daily_pnl,
    total_pnl, max_drawdown, sharpe_ratio, risk_per_trade, daily_loss_limit, current_daily_loss,
    created_at;

-- name: risk_metrics :many RiskMetricsRecord
-- Risk snapshots newest first, recorded in [start_date, end_date).
SELECT id, recorded_at, open_positions, total_exposure, largest_position, portfolio_value, daily_pnl,
    total_pnl, max_drawdown, sharpe_ratio, risk_per_trade, daily_loss_limit, current_daily_loss,
    created_at
FROM risk_metrics
WHERE (CAST(:start_date AS TIMESTAMPTZ) IS NULL OR recorded_at >= :start_date)
    AND (CAST(:end_date AS TIMESTAMPTZ) IS NULL OR recorded_at < :end_date)
ORDER BY recorded_at DESC, id DESC
LIMIT :limit;

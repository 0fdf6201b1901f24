-- PostgreSQL variants of sql/positions.sql.

-- name: lock_position :one Position
-- One position by id, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
-- BEGIN IMMEDIATE already holds the write lock).
SELECT id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version
FROM positions
WHERE id = :id
FOR UPDATE;

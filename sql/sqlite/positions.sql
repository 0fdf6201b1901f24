-- SQLite variants of sql/positions.sql: an UPDATE sets updated_at itself, because RETURNING
-- shows the row before the AFTER UPDATE touch trigger would change it.

-- name: update_position :one Position
-- Write every mutable column if the row still has the version the caller read; bumps version.
-- None back means the id is gone or another writer got there first (stale version).
UPDATE positions
SET quantity = :quantity,
    entry_price = :entry_price,
    current_price = :current_price,
    exit_price = :exit_price,
    exit_time = :exit_time,
    realized_pnl = :realized_pnl,
    unrealized_pnl = :unrealized_pnl,
    status = :status,
    strategy_id = :strategy_id,
    metadata = :metadata,
    updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'),
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version;

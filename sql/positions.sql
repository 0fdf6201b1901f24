-- Positions: open, read, list, and the one optimistic-locking UPDATE that marking to market,
-- closing and amending go through (tradestore.trading.repositories.positions).

-- name: insert_position :one Position
-- Open one position; a second open position for the same portfolio and symbol is refused
-- by the positions_one_open_per_symbol_idx unique index.
INSERT INTO positions (
    portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    strategy_id, metadata
)
VALUES (
    :portfolio_id, :symbol, :side, :quantity, :entry_price, :entry_time, :current_price,
    :strategy_id, :metadata
)
RETURNING id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version;

-- name: get_position :one Position
-- One position by id, or None.
SELECT id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version
FROM positions
WHERE id = :id;

-- name: lock_position :one Position
-- One position by id, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
-- BEGIN IMMEDIATE already holds the write lock).
SELECT id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version
FROM positions
WHERE id = :id;

-- name: list_positions :many Position
-- Positions in id order, optionally of one portfolio, status and symbol.
SELECT id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version
FROM positions
WHERE (CAST(:portfolio_id AS BIGINT) IS NULL OR portfolio_id = :portfolio_id)
    AND (CAST(:status AS TEXT) IS NULL OR status = :status)
    AND (CAST(:symbol AS TEXT) IS NULL OR symbol = :symbol)
ORDER BY id
LIMIT :limit;

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
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version;

-- name: delete_position :one Position
-- Delete a position if it still has the version the caller read; returns the deleted row.
DELETE FROM positions
WHERE id = :id
    AND version = :version
RETURNING id, portfolio_id, symbol, side, quantity, entry_price, entry_time, current_price,
    exit_price, exit_time, realized_pnl, unrealized_pnl, status, strategy_id, metadata,
    created_at, updated_at, version;

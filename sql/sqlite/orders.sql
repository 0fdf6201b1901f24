-- SQLite variants of sql/orders.sql: an UPDATE sets updated_at itself, because RETURNING
-- shows the row before the AFTER UPDATE touch trigger would change it.

-- name: update_order :one Order
-- Write every mutable column if the row still has the version the caller read; bumps version.
-- None back means the id is gone or another writer got there first (stale version).
UPDATE orders
SET broker_order_id = :broker_order_id,
    quantity = :quantity,
    limit_price = :limit_price,
    stop_price = :stop_price,
    status = :status,
    filled_quantity = :filled_quantity,
    average_fill_price = :average_fill_price,
    strategy_id = :strategy_id,
    metadata = :metadata,
    updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'),
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version;

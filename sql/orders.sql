-- Orders: submit, read, list, and the one optimistic-locking UPDATE every lifecycle step
-- (fill, cancel, reject, amend) goes through (tradestore.trading.repositories.orders).

-- name: insert_order :one Order
-- Submit one order (status 'new') and return it with its id, timestamps and version 1.
INSERT INTO orders (
    portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, strategy_id, metadata
)
VALUES (
    :portfolio_id, :account_id, :broker_order_id, :symbol, :asset_class, :order_type, :side,
    :quantity, :limit_price, :stop_price, :strategy_id, :metadata
)
RETURNING id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version;

-- name: get_order :one Order
-- One order by id, or None.
SELECT id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version
FROM orders
WHERE id = :id;

-- name: lock_order :one Order
-- One order by id, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
-- BEGIN IMMEDIATE already holds the write lock), so a fill reads the state it changes.
SELECT id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version
FROM orders
WHERE id = :id;

-- name: list_orders :many Order
-- Orders newest first, optionally of one portfolio, status, symbol and strategy.
SELECT id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version
FROM orders
WHERE (CAST(:portfolio_id AS BIGINT) IS NULL OR portfolio_id = :portfolio_id)
    AND (CAST(:status AS TEXT) IS NULL OR status = :status)
    AND (CAST(:symbol AS TEXT) IS NULL OR symbol = :symbol)
    AND (CAST(:strategy_id AS TEXT) IS NULL OR strategy_id = :strategy_id)
ORDER BY id DESC
LIMIT :limit;

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
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version;

-- name: delete_order :one Order
-- Delete an order (one without trades: the trades foreign key refuses the others) if it
-- still has the version the caller read; returns the deleted row.
DELETE FROM orders
WHERE id = :id
    AND version = :version
RETURNING id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version;

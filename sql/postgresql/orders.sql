-- PostgreSQL variants of sql/orders.sql.

-- name: lock_order :one Order
-- One order by id, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
-- BEGIN IMMEDIATE already holds the write lock), so a fill reads the state it changes.
SELECT id, portfolio_id, account_id, broker_order_id, symbol, asset_class, order_type, side,
    quantity, limit_price, stop_price, status, filled_quantity, average_fill_price, strategy_id,
    metadata, created_at, updated_at, version
FROM orders
WHERE id = :id
FOR UPDATE;

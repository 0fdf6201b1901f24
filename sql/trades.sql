-- Trades: the fills of orders. Inserted only by an order fill, in the fill's transaction.

-- name: insert_trade :one Trade
-- Record one fill of an order and return it.
INSERT INTO trades (
    order_id, symbol, side, quantity, price, commission, executed_at, strategy_id, metadata
)
VALUES (
    :order_id, :symbol, :side, :quantity, :price, :commission, :executed_at, :strategy_id,
    :metadata
)
RETURNING id, order_id, symbol, side, quantity, price, commission, executed_at, strategy_id, metadata,
    created_at, updated_at, version;

-- name: get_trade :one Trade
-- One trade by id, or None.
SELECT id, order_id, symbol, side, quantity, price, commission, executed_at, strategy_id, metadata,
    created_at, updated_at, version
FROM trades
WHERE id = :id;

-- name: trades_of_order :many Trade
-- Every fill of one order, oldest first (the average fill price is computed from them).
SELECT id, order_id, symbol, side, quantity, price, commission, executed_at, strategy_id, metadata,
    created_at, updated_at, version
FROM trades
WHERE order_id = :order_id
ORDER BY executed_at, id;

-- name: list_trades :many Trade
-- Trades newest first, optionally of one order and symbol, executed in [start, end).
SELECT id, order_id, symbol, side, quantity, price, commission, executed_at, strategy_id, metadata,
    created_at, updated_at, version
FROM trades
WHERE (CAST(:order_id AS BIGINT) IS NULL OR order_id = :order_id)
    AND (CAST(:symbol AS TEXT) IS NULL OR symbol = :symbol)
    AND (CAST(:start AS TIMESTAMPTZ) IS NULL OR executed_at >= :start)
    AND (CAST(:end AS TIMESTAMPTZ) IS NULL OR executed_at < :end)
ORDER BY executed_at DESC, id DESC
LIMIT :limit;

-- Benchmark queries over the `trades` bench fixture (benchmarks/ddl), not the product schema.

-- name: get_trade :one BenchTrade
-- W1: one trade by primary key.
SELECT id, symbol, side, qty, price, ts
FROM trades
WHERE id = :id;

-- name: insert_trade :scalar
-- W2: insert one trade and return its id.
INSERT INTO trades (symbol, side, qty, price, ts)
VALUES (:symbol, :side, :qty, :price, :ts)
RETURNING id;

-- name: trades_between :many BenchTrade
-- W3: one symbol's trades in a half-open time window, oldest first.
SELECT id, symbol, side, qty, price, ts
FROM trades
WHERE symbol = :symbol
  AND ts >= :since
  AND ts < :until
ORDER BY ts;

-- name: load_bulk_trades :copyfrom
-- W4: bulk load (COPY on PostgreSQL, one executemany transaction on SQLite).
INSERT INTO bulk_trades (symbol, side, qty, price, ts)
VALUES (:symbol, :side, :qty, :price, :ts);

-- name: stream_trades :iter BenchTrade
-- W6: the first `n` rows of the streaming table, in id order.
SELECT id, symbol, side, qty, price, ts
FROM stream_trades
WHERE id <= :n
ORDER BY id;

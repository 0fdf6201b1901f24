-- Fixture queries over the `fills` table of tests/sql_fixtures/schema.

-- name: add_fill :one Fill
-- Insert one fill and return it.
INSERT INTO fills (symbol, qty, price, ts, is_buy, meta)
VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta)
RETURNING id, symbol, qty, price, ts, is_buy, meta;

-- name: get_fill :one Fill
-- One fill by id.
SELECT id, symbol, qty, price, ts, is_buy, meta
FROM fills
WHERE id = :id;

-- name: fills_for :many Fill
-- Fills of one symbol, or of all symbols when symbol is None.
SELECT id, symbol, qty, price, ts, is_buy, meta
FROM fills
WHERE (CAST(:symbol AS TEXT) IS NULL OR symbol = :symbol)
ORDER BY id;

-- name: stream_fills :iter Fill
-- Every fill, streamed.
SELECT id, symbol, qty, price, ts, is_buy, meta
FROM fills
ORDER BY id;

-- name: fill_rows :many
-- Rows without a model come back as dicts.
SELECT id, symbol
FROM fills
ORDER BY id;

-- name: count_fills :scalar
SELECT COUNT(*)
FROM fills
WHERE symbol = :symbol;

-- name: symbols_ending :many
-- A literal % must reach the database intact.
SELECT symbol
FROM fills
WHERE symbol LIKE '%' || :suffix
ORDER BY id;

-- name: set_meta :exec
UPDATE fills
SET meta = :meta
WHERE id = :id;

-- name: delete_symbol :execrows
DELETE FROM fills
WHERE symbol = :symbol;

-- name: load_fills :copyfrom
INSERT INTO fills (symbol, qty, price, ts, is_buy, meta)
VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta);

-- name: fills_by_ids :many Fill
-- Portable fallback; each dialect overrides it with its list idiom.
SELECT id, symbol, qty, price, ts, is_buy, meta
FROM fills
WHERE id = :ids
ORDER BY id;

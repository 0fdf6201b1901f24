-- Queries that check-sql must reject, one problem each.

-- name: missing_field :one Fill
SELECT id, symbol, qty, price, ts, is_buy
FROM fills
WHERE id = :id;

-- name: extra_column :many Fill
SELECT id, symbol, qty, price, ts, is_buy, meta, 1 AS bonus
FROM fills;

-- name: mistyped_field :many Fill
SELECT id, symbol, CAST(qty AS TEXT) AS qty, price, ts, is_buy, meta
FROM fills;

-- name: bad_syntax :many
SELECT id
FROM fills
WHERE;

-- name: unknown_column :scalar
SELECT nope
FROM fills;

-- name: two_columns :scalar
SELECT id, symbol
FROM fills;

-- name: same_names :many
SELECT id AS a, symbol AS a
FROM fills;

-- name: same_names_model :batchone Fill
SELECT id, symbol, qty, price, ts, is_buy, meta, symbol AS qty
FROM fills
WHERE id = :id;

-- name: text_last_id :execlastid
INSERT INTO fills (symbol, qty, price, ts, is_buy, meta)
VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta)
RETURNING symbol;

-- name: batch_mistyped :batchmany Fill
SELECT id, symbol, CAST(qty AS TEXT) AS qty, price, ts, is_buy, meta
FROM fills
WHERE symbol = :symbol;

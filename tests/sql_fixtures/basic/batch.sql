-- Fixture queries for :execlastid and the :batch family over the `fills` table.

-- name: add_fill_id :execlastid
-- Insert one fill and give its id: SQLite's lastrowid (postgresql/ids.sql says RETURNING id).
INSERT INTO fills (symbol, qty, price, ts, is_buy, meta)
VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta);

-- name: add_fill_if_new :execlastid
-- Insert a fill under a given id unless that id exists: its id, or None.
INSERT INTO fills (id, symbol, qty, price, ts, is_buy, meta)
VALUES (:id, :symbol, :qty, :price, :ts, :is_buy, :meta)
ON CONFLICT (id) DO NOTHING
RETURNING id;

-- name: add_fills :batchone Fill
-- Insert fills and return each one.
INSERT INTO fills (symbol, qty, price, ts, is_buy, meta)
VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta)
RETURNING id, symbol, qty, price, ts, is_buy, meta;

-- name: fill_symbols :batchone
-- The id and symbol of each fill asked for, or None.
SELECT id, symbol
FROM fills
WHERE id = :id;

-- name: fills_of_symbols :batchmany Fill
-- The fills of each symbol asked for, oldest first.
SELECT id, symbol, qty, price, ts, is_buy, meta
FROM fills
WHERE symbol = :symbol
ORDER BY id;

-- name: set_metas :batchexec
-- Replace the meta of many fills at once.
UPDATE fills
SET meta = :meta
WHERE id = :id;

-- name: add_fill_if_new :execlastid
-- SQLite's lastrowid path: an ignored insert changes no row and gives None.
INSERT OR IGNORE INTO fills (id, symbol, qty, price, ts, is_buy, meta)
VALUES (:id, :symbol, :qty, :price, :ts, :is_buy, :meta);

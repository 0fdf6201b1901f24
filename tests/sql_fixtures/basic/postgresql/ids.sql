-- name: add_fill_id :execlastid
-- PostgreSQL has no lastrowid: the statement names its id.
INSERT INTO fills (symbol, qty, price, ts, is_buy, meta)
VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta)
RETURNING id;

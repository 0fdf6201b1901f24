-- name: fills_by_ids :many Fill
-- PostgreSQL lists: = ANY(:ids).
SELECT id, symbol, qty, price, ts, is_buy, meta
FROM fills
WHERE id = ANY(:ids)
ORDER BY id;

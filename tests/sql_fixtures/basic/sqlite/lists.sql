-- name: fills_by_ids :many Fill
-- SQLite lists: IN (SELECT value FROM json_each(:ids)).
SELECT id, symbol, qty, price, ts, is_buy, meta
FROM fills
WHERE id IN (SELECT value FROM json_each(:ids))
ORDER BY id;

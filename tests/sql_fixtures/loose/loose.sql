-- Queries whose row models take any value in some fields: check-sql must not judge those.

-- name: loose_fill :one LooseFill
-- One fill into fields typed Any, object, Any | None, a union, a TypeVar and a plain Enum.
SELECT
    id,
    symbol,
    qty,
    ts,
    meta,
    is_buy,
    CASE WHEN is_buy THEN 'BUY' ELSE 'SELL' END AS side
FROM fills
WHERE id = :id;

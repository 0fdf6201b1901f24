-- Equity curve: one point per snapshot of the account's equity, with the returns the store
-- computed from the curve (TradeStore.log_equity_snapshot).

-- name: insert_equity_point :one EquityPoint
-- Append one equity point and return it.
INSERT INTO equity_curve (
    recorded_at, equity, cash, buying_power, total_return, daily_return
)
VALUES (
    :recorded_at, :equity, :cash, :buying_power, :total_return, :daily_return
)
RETURNING id, recorded_at, equity, cash, buying_power, total_return, daily_return, created_at;

-- name: first_equity_point :one EquityPoint
-- The oldest point of the curve up to a time (the base of the total return), or None.
SELECT id, recorded_at, equity, cash, buying_power, total_return, daily_return, created_at
FROM equity_curve
WHERE recorded_at <= :at
ORDER BY recorded_at ASC, id ASC
LIMIT 1;

-- name: last_equity_point_before :one EquityPoint
-- The newest point recorded strictly before a time (the base of the daily return: the last
-- point of the previous UTC day), or None.
SELECT id, recorded_at, equity, cash, buying_power, total_return, daily_return, created_at
FROM equity_curve
WHERE recorded_at < :before
ORDER BY recorded_at DESC, id DESC
LIMIT 1;

-- name: first_equity_point_since :one EquityPoint
-- The oldest point recorded in [since, at] (the day's opening point, the base of the daily
-- return when there is no point on an earlier day), or None.
SELECT id, recorded_at, equity, cash, buying_power, total_return, daily_return, created_at
FROM equity_curve
WHERE recorded_at >= :since
    AND recorded_at <= :at
ORDER BY recorded_at ASC, id ASC
LIMIT 1;

-- name: equity_curve :many EquityPoint
-- Equity points newest first, recorded in [start_date, end_date).
SELECT id, recorded_at, equity, cash, buying_power, total_return, daily_return, created_at
FROM equity_curve
WHERE (CAST(:start_date AS TIMESTAMPTZ) IS NULL OR recorded_at >= :start_date)
    AND (CAST(:end_date AS TIMESTAMPTZ) IS NULL OR recorded_at < :end_date)
ORDER BY recorded_at DESC, id DESC
LIMIT :limit;

-- Reporting views. daily_strategy_pnl: realized P&L of closed positions per strategy and
-- UTC day. open_positions_pnl: open positions with market value and unrealized P&L marked
-- at current_price (the stored unrealized_pnl when no price is known yet).
-- Arithmetic is exact numeric; results are not rounded.
-- depends: 0004_indexes

CREATE VIEW daily_strategy_pnl AS
SELECT
    p.strategy_id AS strategy_id,
    CAST(p.exit_time AT TIME ZONE 'UTC' AS DATE) AS trade_date,
    COUNT(*) AS closed_positions,
    SUM(p.realized_pnl) AS realized_pnl
FROM positions AS p
WHERE p.status = 'closed'
GROUP BY p.strategy_id, CAST(p.exit_time AT TIME ZONE 'UTC' AS DATE);

CREATE VIEW open_positions_pnl AS
SELECT
    p.id AS position_id,
    p.portfolio_id AS portfolio_id,
    pf.account_id AS account_id,
    p.symbol AS symbol,
    p.side AS side,
    p.quantity AS quantity,
    p.entry_price AS entry_price,
    p.entry_time AS entry_time,
    p.current_price AS current_price,
    p.current_price * p.quantity AS market_value,
    CASE
        WHEN p.current_price IS NULL THEN p.unrealized_pnl
        WHEN p.side = 'long' THEN (p.current_price - p.entry_price) * p.quantity
        ELSE (p.entry_price - p.current_price) * p.quantity
    END AS unrealized_pnl,
    p.strategy_id AS strategy_id
FROM positions AS p
JOIN portfolios AS pf ON pf.id = p.portfolio_id
WHERE p.status = 'open';

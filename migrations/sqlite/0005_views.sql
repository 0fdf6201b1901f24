-- Reporting views. daily_strategy_pnl: realized P&L of closed positions per strategy and
-- UTC day. open_positions_pnl: open positions with market value and unrealized P&L marked
-- at current_price (the stored unrealized_pnl when no price is known yet).
-- SQLite twin of migrations/postgresql/0005. Exact decimal math uses decimal_sum /
-- decimal_sub / decimal_mul: SQLite resolves functions when a view is queried, not when it
-- is created, so this migration applies anywhere (yoyo's CLI included); querying the views
-- needs a tradestore connection (the kit registers the functions) or a sqlite3 shell, which
-- bundles SQLite's decimal extension with the same names.
-- depends: 0004_indexes

CREATE VIEW daily_strategy_pnl AS
SELECT
    p.strategy_id AS strategy_id,
    substr(p.exit_time, 1, 10) AS trade_date,
    COUNT(*) AS closed_positions,
    decimal_sum(p.realized_pnl) AS realized_pnl
FROM positions AS p
WHERE p.status = 'closed'
GROUP BY p.strategy_id, substr(p.exit_time, 1, 10);

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
    decimal_mul(p.current_price, p.quantity) AS market_value,
    CASE
        WHEN p.current_price IS NULL THEN p.unrealized_pnl
        WHEN p.side = 'long' THEN decimal_mul(decimal_sub(p.current_price, p.entry_price), p.quantity)
        ELSE decimal_mul(decimal_sub(p.entry_price, p.current_price), p.quantity)
    END AS unrealized_pnl,
    p.strategy_id AS strategy_id
FROM positions AS p
JOIN portfolios AS pf ON pf.id = p.portfolio_id
WHERE p.status = 'open';

-- Bot run records: what one trading bot writes each iteration (signals and fills, equity,
-- risk snapshots, iteration statistics, audit reports). Append-mostly history tables.
-- SQLite twin of migrations/postgresql/0001: money, quantities and ratios are TEXT holding
-- exact decimal text (numeric checks CAST to REAL, which needs no custom function); times
-- are TEXT in the kit's fixed-width UTC format; JSON is TEXT checked by json_valid.

CREATE TABLE trade_history (
    correlation_id TEXT PRIMARY KEY NOT NULL,
    symbol TEXT NOT NULL,
    action TEXT NOT NULL,
    strategy_name TEXT NOT NULL,
    quantity TEXT NOT NULL DEFAULT '0',
    signal_price TEXT,
    fill_price TEXT,
    stop_loss TEXT,
    take_profit TEXT,
    risk_amount TEXT,
    confidence TEXT,
    signal_time TEXT NOT NULL,
    execution_time TEXT,
    broker_order_id TEXT,
    executed INTEGER NOT NULL DEFAULT 0,
    error_message TEXT,
    sharpe_ratio TEXT,
    drawdown TEXT,
    expectancy TEXT,
    reasoning TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    CONSTRAINT trade_history_action_valid CHECK (action IN ('BUY', 'SELL', 'HOLD')),
    CONSTRAINT trade_history_quantity_non_negative CHECK (CAST(quantity AS REAL) >= 0),
    CONSTRAINT trade_history_prices_non_negative CHECK (
        (signal_price IS NULL OR CAST(signal_price AS REAL) >= 0)
        AND (fill_price IS NULL OR CAST(fill_price AS REAL) >= 0)
        AND (stop_loss IS NULL OR CAST(stop_loss AS REAL) >= 0)
        AND (take_profit IS NULL OR CAST(take_profit AS REAL) >= 0)
        AND (risk_amount IS NULL OR CAST(risk_amount AS REAL) >= 0)
    ),
    CONSTRAINT trade_history_confidence_range CHECK (
        confidence IS NULL
        OR (CAST(confidence AS REAL) >= 0 AND CAST(confidence AS REAL) <= 1)
    ),
    CONSTRAINT trade_history_executed_boolean CHECK (executed IN (0, 1))
);

CREATE TABLE equity_curve (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    equity TEXT NOT NULL,
    cash TEXT NOT NULL,
    buying_power TEXT NOT NULL,
    total_return TEXT,
    daily_return TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'))
);

CREATE TABLE risk_metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    open_positions INTEGER NOT NULL DEFAULT 0,
    total_exposure TEXT NOT NULL DEFAULT '0',
    largest_position TEXT NOT NULL DEFAULT '0',
    portfolio_value TEXT NOT NULL,
    daily_pnl TEXT NOT NULL DEFAULT '0',
    total_pnl TEXT NOT NULL DEFAULT '0',
    max_drawdown TEXT,
    sharpe_ratio TEXT,
    risk_per_trade TEXT,
    daily_loss_limit TEXT,
    current_daily_loss TEXT NOT NULL DEFAULT '0',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    CONSTRAINT risk_metrics_open_positions_non_negative CHECK (open_positions >= 0),
    CONSTRAINT risk_metrics_exposure_non_negative CHECK (
        CAST(total_exposure AS REAL) >= 0 AND CAST(largest_position AS REAL) >= 0
    )
);

CREATE TABLE iteration_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    iteration_number INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    symbols_processed TEXT NOT NULL DEFAULT '[]',
    signals_generated INTEGER NOT NULL DEFAULT 0,
    signals_validated INTEGER NOT NULL DEFAULT 0,
    signals_approved INTEGER NOT NULL DEFAULT 0,
    signals_executed INTEGER NOT NULL DEFAULT 0,
    duration_seconds REAL,
    errors TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    CONSTRAINT iteration_log_counts_non_negative CHECK (
        iteration_number >= 0
        AND signals_generated >= 0
        AND signals_validated >= 0
        AND signals_approved >= 0
        AND signals_executed >= 0
    ),
    CONSTRAINT iteration_log_json_arrays CHECK (
        json_valid(symbols_processed) AND json_type(symbols_processed) = 'array'
        AND json_valid(errors) AND json_type(errors) = 'array'
    )
);

CREATE TABLE audit_report_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_type TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    recommendations TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    CONSTRAINT audit_report_log_report_type_valid CHECK (
        report_type IN ('iteration', 'daily', 'weekly')
    ),
    CONSTRAINT audit_report_log_json_shapes CHECK (
        json_valid(recommendations) AND json_type(recommendations) = 'array'
        AND json_valid(metrics) AND json_type(metrics) = 'object'
    )
);

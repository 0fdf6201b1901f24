-- Bot run records: what one trading bot writes each iteration (signals and fills, equity,
-- risk snapshots, iteration statistics, audit reports). Append-mostly history tables.
-- Money, quantities and ratios are numeric(20,8) (exact); times are timestamptz (UTC).

CREATE TABLE trade_history (
    correlation_id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    action TEXT NOT NULL,
    strategy_name TEXT NOT NULL,
    quantity NUMERIC(20, 8) NOT NULL DEFAULT 0,
    signal_price NUMERIC(20, 8),
    fill_price NUMERIC(20, 8),
    stop_loss NUMERIC(20, 8),
    take_profit NUMERIC(20, 8),
    risk_amount NUMERIC(20, 8),
    confidence NUMERIC(20, 8),
    signal_time TIMESTAMPTZ NOT NULL,
    execution_time TIMESTAMPTZ,
    broker_order_id TEXT,
    executed BOOLEAN NOT NULL DEFAULT FALSE,
    error_message TEXT,
    sharpe_ratio NUMERIC(20, 8),
    drawdown NUMERIC(20, 8),
    expectancy NUMERIC(20, 8),
    reasoning TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT trade_history_action_valid CHECK (action IN ('BUY', 'SELL', 'HOLD')),
    CONSTRAINT trade_history_quantity_non_negative CHECK (quantity >= 0),
    CONSTRAINT trade_history_prices_non_negative CHECK (
        (signal_price IS NULL OR signal_price >= 0)
        AND (fill_price IS NULL OR fill_price >= 0)
        AND (stop_loss IS NULL OR stop_loss >= 0)
        AND (take_profit IS NULL OR take_profit >= 0)
        AND (risk_amount IS NULL OR risk_amount >= 0)
    ),
    CONSTRAINT trade_history_confidence_range CHECK (
        confidence IS NULL OR (confidence >= 0 AND confidence <= 1)
    )
);

CREATE TABLE equity_curve (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at TIMESTAMPTZ NOT NULL,
    equity NUMERIC(20, 8) NOT NULL,
    cash NUMERIC(20, 8) NOT NULL,
    buying_power NUMERIC(20, 8) NOT NULL,
    total_return NUMERIC(20, 8),
    daily_return NUMERIC(20, 8),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE risk_metrics (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at TIMESTAMPTZ NOT NULL,
    open_positions INTEGER NOT NULL DEFAULT 0,
    total_exposure NUMERIC(20, 8) NOT NULL DEFAULT 0,
    largest_position NUMERIC(20, 8) NOT NULL DEFAULT 0,
    portfolio_value NUMERIC(20, 8) NOT NULL,
    daily_pnl NUMERIC(20, 8) NOT NULL DEFAULT 0,
    total_pnl NUMERIC(20, 8) NOT NULL DEFAULT 0,
    max_drawdown NUMERIC(20, 8),
    sharpe_ratio NUMERIC(20, 8),
    risk_per_trade NUMERIC(20, 8),
    daily_loss_limit NUMERIC(20, 8),
    current_daily_loss NUMERIC(20, 8) NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT risk_metrics_open_positions_non_negative CHECK (open_positions >= 0),
    CONSTRAINT risk_metrics_exposure_non_negative CHECK (
        total_exposure >= 0 AND largest_position >= 0
    )
);

CREATE TABLE iteration_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    iteration_number INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    symbols_processed JSONB NOT NULL DEFAULT '[]',
    signals_generated INTEGER NOT NULL DEFAULT 0,
    signals_validated INTEGER NOT NULL DEFAULT 0,
    signals_approved INTEGER NOT NULL DEFAULT 0,
    signals_executed INTEGER NOT NULL DEFAULT 0,
    duration_seconds DOUBLE PRECISION,
    errors JSONB NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT iteration_log_counts_non_negative CHECK (
        iteration_number >= 0
        AND signals_generated >= 0
        AND signals_validated >= 0
        AND signals_approved >= 0
        AND signals_executed >= 0
    ),
    CONSTRAINT iteration_log_json_arrays CHECK (
        jsonb_typeof(symbols_processed) = 'array' AND jsonb_typeof(errors) = 'array'
    )
);

CREATE TABLE audit_report_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_type TEXT NOT NULL,
    generated_at TIMESTAMPTZ NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    recommendations JSONB NOT NULL DEFAULT '[]',
    metrics JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT audit_report_log_report_type_valid CHECK (
        report_type IN ('iteration', 'daily', 'weekly')
    ),
    CONSTRAINT audit_report_log_json_shapes CHECK (
        jsonb_typeof(recommendations) = 'array' AND jsonb_typeof(metrics) = 'object'
    )
);

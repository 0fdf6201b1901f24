-- Indexes for the store's access paths: symbol + time, order id, entity type + id + time,
-- user + time, status. Same index names on both dialects.
-- depends: 0003_audit

CREATE INDEX trade_history_symbol_time_idx ON trade_history (symbol, signal_time);

CREATE INDEX trade_history_strategy_time_idx ON trade_history (strategy_name, signal_time);

CREATE INDEX trade_history_broker_order_id_idx ON trade_history (broker_order_id);

CREATE INDEX equity_curve_recorded_at_idx ON equity_curve (recorded_at);

CREATE INDEX risk_metrics_recorded_at_idx ON risk_metrics (recorded_at);

CREATE INDEX iteration_log_started_at_idx ON iteration_log (started_at);

CREATE INDEX audit_report_log_type_time_idx ON audit_report_log (report_type, generated_at);

CREATE INDEX portfolios_account_id_idx ON portfolios (account_id);

CREATE UNIQUE INDEX orders_broker_order_id_idx ON orders (broker_order_id)
WHERE broker_order_id IS NOT NULL;

CREATE INDEX orders_symbol_time_idx ON orders (symbol, created_at);

CREATE INDEX orders_status_idx ON orders (status, created_at);

CREATE INDEX orders_portfolio_status_idx ON orders (portfolio_id, status);

CREATE INDEX orders_account_id_idx ON orders (account_id);

CREATE INDEX trades_order_id_idx ON trades (order_id);

CREATE INDEX trades_symbol_time_idx ON trades (symbol, executed_at);

CREATE INDEX trades_strategy_time_idx ON trades (strategy_id, executed_at);

CREATE INDEX positions_portfolio_status_idx ON positions (portfolio_id, status);

CREATE INDEX positions_symbol_status_idx ON positions (symbol, status);

CREATE UNIQUE INDEX positions_one_open_per_symbol_idx ON positions (portfolio_id, symbol)
WHERE status = 'open';

CREATE INDEX audit_logs_entity_time_idx ON audit_logs (entity_type, entity_id, occurred_at);

CREATE INDEX audit_logs_user_time_idx ON audit_logs (user_id, occurred_at);

CREATE INDEX audit_logs_occurred_at_idx ON audit_logs (occurred_at);

CREATE INDEX audit_logs_severity_time_idx ON audit_logs (severity, occurred_at);

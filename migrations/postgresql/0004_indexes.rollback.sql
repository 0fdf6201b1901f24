-- Undo 0004: drop the indexes (tables and their data stay).

DROP INDEX audit_logs_severity_time_idx;

DROP INDEX audit_logs_occurred_at_idx;

DROP INDEX audit_logs_user_time_idx;

DROP INDEX audit_logs_entity_time_idx;

DROP INDEX positions_one_open_per_symbol_idx;

DROP INDEX positions_symbol_status_idx;

DROP INDEX positions_portfolio_status_idx;

DROP INDEX trades_strategy_time_idx;

DROP INDEX trades_symbol_time_idx;

DROP INDEX trades_order_id_idx;

DROP INDEX orders_account_id_idx;

DROP INDEX orders_portfolio_status_idx;

DROP INDEX orders_status_idx;

DROP INDEX orders_symbol_time_idx;

DROP INDEX orders_broker_order_id_idx;

DROP INDEX portfolios_account_id_idx;

DROP INDEX audit_report_log_type_time_idx;

DROP INDEX iteration_log_started_at_idx;

DROP INDEX risk_metrics_recorded_at_idx;

DROP INDEX equity_curve_recorded_at_idx;

DROP INDEX trade_history_broker_order_id_idx;

DROP INDEX trade_history_strategy_time_idx;

DROP INDEX trade_history_symbol_time_idx;

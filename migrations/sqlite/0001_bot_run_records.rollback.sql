-- Undo 0001: drop the bot run record tables (their rows go with them).

DROP TABLE audit_report_log;

DROP TABLE iteration_log;

DROP TABLE risk_metrics;

DROP TABLE equity_curve;

DROP TABLE trade_history;

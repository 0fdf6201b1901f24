-- Undo 0003: drop the audit trail table (its trigger goes with it), then its function.

DROP TABLE audit_logs;

DROP FUNCTION tradestore_audit_logs_append_only();

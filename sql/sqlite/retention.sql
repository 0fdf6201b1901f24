-- SQLite variants of sql/retention.sql: a list of keys arrives as JSON text (json_each).

-- name: retention_delete_audit_logs :execrows
-- Delete the audit_logs rows of one archive batch, by key, once they are safely on disk.
DELETE FROM audit_logs
WHERE id IN (SELECT value FROM json_each(:keys));

-- name: retention_delete_trade_history :execrows
-- Delete the trade_history rows of one archive batch, by key, once they are safely on disk.
DELETE FROM trade_history
WHERE correlation_id IN (SELECT value FROM json_each(:keys));

-- name: retention_delete_equity_curve :execrows
-- Delete the equity_curve rows of one archive batch, by key, once they are safely on disk.
DELETE FROM equity_curve
WHERE id IN (SELECT value FROM json_each(:keys));

-- name: retention_delete_risk_metrics :execrows
-- Delete the risk_metrics rows of one archive batch, by key, once they are safely on disk.
DELETE FROM risk_metrics
WHERE id IN (SELECT value FROM json_each(:keys));

-- name: retention_delete_iteration_log :execrows
-- Delete the iteration_log rows of one archive batch, by key, once they are safely on disk.
DELETE FROM iteration_log
WHERE id IN (SELECT value FROM json_each(:keys));

-- name: retention_delete_audit_report_log :execrows
-- Delete the audit_report_log rows of one archive batch, by key, once they are safely on disk.
DELETE FROM audit_report_log
WHERE id IN (SELECT value FROM json_each(:keys));

-- SQLite variants of sql/audit.sql: the database clock as fixed-width UTC text.

-- name: insert_audit_log :one AuditLog
-- Append one audit row; occurred_at defaults to the database clock (transaction start on
-- PostgreSQL) when None.
INSERT INTO audit_logs (
    occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity
)
VALUES (
    COALESCE(CAST(:occurred_at AS TEXT), strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    :action, :entity_type, :entity_id, :user_id, :strategy_id, :old_values, :new_values,
    :metadata, :severity
)
RETURNING id, occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity, created_at;

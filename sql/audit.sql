-- Audit trail: append-only rows of who changed what (tradestore.trading.audit).

-- name: insert_audit_log :one AuditLog
-- Append one audit row; occurred_at defaults to the database clock (transaction start on
-- PostgreSQL) when None.
INSERT INTO audit_logs (
    occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity
)
VALUES (
    COALESCE(CAST(:occurred_at AS TIMESTAMPTZ), now()), :action, :entity_type, :entity_id,
    :user_id, :strategy_id, :old_values, :new_values, :metadata, :severity
)
RETURNING id, occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity, created_at;

-- name: audit_entity_history :many AuditLog
-- Every audit row of one entity, oldest first.
SELECT id, occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity, created_at
FROM audit_logs
WHERE entity_type = :entity_type
    AND entity_id = :entity_id
ORDER BY occurred_at, id;

-- name: audit_user_activity :many AuditLog
-- What one user did in [start, end), oldest first.
SELECT id, occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity, created_at
FROM audit_logs
WHERE user_id = :user_id
    AND occurred_at >= :start
    AND occurred_at < :end
ORDER BY occurred_at, id;

-- name: audit_trail :many AuditLog
-- Audit rows newest first, optionally of one action, in [start_date, end_date).
SELECT id, occurred_at, action, entity_type, entity_id, user_id, strategy_id, old_values,
    new_values, metadata, severity, created_at
FROM audit_logs
WHERE (CAST(:action AS TEXT) IS NULL OR action = :action)
    AND (CAST(:start_date AS TIMESTAMPTZ) IS NULL OR occurred_at >= :start_date)
    AND (CAST(:end_date AS TIMESTAMPTZ) IS NULL OR occurred_at < :end_date)
ORDER BY occurred_at DESC, id DESC
LIMIT :limit;

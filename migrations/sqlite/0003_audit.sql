-- Audit trail: one append-only row per change to an entity (who, what, before, after).
-- Rows are never updated (a trigger refuses UPDATE); retention purges DELETE old rows.
-- entity_id is TEXT so it can name entities keyed by id or by correlation id.
-- SQLite twin of migrations/postgresql/0003.
-- depends: 0002_trading_entities

CREATE TABLE audit_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    user_id TEXT,
    strategy_id TEXT,
    old_values TEXT,
    new_values TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    severity TEXT NOT NULL DEFAULT 'info',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    CONSTRAINT audit_logs_severity_valid CHECK (
        severity IN ('debug', 'info', 'warning', 'error', 'critical')
    ),
    CONSTRAINT audit_logs_values_json CHECK (
        (old_values IS NULL OR json_valid(old_values))
        AND (new_values IS NULL OR json_valid(new_values))
    ),
    CONSTRAINT audit_logs_metadata_object CHECK (
        json_valid(metadata) AND json_type(metadata) = 'object'
    )
);

CREATE TRIGGER audit_logs_append_only BEFORE UPDATE ON audit_logs
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'audit_logs rows are append-only: UPDATE refused');
END;

-- SQLite variants of sql/iterations.sql: JSON is stored as text (no JSONB cast).

-- name: insert_iteration :one IterationLogRecord
-- Append one iteration summary and return it; the JSON arrays arrive as JSON text.
INSERT INTO iteration_log (
    iteration_number, started_at, symbols_processed, signals_generated, signals_validated,
    signals_approved, signals_executed, duration_seconds, errors
)
VALUES (
    :iteration_number, :started_at, :symbols_processed, :signals_generated,
    :signals_validated, :signals_approved, :signals_executed, :duration_seconds,
    :errors
)
RETURNING id, iteration_number, started_at, symbols_processed, signals_generated, signals_validated,
    signals_approved, signals_executed, duration_seconds, errors, created_at;

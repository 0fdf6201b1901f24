-- Iteration log: the statistics of one pass of a bot's main loop.

-- name: insert_iteration :one IterationLogRecord
-- Append one iteration summary and return it; the JSON arrays arrive as JSON text.
INSERT INTO iteration_log (
    iteration_number, started_at, symbols_processed, signals_generated, signals_validated,
    signals_approved, signals_executed, duration_seconds, errors
)
VALUES (
    :iteration_number, :started_at, CAST(:symbols_processed AS JSONB), :signals_generated,
    :signals_validated, :signals_approved, :signals_executed, :duration_seconds,
    CAST(:errors AS JSONB)
)
RETURNING id, iteration_number, started_at, symbols_processed, signals_generated, signals_validated,
    signals_approved, signals_executed, duration_seconds, errors, created_at;

-- name: iterations :many IterationLogRecord
-- Iteration summaries newest first (by start time), started in [start_date, end_date).
SELECT id, iteration_number, started_at, symbols_processed, signals_generated, signals_validated,
    signals_approved, signals_executed, duration_seconds, errors, created_at
FROM iteration_log
WHERE (CAST(:start_date AS TIMESTAMPTZ) IS NULL OR started_at >= :start_date)
    AND (CAST(:end_date AS TIMESTAMPTZ) IS NULL OR started_at < :end_date)
ORDER BY started_at DESC, id DESC
LIMIT :limit;

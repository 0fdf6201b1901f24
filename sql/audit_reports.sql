-- Audit report log: the periodic self-review reports a bot writes (per iteration, daily, weekly).

-- name: insert_audit_report :one AuditReportRecord
-- Append one audit report and return it; recommendations and metrics arrive as JSON text.
INSERT INTO audit_report_log (
    report_type, generated_at, summary, recommendations, metrics
)
VALUES (
    :report_type, :generated_at, :summary, CAST(:recommendations AS JSONB),
    CAST(:metrics AS JSONB)
)
RETURNING id, report_type, generated_at, summary, recommendations, metrics, created_at;

-- name: audit_reports :many AuditReportRecord
-- Audit reports newest first, optionally of one type, generated in [start_date, end_date).
SELECT id, report_type, generated_at, summary, recommendations, metrics, created_at
FROM audit_report_log
WHERE (CAST(:report_type AS TEXT) IS NULL OR report_type = :report_type)
    AND (CAST(:start_date AS TIMESTAMPTZ) IS NULL OR generated_at >= :start_date)
    AND (CAST(:end_date AS TIMESTAMPTZ) IS NULL OR generated_at < :end_date)
ORDER BY generated_at DESC, id DESC
LIMIT :limit;

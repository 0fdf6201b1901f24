-- SQLite variants of sql/audit_reports.sql: JSON is stored as text (no JSONB cast).

-- name: insert_audit_report :one AuditReportRecord
-- Append one audit report and return it; recommendations and metrics arrive as JSON text.
INSERT INTO audit_report_log (
    report_type, generated_at, summary, recommendations, metrics
)
VALUES (
    :report_type, :generated_at, :summary, :recommendations,
    :metrics
)
RETURNING id, report_type, generated_at, summary, recommendations, metrics, created_at;

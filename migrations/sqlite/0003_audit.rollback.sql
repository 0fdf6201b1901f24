-- Undo 0003: drop the audit trail table (its trigger goes with it).

DROP TABLE audit_logs;

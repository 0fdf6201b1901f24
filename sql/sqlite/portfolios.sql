-- SQLite variants of sql/portfolios.sql: an UPDATE sets updated_at itself, because RETURNING
-- shows the row before the AFTER UPDATE touch trigger would change it.

-- name: update_portfolio :one Portfolio
-- Write every mutable column if the row still has the version the caller read; bumps version.
-- None back means the id is gone or another writer got there first (stale version).
UPDATE portfolios
SET name = :name,
    base_currency = :base_currency,
    cash = :cash,
    total_value = :total_value,
    metrics = :metrics,
    metadata = :metadata,
    updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'),
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, account_id, name, base_currency, cash, total_value, metrics, metadata,
    created_at, updated_at, version;

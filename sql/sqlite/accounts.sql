-- SQLite variants of sql/accounts.sql: an UPDATE sets updated_at itself, because RETURNING
-- shows the row before the AFTER UPDATE touch trigger would change it.

-- name: update_account :one Account
-- Write every mutable column if the row still has the version the caller read; bumps version.
-- None back means the id is gone or another writer got there first (stale version).
UPDATE accounts
SET name = :name,
    account_type = :account_type,
    base_currency = :base_currency,
    cash_balance = :cash_balance,
    total_equity = :total_equity,
    buying_power = :buying_power,
    maintenance_margin = :maintenance_margin,
    risk_parameters = :risk_parameters,
    is_active = :is_active,
    metadata = :metadata,
    updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'),
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, name, account_type, base_currency, cash_balance, total_equity, buying_power,
    maintenance_margin, risk_parameters, is_active, metadata, created_at, updated_at, version;

-- Accounts: create, read, list, optimistic-locking update and delete (tradestore.trading.repositories).

-- name: insert_account :one Account
-- Create one account and return it with its id, timestamps and version 1.
INSERT INTO accounts (
    name, account_type, base_currency, cash_balance, total_equity, buying_power,
    maintenance_margin, risk_parameters, is_active, metadata
)
VALUES (
    :name, :account_type, :base_currency, :cash_balance, :total_equity, :buying_power,
    :maintenance_margin, :risk_parameters, :is_active, :metadata
)
RETURNING id, name, account_type, base_currency, cash_balance, total_equity, buying_power,
    maintenance_margin, risk_parameters, is_active, metadata, created_at, updated_at, version;

-- name: get_account :one Account
-- One account by id, or None.
SELECT id, name, account_type, base_currency, cash_balance, total_equity, buying_power,
    maintenance_margin, risk_parameters, is_active, metadata, created_at, updated_at, version
FROM accounts
WHERE id = :id;

-- name: list_accounts :many Account
-- Accounts in id order, optionally only the active (or inactive) ones.
SELECT id, name, account_type, base_currency, cash_balance, total_equity, buying_power,
    maintenance_margin, risk_parameters, is_active, metadata, created_at, updated_at, version
FROM accounts
WHERE CAST(:active AS BOOLEAN) IS NULL OR is_active = :active
ORDER BY id
LIMIT :limit;

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
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, name, account_type, base_currency, cash_balance, total_equity, buying_power,
    maintenance_margin, risk_parameters, is_active, metadata, created_at, updated_at, version;

-- name: delete_account :one Account
-- Delete an account if it still has the version the caller read; returns the deleted row.
DELETE FROM accounts
WHERE id = :id
    AND version = :version
RETURNING id, name, account_type, base_currency, cash_balance, total_equity, buying_power,
    maintenance_margin, risk_parameters, is_active, metadata, created_at, updated_at, version;

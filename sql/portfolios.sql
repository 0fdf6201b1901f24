-- Portfolios: create, read, list, optimistic-locking update and delete (tradestore.trading.repositories).

-- name: insert_portfolio :one Portfolio
-- Create one portfolio of an account and return it with its id, timestamps and version 1.
INSERT INTO portfolios (account_id, name, base_currency, cash, total_value, metrics, metadata)
VALUES (:account_id, :name, :base_currency, :cash, :total_value, :metrics, :metadata)
RETURNING id, account_id, name, base_currency, cash, total_value, metrics, metadata,
    created_at, updated_at, version;

-- name: get_portfolio :one Portfolio
-- One portfolio by id, or None.
SELECT id, account_id, name, base_currency, cash, total_value, metrics, metadata,
    created_at, updated_at, version
FROM portfolios
WHERE id = :id;

-- name: list_portfolios :many Portfolio
-- Portfolios in id order, optionally of one account.
SELECT id, account_id, name, base_currency, cash, total_value, metrics, metadata,
    created_at, updated_at, version
FROM portfolios
WHERE CAST(:account_id AS BIGINT) IS NULL OR account_id = :account_id
ORDER BY id
LIMIT :limit;

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
    version = version + 1
WHERE id = :id
    AND version = :version
RETURNING id, account_id, name, base_currency, cash, total_value, metrics, metadata,
    created_at, updated_at, version;

-- name: delete_portfolio :one Portfolio
-- Delete a portfolio if it still has the version the caller read; returns the deleted row.
DELETE FROM portfolios
WHERE id = :id
    AND version = :version
RETURNING id, account_id, name, base_currency, cash, total_value, metrics, metadata,
    created_at, updated_at, version;

-- Trading entities: accounts own portfolios; portfolios hold orders and positions; orders
-- are filled by trades. Every entity row carries created_at, updated_at (kept current by an
-- AFTER UPDATE trigger per table), version (optimistic locking: the store's UPDATE
-- statements bump it and match on the version they read) and a JSON metadata object.
-- SQLite twin of migrations/postgresql/0002. The touch triggers fire only when the UPDATE
-- left updated_at unchanged (a caller's own value is kept, as on PostgreSQL); their inner
-- UPDATE changes updated_at, so it cannot fire them again even with recursive_triggers ON
-- (unless the clock returns the very same millisecond text, which then stops at once).
-- depends: 0001_bot_run_records

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    account_type TEXT NOT NULL DEFAULT 'cash',
    base_currency TEXT NOT NULL DEFAULT 'USD',
    cash_balance TEXT NOT NULL DEFAULT '0',
    total_equity TEXT NOT NULL DEFAULT '0',
    buying_power TEXT NOT NULL DEFAULT '0',
    maintenance_margin TEXT NOT NULL DEFAULT '0',
    risk_parameters TEXT NOT NULL DEFAULT '{}',
    is_active INTEGER NOT NULL DEFAULT 1,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT accounts_name_unique UNIQUE (name),
    CONSTRAINT accounts_base_currency_code CHECK (length(base_currency) = 3),
    CONSTRAINT accounts_margin_non_negative CHECK (CAST(maintenance_margin AS REAL) >= 0),
    CONSTRAINT accounts_version_positive CHECK (version >= 1),
    CONSTRAINT accounts_is_active_boolean CHECK (is_active IN (0, 1)),
    CONSTRAINT accounts_json_objects CHECK (
        json_valid(risk_parameters) AND json_type(risk_parameters) = 'object'
        AND json_valid(metadata) AND json_type(metadata) = 'object'
    )
);

CREATE TABLE portfolios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    base_currency TEXT NOT NULL DEFAULT 'USD',
    cash TEXT NOT NULL DEFAULT '0',
    total_value TEXT NOT NULL DEFAULT '0',
    metrics TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT portfolios_account_name_unique UNIQUE (account_id, name),
    CONSTRAINT portfolios_base_currency_code CHECK (length(base_currency) = 3),
    CONSTRAINT portfolios_version_positive CHECK (version >= 1),
    CONSTRAINT portfolios_json_objects CHECK (
        json_valid(metrics) AND json_type(metrics) = 'object'
        AND json_valid(metadata) AND json_type(metadata) = 'object'
    )
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    portfolio_id INTEGER NOT NULL REFERENCES portfolios (id),
    account_id INTEGER REFERENCES accounts (id),
    broker_order_id TEXT,
    symbol TEXT NOT NULL,
    asset_class TEXT NOT NULL DEFAULT 'equity',
    order_type TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    limit_price TEXT,
    stop_price TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    filled_quantity TEXT NOT NULL DEFAULT '0',
    average_fill_price TEXT,
    strategy_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT orders_order_type_valid CHECK (
        order_type IN ('market', 'limit', 'stop', 'stop_limit')
    ),
    CONSTRAINT orders_side_valid CHECK (side IN ('buy', 'sell')),
    CONSTRAINT orders_status_valid CHECK (
        status IN ('new', 'partially_filled', 'filled', 'cancelled', 'rejected')
    ),
    CONSTRAINT orders_quantity_positive CHECK (CAST(quantity AS REAL) > 0),
    CONSTRAINT orders_filled_quantity_range CHECK (
        CAST(filled_quantity AS REAL) >= 0
        AND CAST(filled_quantity AS REAL) <= CAST(quantity AS REAL)
    ),
    CONSTRAINT orders_prices_non_negative CHECK (
        (limit_price IS NULL OR CAST(limit_price AS REAL) >= 0)
        AND (stop_price IS NULL OR CAST(stop_price AS REAL) >= 0)
        AND (average_fill_price IS NULL OR CAST(average_fill_price AS REAL) >= 0)
    ),
    CONSTRAINT orders_limit_price_required CHECK (
        order_type NOT IN ('limit', 'stop_limit') OR limit_price IS NOT NULL
    ),
    CONSTRAINT orders_stop_price_required CHECK (
        order_type NOT IN ('stop', 'stop_limit') OR stop_price IS NOT NULL
    ),
    CONSTRAINT orders_version_positive CHECK (version >= 1),
    CONSTRAINT orders_metadata_object CHECK (
        json_valid(metadata) AND json_type(metadata) = 'object'
    )
);

CREATE TABLE trades (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT NOT NULL,
    commission TEXT NOT NULL DEFAULT '0',
    executed_at TEXT NOT NULL,
    strategy_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT trades_side_valid CHECK (side IN ('buy', 'sell')),
    CONSTRAINT trades_quantity_positive CHECK (CAST(quantity AS REAL) > 0),
    CONSTRAINT trades_price_non_negative CHECK (CAST(price AS REAL) >= 0),
    CONSTRAINT trades_commission_non_negative CHECK (CAST(commission AS REAL) >= 0),
    CONSTRAINT trades_version_positive CHECK (version >= 1),
    CONSTRAINT trades_metadata_object CHECK (
        json_valid(metadata) AND json_type(metadata) = 'object'
    )
);

CREATE TABLE positions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    portfolio_id INTEGER NOT NULL REFERENCES portfolios (id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    entry_price TEXT NOT NULL,
    entry_time TEXT NOT NULL,
    current_price TEXT,
    exit_price TEXT,
    exit_time TEXT,
    realized_pnl TEXT NOT NULL DEFAULT '0',
    unrealized_pnl TEXT NOT NULL DEFAULT '0',
    status TEXT NOT NULL DEFAULT 'open',
    strategy_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT positions_side_valid CHECK (side IN ('long', 'short')),
    CONSTRAINT positions_status_valid CHECK (status IN ('open', 'closed')),
    CONSTRAINT positions_quantity_non_negative CHECK (CAST(quantity AS REAL) >= 0),
    CONSTRAINT positions_prices_non_negative CHECK (
        CAST(entry_price AS REAL) >= 0
        AND (current_price IS NULL OR CAST(current_price AS REAL) >= 0)
        AND (exit_price IS NULL OR CAST(exit_price AS REAL) >= 0)
    ),
    CONSTRAINT positions_closed_has_exit CHECK (
        status = 'open' OR (exit_price IS NOT NULL AND exit_time IS NOT NULL)
    ),
    CONSTRAINT positions_version_positive CHECK (version >= 1),
    CONSTRAINT positions_metadata_object CHECK (
        json_valid(metadata) AND json_type(metadata) = 'object'
    )
);

CREATE TRIGGER accounts_touch_updated_at AFTER UPDATE ON accounts
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE accounts SET updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')
    WHERE id = NEW.id;
END;

CREATE TRIGGER portfolios_touch_updated_at AFTER UPDATE ON portfolios
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE portfolios SET updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')
    WHERE id = NEW.id;
END;

CREATE TRIGGER orders_touch_updated_at AFTER UPDATE ON orders
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE orders SET updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')
    WHERE id = NEW.id;
END;

CREATE TRIGGER trades_touch_updated_at AFTER UPDATE ON trades
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE trades SET updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')
    WHERE id = NEW.id;
END;

CREATE TRIGGER positions_touch_updated_at AFTER UPDATE ON positions
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE positions SET updated_at = strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')
    WHERE id = NEW.id;
END;

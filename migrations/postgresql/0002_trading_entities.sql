-- Trading entities: accounts own portfolios; portfolios hold orders and positions; orders
-- are filled by trades. Every entity row carries created_at, updated_at (kept current by
-- the tradestore_touch_updated_at trigger), version (optimistic locking: the store's UPDATE
-- statements bump it and match on the version they read) and a jsonb metadata object.
-- depends: 0001_bot_run_records

CREATE FUNCTION tradestore_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A caller that sets updated_at itself (backfills, imports) keeps its value.
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE accounts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    account_type TEXT NOT NULL DEFAULT 'cash',
    base_currency TEXT NOT NULL DEFAULT 'USD',
    cash_balance NUMERIC(20, 8) NOT NULL DEFAULT 0,
    total_equity NUMERIC(20, 8) NOT NULL DEFAULT 0,
    buying_power NUMERIC(20, 8) NOT NULL DEFAULT 0,
    maintenance_margin NUMERIC(20, 8) NOT NULL DEFAULT 0,
    risk_parameters JSONB NOT NULL DEFAULT '{}',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT accounts_name_unique UNIQUE (name),
    CONSTRAINT accounts_base_currency_code CHECK (length(base_currency) = 3),
    CONSTRAINT accounts_margin_non_negative CHECK (maintenance_margin >= 0),
    CONSTRAINT accounts_version_positive CHECK (version >= 1),
    CONSTRAINT accounts_json_objects CHECK (
        jsonb_typeof(risk_parameters) = 'object' AND jsonb_typeof(metadata) = 'object'
    )
);

CREATE TABLE portfolios (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    base_currency TEXT NOT NULL DEFAULT 'USD',
    cash NUMERIC(20, 8) NOT NULL DEFAULT 0,
    total_value NUMERIC(20, 8) NOT NULL DEFAULT 0,
    metrics JSONB NOT NULL DEFAULT '{}',
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT portfolios_account_name_unique UNIQUE (account_id, name),
    CONSTRAINT portfolios_base_currency_code CHECK (length(base_currency) = 3),
    CONSTRAINT portfolios_version_positive CHECK (version >= 1),
    CONSTRAINT portfolios_json_objects CHECK (
        jsonb_typeof(metrics) = 'object' AND jsonb_typeof(metadata) = 'object'
    )
);

CREATE TABLE orders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id BIGINT NOT NULL REFERENCES portfolios (id),
    account_id BIGINT REFERENCES accounts (id),
    broker_order_id TEXT,
    symbol TEXT NOT NULL,
    asset_class TEXT NOT NULL DEFAULT 'equity',
    order_type TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity NUMERIC(20, 8) NOT NULL,
    limit_price NUMERIC(20, 8),
    stop_price NUMERIC(20, 8),
    status TEXT NOT NULL DEFAULT 'new',
    filled_quantity NUMERIC(20, 8) NOT NULL DEFAULT 0,
    average_fill_price NUMERIC(20, 8),
    strategy_id TEXT,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT orders_order_type_valid CHECK (
        order_type IN ('market', 'limit', 'stop', 'stop_limit')
    ),
    CONSTRAINT orders_side_valid CHECK (side IN ('buy', 'sell')),
    CONSTRAINT orders_status_valid CHECK (
        status IN ('new', 'partially_filled', 'filled', 'cancelled', 'rejected')
    ),
    CONSTRAINT orders_quantity_positive CHECK (quantity > 0),
    CONSTRAINT orders_filled_quantity_range CHECK (
        filled_quantity >= 0 AND filled_quantity <= quantity
    ),
    CONSTRAINT orders_prices_non_negative CHECK (
        (limit_price IS NULL OR limit_price >= 0)
        AND (stop_price IS NULL OR stop_price >= 0)
        AND (average_fill_price IS NULL OR average_fill_price >= 0)
    ),
    CONSTRAINT orders_limit_price_required CHECK (
        order_type NOT IN ('limit', 'stop_limit') OR limit_price IS NOT NULL
    ),
    CONSTRAINT orders_stop_price_required CHECK (
        order_type NOT IN ('stop', 'stop_limit') OR stop_price IS NOT NULL
    ),
    CONSTRAINT orders_version_positive CHECK (version >= 1),
    CONSTRAINT orders_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);

CREATE TABLE trades (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity NUMERIC(20, 8) NOT NULL,
    price NUMERIC(20, 8) NOT NULL,
    commission NUMERIC(20, 8) NOT NULL DEFAULT 0,
    executed_at TIMESTAMPTZ NOT NULL,
    strategy_id TEXT,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT trades_side_valid CHECK (side IN ('buy', 'sell')),
    CONSTRAINT trades_quantity_positive CHECK (quantity > 0),
    CONSTRAINT trades_price_non_negative CHECK (price >= 0),
    CONSTRAINT trades_commission_non_negative CHECK (commission >= 0),
    CONSTRAINT trades_version_positive CHECK (version >= 1),
    CONSTRAINT trades_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);

CREATE TABLE positions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    portfolio_id BIGINT NOT NULL REFERENCES portfolios (id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity NUMERIC(20, 8) NOT NULL,
    entry_price NUMERIC(20, 8) NOT NULL,
    entry_time TIMESTAMPTZ NOT NULL,
    current_price NUMERIC(20, 8),
    exit_price NUMERIC(20, 8),
    exit_time TIMESTAMPTZ,
    realized_pnl NUMERIC(20, 8) NOT NULL DEFAULT 0,
    unrealized_pnl NUMERIC(20, 8) NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open',
    strategy_id TEXT,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT positions_side_valid CHECK (side IN ('long', 'short')),
    CONSTRAINT positions_status_valid CHECK (status IN ('open', 'closed')),
    CONSTRAINT positions_quantity_non_negative CHECK (quantity >= 0),
    CONSTRAINT positions_prices_non_negative CHECK (
        entry_price >= 0
        AND (current_price IS NULL OR current_price >= 0)
        AND (exit_price IS NULL OR exit_price >= 0)
    ),
    CONSTRAINT positions_closed_has_exit CHECK (
        status = 'open' OR (exit_price IS NOT NULL AND exit_time IS NOT NULL)
    ),
    CONSTRAINT positions_version_positive CHECK (version >= 1),
    CONSTRAINT positions_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);

CREATE TRIGGER accounts_touch_updated_at BEFORE UPDATE ON accounts
FOR EACH ROW EXECUTE FUNCTION tradestore_touch_updated_at();

CREATE TRIGGER portfolios_touch_updated_at BEFORE UPDATE ON portfolios
FOR EACH ROW EXECUTE FUNCTION tradestore_touch_updated_at();

CREATE TRIGGER orders_touch_updated_at BEFORE UPDATE ON orders
FOR EACH ROW EXECUTE FUNCTION tradestore_touch_updated_at();

CREATE TRIGGER trades_touch_updated_at BEFORE UPDATE ON trades
FOR EACH ROW EXECUTE FUNCTION tradestore_touch_updated_at();

CREATE TRIGGER positions_touch_updated_at BEFORE UPDATE ON positions
FOR EACH ROW EXECUTE FUNCTION tradestore_touch_updated_at();

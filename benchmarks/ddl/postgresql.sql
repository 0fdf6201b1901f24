-- Bench fixture (not a migration): created in the `bench` schema by benchmarks/fixture.py.
CREATE TABLE trades (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty NUMERIC(20, 8) NOT NULL,
    price NUMERIC(20, 8) NOT NULL,
    ts TIMESTAMPTZ NOT NULL
);
CREATE INDEX trades_symbol_ts ON trades (symbol, ts);
CREATE TABLE bulk_trades (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty NUMERIC(20, 8) NOT NULL,
    price NUMERIC(20, 8) NOT NULL,
    ts TIMESTAMPTZ NOT NULL
);
CREATE TABLE stream_trades (
    id BIGINT PRIMARY KEY,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty NUMERIC(20, 8) NOT NULL,
    price NUMERIC(20, 8) NOT NULL,
    ts TIMESTAMPTZ NOT NULL
);

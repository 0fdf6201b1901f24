-- Bench fixture (not a migration): money as exact decimal TEXT, times as fixed-width UTC text.
CREATE TABLE trades (
    id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX trades_symbol_ts ON trades (symbol, ts);
CREATE TABLE bulk_trades (
    id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    ts TEXT NOT NULL
);

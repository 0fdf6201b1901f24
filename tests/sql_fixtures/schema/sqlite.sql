CREATE TABLE fills (
    id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    ts TEXT NOT NULL,
    is_buy INTEGER NOT NULL CHECK (is_buy IN (0, 1)),
    meta TEXT NOT NULL
);

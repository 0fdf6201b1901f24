-- Undo 0002: drop the entity tables, children first (their triggers go with them).

DROP TABLE positions;

DROP TABLE trades;

DROP TABLE orders;

DROP TABLE portfolios;

DROP TABLE accounts;

-- Undo 0002: drop the entity tables (children first; triggers go with their tables), then
-- the trigger function.

DROP TABLE positions;

DROP TABLE trades;

DROP TABLE orders;

DROP TABLE portfolios;

DROP TABLE accounts;

DROP FUNCTION tradestore_touch_updated_at();

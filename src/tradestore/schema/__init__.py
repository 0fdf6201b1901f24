"""Schema operations: yoyo migrations (and their lock, access checks and rollback plans),
scratch schemas for tooling, catalog introspection and backups.

Builds on `tradestore.db` and `tradestore.queries`; works on any schema, the trading one or a
user's own.
"""

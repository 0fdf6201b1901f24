"""The connection layer: database URLs, settings, the pool, connections and their backends.

Knows nothing of SQL files or of the trading schema: `tradestore.queries` runs named SQL on
what this layer hands out, and everything above builds on both.
"""

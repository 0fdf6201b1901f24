"""The named-SQL layer: parse `-- name:` blocks, bind them per dialect, call them, build rows.

Also the tooling that reads the same blocks: typed stubs (`stubs`), check-sql (`checksql`) and
the description of a statement by a live database (`describe`). Builds on `tradestore.db`;
knows nothing of the trading schema.
"""

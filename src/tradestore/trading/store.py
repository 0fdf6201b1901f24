# Generated from store_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""`TradeStore`: what a trading bot imports to record and read back its runs.

The store is a thin layer over the named queries in ``sql/trade_history.sql``,
``sql/equity.sql``, ``sql/risk_metrics.sql``, ``sql/iterations.sql`` and
``sql/audit_reports.sql``: it validates the bot's input (`tradestore.trading.inputs`) before any
SQL runs, binds the values, and returns typed rows (`tradestore.trading.models`). It never
builds SQL.

Failure policy (``on_error``):

- ``"raise"`` (the default, for library use): a failed write raises the kit's error
  (`QueryError`, `PoolTimeout`, `ConnectionFailed`, ...).
- ``"log"`` (for a bot that must keep trading when its database is down): a failed write is
  logged at ERROR on the ``tradestore.store`` logger, with the operation and the correlation
  id (log_trade / log_trades; an incident id for the other writes), and the call returns as
  if it had succeeded: the correlation id, or None instead of the row. The record is then
  NOT stored; the log line is the only trace of it.
- Always raised, whatever the mode: invalid input (pydantic `ValidationError`, naming the
  field; a bug in the caller that no retry fixes), and any failure inside ``store.transaction()``
  (the transaction is already lost, so the whole block must fail and roll back).

The class is put together from one module per job: construction, lifetime and health here;
the run-record writes and the failure policy in `store_writes`; the reads in
`store_reads`; retention, backups and introspection in `store_maintenance`; what
needs no I/O in `store_base`.

Written once for asyncio; the sync `TradeStore` (``store.py``) is generated from it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from tradestore.db._acompat import ASYNC
from tradestore.db.connection import Connection
from tradestore.db.pool import Pool
from tradestore.db.scope import DbScope
from tradestore.db.settings import Settings, load_settings
from tradestore.db.url import DatabaseURL
from tradestore.schema.introspect import list_tables
from tradestore.schema.migrate import migrate as run_migrations
from tradestore.trading.queries import load_queries
from tradestore.trading.repositories.bundle import bind_all
from tradestore.trading.store_base import (
    BOT_RUN_TABLES,
    NO_LIMIT,
    OnError,
    ratio_return,
    schema_report,
)
from tradestore.trading.store_maintenance import StoreMaintenance
from tradestore.trading.store_reads import RunRecordReads
from tradestore.trading.store_writes import RunRecordWrites


class TradeStore(RunRecordWrites, RunRecordReads, StoreMaintenance):
    """Bot run records (trades, equity, risk, iterations, audit reports) over one pool.

    Attributes: ``pool`` (the `Pool`), ``scope`` (the `DbScope` every call runs in),
    ``queries`` (the built-in named queries), ``settings`` (the `Settings` read from the
    environment when the URL came from it, else None), ``on_error`` (see the module docs).
    """

    def __init__(
        self,
        db: str | DatabaseURL | Pool | None = None,
        *,
        on_error: OnError = "raise",
        migrate: bool = False,
        **pool_knobs: Any,
    ) -> None:
        if on_error not in ("raise", "log"):
            raise ValueError(f"on_error must be 'raise' or 'log', got {on_error!r}")
        self.on_error: OnError = on_error
        self.settings: Settings | None = None
        knobs: dict[str, Any] = {}
        if isinstance(db, Pool):
            if pool_knobs:
                raise TypeError(
                    f"pool knobs ({', '.join(sorted(pool_knobs))}) apply only to a pool the "
                    "store opens, not to the Pool passed in"
                )
            url: str | DatabaseURL = db.url
        else:
            if db is None:
                self.settings = load_settings()
                db = self.settings.url
                knobs = self.settings.pool_knobs()
            knobs.update(pool_knobs)
            url = db
        if migrate:
            run_migrations(url)
        self.owns_pool = not isinstance(db, Pool)
        self.pool = db if isinstance(db, Pool) else Pool(url, **knobs)
        self.scope = DbScope(self.pool)
        self.queries = load_queries()
        # The trading entities and the audit trail share the store's scope, so their writes
        # join `store.transaction()` like the run records do. They always raise: `on_error`
        # covers only the fire-and-forget run records, never an order's state.
        entities = bind_all(self.scope, self.queries)
        self.accounts = entities.accounts
        self.portfolios = entities.portfolios
        self.orders = entities.orders
        self.trades = entities.trades
        self.positions = entities.positions
        self.audit = entities.audit

    @classmethod
    def from_env(
        cls, *, on_error: OnError = "raise", migrate: bool = False, **pool_knobs: Any
    ) -> TradeStore:
        """A store on DATABASE_URL, sized by DB_POOL_SIZE / DB_MAX_OVERFLOW (see settings)."""
        return cls(None, on_error=on_error, migrate=migrate, **pool_knobs)

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the pool if the store opened it; a pool passed in stays open (its owner's)."""
        if self.owns_pool:
            self.pool.close()

    def __enter__(self) -> TradeStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.pool.url.redacted!r}, on_error={self.on_error!r})"

    def transaction(self) -> AbstractContextManager[Connection]:
        """Run every store call of this task inside one transaction: one commit, or none.

        Batching many writes in one commit is much faster than one commit each, and a block
        that raises leaves nothing behind. Nested blocks are savepoints. Only the caller's
        own calls join (its task's; its thread's on the sync face): a task or thread it
        starts inside the block runs outside the transaction.
        """
        return self.scope.transaction()

    session = transaction
    """Alias of `transaction` (the name bots ported from ORM sessions expect)."""

    # -- health ------------------------------------------------------------------------

    def health_check(self) -> dict[str, Any]:
        """The pool's health report plus whether the bot run tables exist; never raises.

        ``schema`` is ``{"ready": bool, "missing_tables": [...]}`` (one catalogue query), so a
        bot started against an unmigrated database learns it at start-up, not at its first
        write. The database appears only redacted (never a password).
        """
        report = self.pool.health_check()
        report["on_error"] = self.on_error
        if report["status"] != "healthy":
            report["schema"] = {"ready": False, "missing_tables": None}
            return report
        try:
            present = set(list_tables(self.pool))
        except Exception as exc:  # noqa: BLE001  (reported, not raised)
            report["schema"] = {"ready": False, "missing_tables": None, "error": type(exc).__name__}
            return report
        report["schema"] = schema_report(present)
        return report


__all__ = ["BOT_RUN_TABLES", "NO_LIMIT", "TradeStore", "OnError", "ratio_return"]

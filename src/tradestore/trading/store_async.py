"""`AsyncTradeStore`: what a trading bot imports to record and read back its runs.

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
the run-record writes and the failure policy in `store_writes_async`; the reads in
`store_reads_async`; retention, backups and introspection in `store_maintenance_async`; what
needs no I/O in `store_base`.

Written once for asyncio; the sync `TradeStore` (``store.py``) is generated from it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from tradestore.db._acompat import ASYNC
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool_async import AsyncPool
from tradestore.db.scope_async import AsyncDbScope
from tradestore.db.settings import Settings, load_settings
from tradestore.db.url import DatabaseURL
from tradestore.schema.introspect_async import list_tables
from tradestore.schema.migrate import migrate as run_migrations
from tradestore.trading.queries import load_queries
from tradestore.trading.repositories.bundle_async import async_bind_all
from tradestore.trading.store_base import (
    BOT_RUN_TABLES,
    NO_LIMIT,
    OnError,
    ratio_return,
    schema_report,
)
from tradestore.trading.store_maintenance_async import AsyncStoreMaintenance
from tradestore.trading.store_reads_async import AsyncRunRecordReads
from tradestore.trading.store_writes_async import AsyncRunRecordWrites

if ASYNC:
    import asyncio


class AsyncTradeStore(AsyncRunRecordWrites, AsyncRunRecordReads, AsyncStoreMaintenance):
    """Bot run records (trades, equity, risk, iterations, audit reports) over one pool.

    Attributes: ``pool`` (the `AsyncPool`), ``scope`` (the `AsyncDbScope` every call runs in),
    ``queries`` (the built-in named queries), ``settings`` (the `Settings` read from the
    environment when the URL came from it, else None), ``on_error`` (see the module docs).
    """

    def __init__(
        self,
        db: str | DatabaseURL | AsyncPool | None = None,
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
        if isinstance(db, AsyncPool):
            if pool_knobs:
                raise TypeError(
                    f"pool knobs ({', '.join(sorted(pool_knobs))}) apply only to a pool the "
                    "store opens, not to the AsyncPool passed in"
                )
            url: str | DatabaseURL = db.url
        else:
            if db is None:
                self.settings = load_settings()
                db = self.settings.url
                knobs = self.settings.pool_knobs()
            knobs.update(pool_knobs)
            url = db
        if ASYNC:
            # yoyo blocks: `open()` migrates on a worker thread, before the pool opens.
            self._migrate_on_open = migrate
            self._opened = False
        else:  # noqa: PLR5501  (an `if ASYNC:` block: the sync twin keeps only this body)
            if migrate:
                run_migrations(url)
        self.owns_pool = not isinstance(db, AsyncPool)
        self.pool = db if isinstance(db, AsyncPool) else AsyncPool(url, **knobs)
        self.scope = AsyncDbScope(self.pool)
        self.queries = load_queries()
        # The trading entities and the audit trail share the store's scope, so their writes
        # join `store.transaction()` like the run records do. They always raise: `on_error`
        # covers only the fire-and-forget run records, never an order's state.
        entities = async_bind_all(self.scope, self.queries)
        self.accounts = entities.accounts
        self.portfolios = entities.portfolios
        self.orders = entities.orders
        self.trades = entities.trades
        self.positions = entities.positions
        self.audit = entities.audit

    @classmethod
    def from_env(
        cls, *, on_error: OnError = "raise", migrate: bool = False, **pool_knobs: Any
    ) -> AsyncTradeStore:
        """A store on DATABASE_URL, sized by DB_POOL_SIZE / DB_MAX_OVERFLOW (see settings)."""
        return cls(None, on_error=on_error, migrate=migrate, **pool_knobs)

    # -- lifetime ----------------------------------------------------------------------

    if ASYNC:

        async def open(self) -> None:
            """Migrate (with ``migrate=True``) and open the pool's first connections, so a
            wrong URL fails here; ``async with store:`` calls it.

            yoyo's migrations block, so they run on a worker thread while the event loop
            goes on; the pool opens only after they are done.
            """
            if self._migrate_on_open:
                await asyncio.to_thread(run_migrations, self.pool.url)
                self._migrate_on_open = False
            if self.owns_pool and not self._opened:
                self._opened = True
                await self.pool.open()

    async def close(self) -> None:
        """Close the pool if the store opened it; a pool passed in stays open (its owner's)."""
        if self.owns_pool:
            await self.pool.close()

    async def __aenter__(self) -> AsyncTradeStore:
        if ASYNC:
            await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.pool.url.redacted!r}, on_error={self.on_error!r})"

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
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

    async def health_check(self) -> dict[str, Any]:
        """The pool's health report plus whether the bot run tables exist; never raises.

        ``schema`` is ``{"ready": bool, "missing_tables": [...]}`` (one catalogue query), so a
        bot started against an unmigrated database learns it at start-up, not at its first
        write. The database appears only redacted (never a password).
        """
        report = await self.pool.health_check()
        report["on_error"] = self.on_error
        if report["status"] != "healthy":
            report["schema"] = {"ready": False, "missing_tables": None}
            return report
        try:
            present = set(await list_tables(self.pool))
        except Exception as exc:  # noqa: BLE001  (reported, not raised)
            report["schema"] = {"ready": False, "missing_tables": None, "error": type(exc).__name__}
            return report
        report["schema"] = schema_report(present)
        return report


__all__ = ["BOT_RUN_TABLES", "NO_LIMIT", "AsyncTradeStore", "OnError", "ratio_return"]

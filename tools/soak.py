"""Soak: the demo bot on PostgreSQL, several threads, while the pool's backends are killed.

``make soak`` (SOAK_SECONDS, default 60) or ``python tools/soak.py --seconds 60``. The database
is DATABASE_URL when it is a PostgreSQL URL, else TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test. The soak works in a schema of its own (created,
migrated, dropped at the end) under an application_name of its own, so the only backends it
kills are its own pool's.

Each thread runs a `tradestore.trading.demo.SimulatedBot` (trades, equity points, iterations, risk
snapshots, orders with partial fills, positions, audit rows) through ONE `TradeStore`, one
transaction per iteration, while a fault thread terminates every backend of the pool every
~2.5 s. Every statement that creates a row is watched: the key of the row it returned (id or
correlation id) goes to a ledger, which keeps it as *acknowledged* when the iteration commits,
or as *unconfirmed* when the iteration raised (a failure at COMMIT may or may not have stored
it). At the end the rows in the database are compared with the ledger, table by table:

- lost: acknowledged and not stored (must be 0);
- unexplained: stored, but neither acknowledged nor unconfirmed (must be 0).

Prints one summary line (last line, starting ``soak:``); exits 1 on any lost or unexplained
row, on an error that is not the kit's (`TradestoreError`), or when no fault was injected
(nothing was proved); 2 when the soak could not start.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

import tradestore
from tradestore.db.pool import PoolStats
from tradestore.db.url import parse_url, redact
from tradestore.errors import TradestoreError
from tradestore.queries.loader import Queries
from tradestore.queries.query import Query
from tradestore.trading.demo import START_PRICES, SimulatedBot

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
POOL_MAX = 4
POOL_TIMEOUT_S = 15.0

Key = int | str

#: Every statement of the kit that creates a row: the table it writes and the key the soak
#: reads back (from the returned row, or from the parameters for the upsert, which returns
#: nothing). A new one the soak does not know stops it: its rows would go unaccounted.
WRITES: dict[str, tuple[str, str]] = {
    "insert_account": ("accounts", "id"),
    "insert_portfolio": ("portfolios", "id"),
    "insert_order": ("orders", "id"),
    "insert_trade": ("trades", "id"),
    "insert_position": ("positions", "id"),
    "insert_audit_log": ("audit_logs", "id"),
    "insert_equity_point": ("equity_curve", "id"),
    "insert_iteration": ("iteration_log", "id"),
    "insert_risk_metrics": ("risk_metrics", "id"),
    "insert_audit_report": ("audit_report_log", "id"),
    "upsert_trade_record": ("trade_history", "correlation_id"),
}
TABLES = sorted({table for table, _ in WRITES.values()})


# -- the ledger --------------------------------------------------------------------------


class Ledger:
    """Row keys per table: acknowledged (their unit of work returned) or unconfirmed (it
    raised). A unit is what commits at once: one bot iteration, in one transaction."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.acknowledged: dict[str, set[Key]] = {t: set() for t in TABLES}
        self.unconfirmed: dict[str, set[Key]] = {t: set() for t in TABLES}

    def note(self, table: str, key: Key) -> None:
        pending: list[tuple[str, Key]] | None = getattr(self._local, "pending", None)
        if pending is None:
            raise RuntimeError(f"a write to {table} outside a ledger unit: it cannot be judged")
        pending.append((table, key))

    @contextmanager
    def unit(self) -> Iterator[None]:
        self._local.pending = []
        try:
            yield
        except BaseException:
            self._settle(self.unconfirmed)
            raise
        else:
            self._settle(self.acknowledged)
        finally:
            self._local.pending = None

    def _settle(self, into: dict[str, set[Key]]) -> None:
        with self._lock:
            for table, key in self._local.pending:
                into[table].add(key)


def _noting(query: Query, ledger: Ledger, table: str, key: str) -> Callable[..., Any]:
    def call(db: Any, /, **params: Any) -> Any:
        row = query(db, **params)
        if key in params:
            ledger.note(table, params[key])
        elif row is None:
            raise RuntimeError(f"{query.name} returned no row: nothing to account for")
        else:
            ledger.note(table, getattr(row, key))
        return row

    return call


def watch_writes(store: tradestore.TradeStore, ledger: Ledger) -> None:
    """Route every row-creating query of the store (its repositories share the same query
    object) through the ledger."""
    queries = cast(Queries, store.queries)
    unknown = [
        q.name
        for q in queries
        if q.name.startswith(("insert_", "upsert_")) and q.name not in WRITES
    ]
    if unknown:
        raise SystemExit(f"soak: unknown write queries {unknown}: add them to WRITES")
    for name, (table, key) in WRITES.items():
        setattr(queries, name, _noting(queries[name], ledger, table, key))


# -- the bots ------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """What the bot threads saw; read once every thread has ended."""

    iterations: int = 0
    raised: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    unclear: list[BaseException] = dataclasses.field(default_factory=list)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def failed(self, exc: Exception) -> None:
        with self.lock:
            # A failure at COMMIT is the ambiguous one: the server may have committed.
            at_commit = " at COMMIT" if str(exc).startswith("COMMIT failed") else ""
            self.raised[type(exc).__name__ + at_commit] += 1
            if not isinstance(exc, TradestoreError):
                self.unclear.append(exc)


def reconcile(store: tradestore.TradeStore, bot: SimulatedBot) -> None:
    """After a failed iteration the bot's memory is rolled back with it; its open positions
    are then re-read, since a failure at COMMIT may have stored the iteration after all."""
    rows = store.positions.list(portfolio_id=bot.portfolio.id, status="open", limit=1000)
    bot.book.positions = {p.symbol: p for p in rows}


def run_bot(
    store: tradestore.TradeStore,
    bot: SimulatedBot,
    ledger: Ledger,
    outcome: Outcome,
    stop: threading.Event,
) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    number = 0
    stale = False
    while not stop.is_set():
        try:
            if stale:
                reconcile(store, bot)
                stale = False
            number += 1
            saved = dataclasses.replace(bot.book, positions=dict(bot.book.positions))
            try:
                with ledger.unit():
                    bot.iterate(number, start + dt.timedelta(seconds=number))
            except Exception:
                bot.book = saved
                stale = True
                raise
            with outcome.lock:
                outcome.iterations += 1
        except Exception as exc:  # noqa: BLE001  (counted; a non-kit error fails the soak)
            outcome.failed(exc)
            time.sleep(0.01)  # a failing call must not spin


def make_bots(store: tradestore.TradeStore, ledger: Ledger, count: int) -> list[SimulatedBot]:
    bots = []
    for seed in range(count):
        with ledger.unit(), store.transaction():
            bots.append(SimulatedBot.start(store, list(START_PRICES), seed))
    return bots


def finish_bots(
    store: tradestore.TradeStore, bots: Sequence[SimulatedBot], ledger: Ledger, outcome: Outcome
) -> None:
    now = dt.datetime.now(dt.UTC)
    for bot in bots:
        try:
            with ledger.unit(), store.transaction():
                bot.finish(now)
        except Exception as exc:  # noqa: BLE001  (counted like the iterations)
            outcome.failed(exc)


# -- the faults ----------------------------------------------------------------------------


@dataclasses.dataclass
class Faults:
    injected: int = 0
    backends_killed: int = 0


def inject_faults(
    admin_conninfo: str, application_name: str, every: float, stop: threading.Event, out: Faults
) -> None:
    """Terminate every backend of the pool, every `every` seconds (+-20 %), first at half."""
    rng = random.Random()
    with psycopg.connect(
        admin_conninfo, autocommit=True, application_name=f"{application_name}-faults"
    ) as admin:
        pause = every / 2
        while not stop.wait(pause):
            row = admin.execute(
                "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) "
                "FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            ).fetchone()
            killed = int(row[0]) if row else 0
            if killed:
                out.injected += 1
                out.backends_killed += killed
            pause = rng.uniform(0.8 * every, 1.2 * every)


# -- the comparison ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TableResult:
    table: str
    acknowledged: int
    unconfirmed: int
    unconfirmed_stored: int
    stored: int
    lost: int
    unexplained: int


def stored_keys(admin: psycopg.Connection[Any], schema: str) -> dict[str, set[Key]]:
    keys: dict[str, set[Key]] = {}
    for table in TABLES:
        column = next(key for t, key in WRITES.values() if t == table)
        rows = admin.execute(f'SELECT {column} FROM "{schema}".{table}').fetchall()
        keys[table] = {row[0] for row in rows}
    return keys


def compare(ledger: Ledger, stored: dict[str, set[Key]]) -> list[TableResult]:
    results = []
    for table in TABLES:
        acked, unsure, rows = ledger.acknowledged[table], ledger.unconfirmed[table], stored[table]
        results.append(
            TableResult(
                table=table,
                acknowledged=len(acked),
                unconfirmed=len(unsure),
                unconfirmed_stored=len(unsure & rows),
                stored=len(rows),
                lost=len(acked - rows),
                unexplained=len(rows - acked - unsure),
            )
        )
    return results


# -- the run -------------------------------------------------------------------------------


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if parse_url_dialect(url) == "postgresql":
        return url
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_URL


def parse_url_dialect(url: str) -> str | None:
    try:
        return parse_url(url).dialect
    except TradestoreError:
        return None


def with_options(url: str, **options: str) -> str:
    """`url` with these query options set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in options]
    query.extend(options.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def soak(url: str, seconds: float, threads: int, fault_every: float) -> int:
    name = f"soak_{uuid.uuid4().hex[:12]}"
    store_url = with_options(url, schema=name, application_name=name)
    admin_conninfo = parse_url(url).conninfo()
    print(
        f"running the demo bot: {threads} threads, {seconds:g} s, pool backends killed every "
        f"~{fault_every:g} s; {parse_url(url).redacted}, schema {name}",
        flush=True,
    )
    with psycopg.connect(admin_conninfo, autocommit=True, application_name=f"{name}-admin") as a:
        a.execute(f'CREATE SCHEMA "{name}"')
    try:
        tradestore.migrate(store_url)
        return run(
            store_url, admin_conninfo, name, seconds=seconds, threads=threads, every=fault_every
        )
    finally:
        with psycopg.connect(
            admin_conninfo, autocommit=True, application_name=f"{name}-admin"
        ) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            )
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


def run(
    store_url: str, admin_conninfo: str, name: str, *, seconds: float, threads: int, every: float
) -> int:
    ledger, outcome, faults = Ledger(), Outcome(), Faults()
    stop = threading.Event()
    with tradestore.TradeStore(
        store_url, on_error="raise", min_size=2, max_size=POOL_MAX, timeout=POOL_TIMEOUT_S
    ) as store:
        watch_writes(store, ledger)
        bots = make_bots(store, ledger, threads)
        workers = [
            threading.Thread(target=run_bot, args=(store, bot, ledger, outcome, stop))
            for bot in bots
        ]
        workers.append(
            threading.Thread(target=inject_faults, args=(admin_conninfo, name, every, stop, faults))
        )
        started = time.monotonic()
        for t in workers:
            t.start()
        stop.wait(seconds)
        stop.set()
        for t in workers:
            t.join()
        elapsed = time.monotonic() - started
        finish_bots(store, bots, ledger, outcome)
        pool = store.pool.stats()
    with psycopg.connect(admin_conninfo, autocommit=True, application_name=f"{name}-admin") as a:
        results = compare(ledger, stored_keys(a, name))
    return report(results, outcome, faults, pool, elapsed=elapsed, threads=len(bots))


def report(
    results: Sequence[TableResult],
    outcome: Outcome,
    faults: Faults,
    pool: PoolStats,
    *,
    elapsed: float,
    threads: int,
) -> int:
    """Print the table-by-table comparison and the summary line; return the exit status."""
    for r in results:
        print(
            f"  {r.table:<17} acknowledged {r.acknowledged:>7}  stored {r.stored:>7}  "
            f"unconfirmed {r.unconfirmed} ({r.unconfirmed_stored} stored)  lost {r.lost}  "
            f"unexplained {r.unexplained}"
        )
    raised = sum(outcome.raised.values())
    kinds = ", ".join(f"{kind} {n}" for kind, n in outcome.raised.most_common()) or "none"
    print(f"  iterations {outcome.iterations}, raised: {kinds}")
    print(
        f"  pool: {pool.created} connections opened, {pool.failed_checks} dead ones caught at "
        f"checkout, {pool.timeouts} checkout timeouts; {faults.backends_killed} backends killed"
    )
    for exc in outcome.unclear[:5]:
        print(f"  not a TradestoreError: {exc!r}", file=sys.stderr)
    acknowledged = sum(r.acknowledged for r in results)
    lost = sum(r.lost for r in results)
    unexplained = sum(r.unexplained for r in results)
    print(
        f"soak: {elapsed:.1f} s, {threads} threads, writes {acknowledged} acknowledged / "
        f"{sum(r.stored for r in results)} stored, {faults.injected} faults injected, "
        f"{raised} raised ({sum(r.unconfirmed for r in results)} writes unconfirmed, "
        f"{sum(r.unconfirmed_stored for r in results)} of them stored), "
        f"unexplained {unexplained}, lost {lost}",
        flush=True,
    )
    ok = lost == 0 and unexplained == 0 and not outcome.unclear
    return 0 if ok and faults.injected > 0 and acknowledged > 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--fault-every", type=float, default=2.5, help="seconds between kills")
    parser.add_argument("--url", default=None, help="PostgreSQL URL (default: see above)")
    args = parser.parse_args(argv)
    url = args.url or database_url()
    if parse_url_dialect(url) != "postgresql":
        print(f"soak: needs a PostgreSQL URL, got {redact(url)!r}", file=sys.stderr)
        return 2
    try:
        return soak(url, args.seconds, args.threads, args.fault_every)
    except (psycopg.Error, TradestoreError) as exc:
        detail = redact(str(exc), parse_url(url).password)
        print(f"soak: could not run: {type(exc).__name__}: {detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

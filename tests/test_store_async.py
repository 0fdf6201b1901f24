"""AsyncTradeStore on real PostgreSQL and real SQLite: what only the async face has.

The whole API of the store, its repositories and its audit trail also runs on the async face
in test_store.py, test_store_maintenance.py, test_repositories.py, test_audit.py and
test_order_lifecycle.py (their fixtures are parametrized by `face`, see `faces`). Here:
opening (migrations off the event loop), transactions per task (savepoints, tasks that do not
join, cancellation), and the proof that the event loop is never blocked: a ticker that must
keep ticking while 100 tasks hammer the store and another process holds the write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tradestore import Pool, migrate
from tradestore.db.backends.sqlite_aio import Worker
from tradestore.db.pool_async import AsyncPool
from tradestore.db.url import parse_url
from tradestore.errors import QueryError, TradestoreError
from tradestore.trading.inputs import TradeSignal
from tradestore.trading.store_async import AsyncTradeStore

T = TypeVar("T")
T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
#: The longest the event loop may go without running the ticker. Generous: the loop also
#: runs 100 tasks' own Python (validation, binding, row building) and shares 2 cores with
#: other test runs; a blocking call on the loop holds it for the outside writer's whole hold.
MAX_GAP_S = 0.2
#: How long the outside writer keeps the write lock each time, and how long it lets go: a
#: call that waits for it on the loop stalls the loop for up to HOLD_S, twice MAX_GAP_S.
HOLD_S, PAUSE_S = 0.4, 0.25


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def sig(symbol: str = "AAPL", **changes: Any) -> TradeSignal:
    values: dict[str, Any] = {
        "symbol": symbol,
        "action": "BUY",
        "strategy_name": "async",
        "quantity": "2",
        "signal_price": "10.5",
        "signal_time": T0,
    }
    values.update(changes)
    return TradeSignal.model_validate(values)


def open_store(url: str, **knobs: Any) -> AsyncTradeStore:
    knobs.setdefault("min_size", 1)
    knobs.setdefault("max_size", 4)
    knobs.setdefault("timeout", 30)
    return AsyncTradeStore(url, **knobs)


# -- the instruments: a ticker on the loop, a writer outside the store ---------------------


class Ticker:
    """A task sleeping 1 ms in a loop: the gaps between its wake-ups say how long the event
    loop was busy elsewhere (or blocked)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []

    @property
    def max_gap(self) -> float:
        return max(self.gaps, default=0.0)

    @property
    def p99(self) -> float:
        ordered = sorted(self.gaps) or [0.0]
        return ordered[int(0.99 * (len(ordered) - 1))]

    def summary(self) -> str:
        return (
            f"{len(self.gaps)} ticks, p99 gap {self.p99 * 1000:.1f} ms, "
            f"max gap {self.max_gap * 1000:.1f} ms"
        )

    async def _tick(self, stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.gaps.append(now - last)
            last = now


@contextlib.asynccontextmanager
async def ticking() -> AsyncIterator[Ticker]:
    """Tick meanwhile. The garbage collector is off while the ticker runs (as timeit does): a
    full collection in the test process's big heap pauses every thread, loop or not."""
    ticker = Ticker()
    stop = asyncio.Event()
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    task = asyncio.create_task(ticker._tick(stop))
    await asyncio.sleep(0)  # the ticker's first tick is armed before the work starts
    try:
        yield ticker
    finally:
        stop.set()
        await task
        if collecting:
            gc.enable()


@contextlib.contextmanager
def outside_writer(url: str) -> Iterator[threading.Event]:
    """Another client of the database (a thread with its own connection, as another process
    would) that takes the write lock on trade_history for HOLD_S, lets go for PAUSE_S, and
    again, until the block ends: the store's writes must wait for it. Yields an event it sets
    each time it has just taken the lock (clear it, then wait for it: a hold begins)."""
    stop, holding = threading.Event(), threading.Event()

    def sqlite_hold() -> None:
        conn = sqlite3.connect(str(parse_url(url).database), isolation_level=None, timeout=60)
        try:
            while not stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                holding.set()
                time.sleep(HOLD_S)
                conn.execute("COMMIT")
                time.sleep(PAUSE_S)
        finally:
            conn.close()

    def postgres_hold() -> None:
        with Pool(url, min_size=0, max_size=1) as pool:
            while not stop.is_set():
                with pool.transaction() as conn:
                    conn.execute("LOCK TABLE trade_history IN SHARE ROW EXCLUSIVE MODE")
                    holding.set()
                    time.sleep(HOLD_S)
                time.sleep(PAUSE_S)

    hold = sqlite_hold if url.startswith("sqlite") else postgres_hold
    thread = threading.Thread(target=hold, name="outside-writer", daemon=True)
    thread.start()
    try:
        assert holding.wait(timeout=30), "the outside writer never got the lock"
        yield holding
    finally:
        stop.set()
        thread.join(timeout=30)


# -- the hammer ------------------------------------------------------------------------------


async def bot(store: AsyncTradeStore, portfolio_id: int, n: int) -> None:
    """One task of many: run records and entities, writes in and out of a transaction, reads."""
    cid = await store.log_trade(sig(f"S{n % 7}"), {"executed": True, "fill_price": "10.5"})
    async with store.transaction():
        await store.log_equity_snapshot(1000 + n, ts=T0 + dt.timedelta(seconds=n))
        await store.log_iteration({"iteration_number": n})
    assert (await store.get_trade(cid)) is not None
    await store.get_trade_history(symbol=f"S{n % 7}", limit=5)
    order = await store.orders.submit(
        portfolio_id=portfolio_id, symbol="AAPL", side="buy", order_type="market", quantity=2
    )
    filled, _ = await store.orders.fill(order.id, quantity=2, price="10.25")
    assert filled.status == "filled"
    assert len(await store.audit.get_entity_history("order", order.id)) == 2


async def hammer(store: AsyncTradeStore, tmp_path: Path, tasks: int) -> None:
    account = await store.accounts.create(name="hammer")
    portfolio = await store.portfolios.create(account_id=account.id, name="core")
    await asyncio.gather(
        *(bot(store, portfolio.id, n) for n in range(tasks)),
        store.create_backup(tmp_path / "during.backup"),
        store.archive("iteration_log", T0 + dt.timedelta(days=365), tmp_path / "iter.jsonl"),
        store.health_check(),
    )


# -- opening ---------------------------------------------------------------------------------


def test_migrations_run_when_the_store_opens_off_the_loop(db_url: str) -> None:
    """yoyo blocks; it runs on a worker thread while the loop goes on. On SQLite (whose
    migrations are quick) another client holds the write lock meanwhile, so a migration on
    the loop would stall it for the whole hold."""
    sqlite = db_url.startswith("sqlite")

    async def go() -> Ticker:
        store = open_store(db_url, migrate=True)
        assert not await store.table_exists("trade_history")  # construction migrates nothing
        with outside_writer(db_url) if sqlite else contextlib.nullcontext():
            async with ticking() as ticker, store:
                assert await store.table_exists("trade_history")
                assert (await store.health_check())["schema"]["ready"] is True
        return ticker

    ticker = run(go())
    print(f"\nmigrating at start-up ({db_url.split(':', maxsplit=1)[0]}): {ticker.summary()}")
    assert ticker.max_gap < MAX_GAP_S, f"the loop stalled while migrating: {ticker.summary()}"


def test_from_env_reads_the_environment(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DB_POOL_SIZE", "1")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "2")

    async def go() -> None:
        async with AsyncTradeStore.from_env(migrate=True, on_error="log") as store:
            assert store.settings is not None
            assert store.pool.max_size == 3
            assert store.on_error == "log"
            assert repr(store).startswith("AsyncTradeStore(")
            assert (await store.health_check())["schema"]["ready"] is True
        assert store.pool.closed

    run(go())


def test_a_pool_passed_in_stays_open(db_url: str) -> None:
    migrate(db_url)

    async def go() -> None:
        async with AsyncPool(db_url, min_size=0, max_size=2) as pool:
            async with AsyncTradeStore(pool) as store:
                assert store.pool is pool
                assert store.owns_pool is False
                await store.log_trade(sig())
            assert not pool.closed
            assert len(await AsyncTradeStore(pool).get_trade_history()) == 1
            with pytest.raises(TypeError, match="max_size"):
                AsyncTradeStore(pool, max_size=3)

    run(go())


def test_on_error_raise_names_the_query_and_log_covers_a_closed_pool(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> None:
        async with open_store(db_url) as unmigrated:
            with pytest.raises(QueryError, match=r"query upsert_trade_record \(.*\.sql:\d+\)"):
                await unmigrated.log_trade(sig())
        closed = open_store(db_url, on_error="log")
        await closed.close()
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            assert await closed.log_trade(sig(), correlation_id="after-close") == "after-close"
        with pytest.raises(ValueError, match="on_error"):
            AsyncTradeStore(db_url, on_error="ignore")  # type: ignore[arg-type]

    run(go())
    assert any("after-close" in r.getMessage() for r in caplog.records)


def test_health_check_never_raises_nor_shows_the_password() -> None:
    url = "postgresql://bot:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=1"

    async def go() -> None:
        store = open_store(url, min_size=0, max_size=1, timeout=2)
        report = await store.health_check()
        assert report["status"] == "unhealthy"
        assert report["schema"]["ready"] is False
        assert "s3cr3t-pw" not in repr(report) + repr(store)
        with pytest.raises(TradestoreError) as exc:
            await store.get_trade_history()
        assert "s3cr3t-pw" not in str(exc.value)
        await store.close()

    run(go())


# -- transactions are per task ---------------------------------------------------------------


@pytest.fixture
def migrated(db_url: str) -> str:
    migrate(db_url)
    return db_url


def test_nested_transactions_are_savepoints(migrated: str) -> None:
    async def go() -> None:
        async with open_store(migrated) as store:
            async with store.transaction():
                await store.log_trade(sig("KEEP"), correlation_id="keep")
                with pytest.raises(RuntimeError, match="inner"):
                    async with store.transaction():
                        await store.log_trade(sig("DROP"), correlation_id="drop")
                        await store.accounts.create(name="dropped too")
                        raise RuntimeError("inner")
                async with store.session():
                    await store.log_equity_snapshot(100, ts=T0)
            assert [t.correlation_id for t in await store.get_trade_history()] == ["keep"]
            assert await store.accounts.list() == []
            assert len(await store.get_equity_curve()) == 1

    run(go())


def test_a_task_started_inside_a_transaction_does_not_join_it(migrated: str) -> None:
    async def outside(store: AsyncTradeStore, cid: str) -> tuple[bool, bool]:
        return store.scope.current is None, await store.get_trade(cid) is None

    async def go() -> None:
        async with open_store(migrated) as store:
            async with store.transaction() as conn:
                assert store.scope.current is conn
                cid = await store.log_trade(sig())
                # A task copies the context, not the transaction: it reads through the pool
                # and does not see the uncommitted row.
                assert await asyncio.create_task(outside(store, cid)) == (True, True)
                assert await store.get_trade(cid) is not None  # this task does
            assert await asyncio.create_task(outside(store, cid)) == (True, False)

    run(go())


def test_tasks_have_transactions_of_their_own(migrated: str) -> None:
    async def batch(store: AsyncTradeStore, n: int) -> None:
        async with store.transaction():
            for i in range(3):
                await store.log_trade(sig(f"T{n}"), correlation_id=f"{n}-{i}")
                await asyncio.sleep(0)  # let the other tasks interleave
            if n % 3 == 0:
                raise RuntimeError(f"batch {n} fails")

    async def go() -> None:
        async with open_store(migrated, max_size=4) as store:
            outcomes = await asyncio.gather(
                *(batch(store, n) for n in range(9)), return_exceptions=True
            )
            assert [isinstance(o, RuntimeError) for o in outcomes] == [n % 3 == 0 for n in range(9)]
            stored = {t.correlation_id for t in await store.get_trade_history()}
            assert stored == {f"{n}-{i}" for n in range(9) if n % 3 for i in range(3)}

    run(go())


def test_cancelling_a_task_inside_a_transaction_rolls_back_and_frees_the_pool(
    migrated: str,
) -> None:
    async def holder(store: AsyncTradeStore, portfolio_id: int, locked: asyncio.Event) -> None:
        async with store.transaction():
            await store.log_trade(sig("GONE"), correlation_id="cancelled-write")
            order = await store.orders.submit(
                portfolio_id=portfolio_id, symbol="X", side="buy", order_type="market", quantity=1
            )
            await store.orders.fill(order.id, quantity=1, price=1)
            locked.set()
            await asyncio.sleep(3600)  # cancelled here, transaction open, locks held

    async def waiter(store: AsyncTradeStore, locked: asyncio.Event) -> None:
        await locked.wait()
        async with store.transaction():
            # Waits for the holder's write lock (SQLite) / blocks nothing (PostgreSQL) and is
            # cancelled wherever it is.
            await store.log_trade(sig("ALSO GONE"), correlation_id="waiting-write")
            await asyncio.sleep(3600)

    async def go() -> None:
        async with open_store(migrated, min_size=1, max_size=3) as store:
            account = await store.accounts.create(name="c")
            portfolio = await store.portfolios.create(account_id=account.id, name="p")
            locked = asyncio.Event()
            tasks = [
                asyncio.create_task(holder(store, portfolio.id, locked)),
                asyncio.create_task(waiter(store, locked)),
            ]
            await locked.wait()
            await asyncio.sleep(0.2)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with pytest.raises(asyncio.CancelledError):
                    await task
            stats = store.pool.stats()
            assert (stats.in_use, stats.waiting) == (0, 0)
            assert stats.idle == stats.size
            assert await store.get_trade_history() == []
            assert await store.orders.list() == []
            assert [a.action for a in await store.audit.get_audit_trail()] == ["create", "create"]
            # Every connection of the pool still works, inside a transaction too.
            async with store.transaction():
                await store.log_trade(sig("AFTER"))
            assert len(await store.get_trade_history()) == 1
            assert store.pool.stats().in_use == 0

    run(go())


def test_a_cancelled_archive_loses_nothing(migrated: str, tmp_path: Path) -> None:
    """Cancelled anywhere (after ever longer delays: in a query, in the file's append and
    fsync, in the delete), an archive leaves every row in the table or in the file (a row
    leaves the table only once fsynced), and the pool clean; reruns finish the job."""
    ids = [f"c{n}" for n in range(5)]
    target = tmp_path / "trades.jsonl"
    cutoff = T0 + dt.timedelta(days=1)

    async def go() -> int:
        async with open_store(migrated) as store:
            for n, cid in enumerate(ids):
                await store.log_trade(sig(signal_time=T0 + dt.timedelta(minutes=n)), None, cid)
            for attempt in range(1, 500):
                task = asyncio.create_task(
                    store.archive("trade_history", cutoff, target, batch_size=1)
                )
                await asyncio.sleep(attempt * 0.0002)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                lines = target.read_text().splitlines() if target.exists() else []
                in_file = {json.loads(line)["correlation_id"] for line in lines}
                in_table = {t.correlation_id for t in await store.get_trade_history()}
                assert in_file | in_table == set(ids), f"lost after attempt {attempt}"
                assert store.pool.stats().in_use == 0
                if not in_table:
                    return attempt
        raise AssertionError("the archive never finished")

    assert run(go()) > 1  # cancelled at least once on the way


# -- backups on the async face ---------------------------------------------------------------


def test_backup_and_restore_round_trip(migrated: str, tmp_path: Path) -> None:
    if migrated.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")

    async def go() -> None:
        async with open_store(migrated) as store:
            await store.log_trade(sig("BEFORE"))
            written = await store.create_backup(tmp_path / "copy.backup")
            assert written == tmp_path / "copy.backup"
            await store.log_trade(sig("AFTER"))
            await store.restore_backup(written)
            assert [t.symbol for t in await store.get_trade_history()] == ["BEFORE"]

    run(go())


# -- the event loop is never blocked ---------------------------------------------------------


def test_the_loop_keeps_ticking_while_100_tasks_hammer_the_store(
    migrated: str, tmp_path: Path
) -> None:
    """100 tasks write and read (run records, orders and fills, audit, transactions) while a
    backup and an archive run and another client holds the write lock 60% of the time: no
    SQLite call, no connect, no file I/O may run on the loop, or the ticker stalls."""
    if migrated.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed (the hammer includes a backup)")

    async def go() -> Ticker:
        async with open_store(migrated, min_size=2, max_size=10) as store:
            with outside_writer(migrated):
                async with ticking() as ticker:
                    await hammer(store, tmp_path, tasks=100)
            assert len(await store.get_trade_history()) == 100
            assert len(await store.orders.list(status="filled", limit=1000)) == 100
            assert store.pool.stats().in_use == 0
        return ticker

    started = time.perf_counter()
    ticker = run(go())
    print(
        f"\nticker, 100 tasks on {migrated.split(':', maxsplit=1)[0]}: {ticker.summary()} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    assert ticker.max_gap < MAX_GAP_S, f"the event loop was blocked: {ticker.summary()}"


#: Audit events (PEP 578) that mean blocking I/O: files, folders, processes, connections.
BLOCKING_EVENTS = frozenset(
    {
        "open",
        "os.listdir",
        "os.mkdir",
        "os.remove",
        "os.rename",
        "os.scandir",
        "os.truncate",
        "socket.connect",
        "sqlite3.connect",
        "subprocess.Popen",
    }
)
_watched: list[tuple[int, list[str]]] = []  # (thread id, what it did), while a watch runs


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watched and event in BLOCKING_EVENTS and threading.get_ident() == _watched[-1][0]:
        _watched[-1][1].append(f"{event} {args[0]!r}" if args else event)


@contextlib.contextmanager
def blocking_io_on_this_thread() -> Iterator[list[str]]:
    """What the calling thread (the event loop's) opens, connects or spawns meanwhile."""
    if not getattr(sys, "_tradestore_audit_hook", False):
        sys.addaudithook(_audit)  # hooks cannot be removed: installed once, idle when unwatched
        sys._tradestore_audit_hook = True  # type: ignore[attr-defined]
    seen: list[str] = []
    _watched.append((threading.get_ident(), seen))
    try:
        yield seen
    finally:
        _watched.pop()


def test_no_file_io_and_no_connect_on_the_loop_thread(
    migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the ticker cannot time (a quick fsync, a small file) is caught where it happens:
    while a store opens its connections, writes, reads, backs up (default folder, so the
    settings are read and old backups pruned), restores, archives and purges, the loop's own
    thread opens no file, connects nothing and starts no process."""
    if migrated.startswith("postgresql") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    monkeypatch.setenv("DB_BACKUP_DIRECTORY", str(tmp_path / "backups"))

    async def housekeeping(store: AsyncTradeStore, name: str) -> None:
        await store.log_trade(sig())
        await store.accounts.create(name=name)
        assert (await store.health_check())["schema"]["ready"] is True
        written = await store.create_backup()
        assert await store.archive("trade_history", T0 + dt.timedelta(days=1), tmp_path / "a.csv")
        assert await store.purge_audit_logs() == 0
        assert (await store.get_table_info("orders")).name == "orders"
        await store.restore_backup(written)

    async def go() -> list[str]:
        # Process-wide caches fill on first use (e.g. psycopg reads the session's time zone
        # file once): a first round unwatched.
        async with open_store(migrated) as warm:
            await housekeeping(warm, "warm-up")
        store = open_store(migrated, min_size=2)  # construction reads sql/: start-up work
        with blocking_io_on_this_thread() as seen:
            async with store:
                await housekeeping(store, "watched")
        return seen

    assert run(go()) == []


def test_the_ticker_catches_a_blocking_call_on_the_loop(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instrument works: with SQLite's calls run on the loop's own thread (as a naive
    async wrapper would), a write that waits for the outside writer's lock stalls the loop
    and the ticker sees it."""

    async def on_the_loop(self: Worker, call: Callable[..., T], *args: Any) -> T:
        return call(*args)

    migrate(sqlite_url)
    monkeypatch.setattr(Worker, "run", on_the_loop)

    async def go() -> Ticker:
        async with open_store(sqlite_url) as store:
            with outside_writer(sqlite_url) as hold_begins:
                async with ticking() as ticker:
                    hold_begins.clear()
                    assert await asyncio.to_thread(hold_begins.wait, 30)
                    await store.log_trade(sig())  # waits out the hold, on the loop's thread
        return ticker

    ticker = run(go())
    assert ticker.max_gap > MAX_GAP_S, f"a blocked loop went unnoticed: {ticker.summary()}"

"""The async pool on both backends: every guarantee the sync pool has, on an event loop.

Checkout and return, transactions, min/max/timeout, first come first served, reset on return,
max idle/lifetime, the leak warning, stats and health; a connection one borrower's at a time
(double return, foreign connection and use after return refused; the session restored); heal
after the pool's PostgreSQL backends are killed; deadlines against a frozen, slow or silent
server (a `NetProxy` in front of the shared one) and permanent errors failing at once.
Cancellation has its own module (test_pool_async_cancel.py). Fork is sync-only.

The data these share with the sync tests (what a borrower may change in a session, the
misbehaving servers, the deadlines) is imported from the sync modules, not copied. Every wait
is bounded: a hang fails its test.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import pytest_asyncio
from psycopg.rows import dict_row

from netproxy import NetProxy
from test_pool_deadlines import (
    HANG_BOUND_S,
    SLACK_S,
    TIMEOUT_S,
    assert_retried_to_the_deadline,
    closed_port,
    server_that,
    via,
)
from test_pool_ownership import PG_CHANGES, SQLITE_CHANGES, _last_statement
from test_pool_postgres import CONNECTION_LOST, terminate
from tradestore import (
    ConnectionFailed,
    ConnectionRejected,
    PoolClosed,
    PoolError,
    PoolTimeout,
    QueryError,
)
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool_async import AsyncPool

BOUND_S = 30.0  # no single wait of these tests takes longer unless something hangs


# -- helpers the cancellation tests share ------------------------------------------------------


async def scalar(conn: AsyncConnection, sql: str, params: Any = None) -> Any:
    """The first column of the first row (both backends' async cursors fetch with await)."""
    cursor = await conn.execute(sql, params)
    row = await cursor.fetchone()
    return row[0]


def ph(pool: AsyncPool) -> str:
    """The driver's positional placeholder (these tests use ad-hoc SQL)."""
    return "?" if pool.dialect == "sqlite" else "%s"


async def until(condition: Callable[[], bool], what: str, timeout: float = BOUND_S) -> None:
    """Let the loop run until `condition` holds; fail saying `what` did not happen in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.005)


async def waiters(pool: AsyncPool, n: int) -> None:
    await until(lambda: pool.stats().waiting >= n, f"{n} waiters queued ({pool.stats()})")


async def settled(pool: AsyncPool) -> None:
    """The books balance: nobody waits, nothing is lent, no slot is still connecting (a
    background refill may be opening one: waited for), and the pool is within its sizes."""

    def balanced() -> bool:
        s = pool.stats()
        return s.waiting == 0 and s.in_use == 0 and s.size == s.idle

    await until(balanced, f"the pool's counters settling ({pool.stats()})")
    stats = pool.stats()
    assert stats.size <= pool.max_size, stats


async def count_rows(pool: AsyncPool) -> int:
    async with pool.connection() as conn:
        n: int = await scalar(conn, "SELECT COUNT(*) FROM ledger")
        return n


@asynccontextmanager
async def ledger_pool(url: str, **knobs: Any) -> AsyncIterator[AsyncPool]:
    """An open pool whose database has an empty `ledger` table."""
    knobs = {"min_size": 1, "max_size": 4, "timeout": 5, "name": "test-pool", **knobs}
    async with AsyncPool(url, **knobs) as pool:
        async with pool.transaction() as conn:
            await conn.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT)")
        yield pool


@pytest_asyncio.fixture
async def pool(db_url: str) -> AsyncIterator[AsyncPool]:
    async with ledger_pool(db_url) as p:
        yield p


# -- checkout, return, transactions ------------------------------------------------------------


@pytest.mark.asyncio
async def test_round_trip_stats_and_health(pool: AsyncPool) -> None:
    async with pool.connection() as conn:
        assert await scalar(conn, "SELECT 1") == 1
    stats = pool.stats()
    assert (stats.name, stats.size, stats.idle, stats.in_use) == ("test-pool", 1, 1, 0)
    assert stats.checkouts >= 2
    report = await pool.health_check()
    assert report["status"] == "healthy", report
    assert report["error"] is None
    await pool.close()
    report = await pool.health_check()
    assert report["status"] == "unhealthy"
    assert "closed" in report["error"]
    with pytest.raises(PoolClosed):
        await pool.getconn()


@pytest.mark.asyncio
async def test_transactions_commit_roll_back_and_nest(pool: AsyncPool) -> None:
    async with pool.transaction() as conn:
        await conn.execute(f"INSERT INTO ledger (id, note) VALUES (1, {ph(pool)})", ("kept",))
        with pytest.raises(ValueError, match="inner"):
            async with conn.transaction():
                await conn.execute("INSERT INTO ledger (id, note) VALUES (2, 'inner')")
                raise ValueError("inner")
    with pytest.raises(RuntimeError, match="boom"):
        async with pool.transaction() as conn:
            await conn.execute("INSERT INTO ledger (id, note) VALUES (3, 'lost')")
            raise RuntimeError("boom")
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT id FROM ledger ORDER BY id")
        assert [row[0] for row in await cursor.fetchall()] == [1]


@pytest.mark.asyncio
async def test_connection_returned_mid_transaction_is_rolled_back(pool: AsyncPool) -> None:
    async with pool.connection() as conn:
        await conn.execute(pool.backend.begin_sql)
        await conn.execute("INSERT INTO ledger (id, note) VALUES (1, 'abandoned')")
        assert conn.in_transaction
    async with pool.connection() as conn:
        assert not conn.in_transaction
    assert await count_rows(pool) == 0
    assert pool.stats().size == 1  # cleaned, not thrown away


@pytest.mark.asyncio
async def test_driver_errors_are_wrapped_with_sqlstate(pool: AsyncPool) -> None:
    async with pool.connection() as conn:
        with pytest.raises(QueryError) as info:
            await conn.execute("SELEC broken")
    assert info.value.__cause__ is not None
    assert info.value.sqlstate  # '42601' on PostgreSQL, 'SQLITE_ERROR' on SQLite


@pytest.mark.asyncio
async def test_timeout_names_pool_and_stats(pool: AsyncPool) -> None:
    held = [await pool.getconn() for _ in range(pool.max_size)]
    with pytest.raises(PoolTimeout) as info:
        await pool.getconn(timeout=0.2)
    assert "test-pool" in str(info.value)
    assert "size 4/4" in str(info.value)
    assert "in use 4" in str(info.value)
    assert pool.stats().timeouts == 1
    for conn in held:
        await pool.putconn(conn)
    async with pool.connection(timeout=0.2) as conn:  # free again
        assert await scalar(conn, "SELECT 1") == 1
    await settled(pool)


@pytest.mark.asyncio
async def test_waiters_are_served_first_come_first_served(db_url: str) -> None:
    """A task that returns a connection and asks again at once queues behind the waiters."""
    async with AsyncPool(db_url, min_size=0, max_size=1, timeout=10) as pool:
        order: list[str] = []
        held = await pool.getconn()

        async def take(name: str) -> None:
            async with pool.connection():
                order.append(name)

        tasks = []
        for n, name in enumerate(["first", "second"], start=1):
            tasks.append(asyncio.create_task(take(name)))
            await waiters(pool, n)
        await pool.putconn(held)
        await take("barger")
        async with asyncio.timeout(BOUND_S):
            await asyncio.gather(*tasks)
        assert order == ["first", "second", "barger"]
        assert pool.stats().timeouts == 0


@pytest.mark.asyncio
async def test_close_wakes_waiters_with_pool_closed(db_url: str) -> None:
    pool = AsyncPool(db_url, min_size=0, max_size=1, timeout=30)
    await pool.open()
    conn = await pool.getconn()
    waiter = asyncio.create_task(pool.getconn())
    await waiters(pool, 1)
    await pool.close()
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(PoolClosed):
            await waiter
    await pool.putconn(conn)  # returned after close: closed, not pooled
    assert pool.stats().size == 0


@pytest.mark.asyncio
async def test_many_tasks_never_exceed_max_size_nor_share_a_connection(pool: AsyncPool) -> None:
    tasks, rounds = 16, 100
    in_use: set[int] = set()
    peak = 0
    failures: list[str] = []
    p = ph(pool)

    async def worker(n: int) -> None:
        nonlocal peak
        for i in range(rounds):
            async with pool.connection() as conn:
                key = id(conn._live())  # the pooled connection, without marking it dirty
                if key in in_use:
                    failures.append(f"connection handed to two tasks at round {i}")
                in_use.add(key)
                peak = max(peak, len(in_use))
                token = n * 100_000 + i
                answer = await scalar(conn, f"SELECT {p}", (token,))
                if int(answer) != token:
                    failures.append(f"task {n} got {answer} for {token}")
                in_use.discard(key)

    async with asyncio.timeout(120):  # a deadlock fails here
        await asyncio.gather(*(worker(n) for n in range(tasks)))
    assert failures == []
    assert 1 <= peak <= pool.max_size
    assert pool.stats().checkouts >= tasks * rounds
    await settled(pool)


@pytest.mark.asyncio
async def test_concurrent_writers_lose_nothing(pool: AsyncPool) -> None:
    p = ph(pool)

    async def writer(n: int) -> None:
        for i in range(30):
            async with pool.transaction() as conn:
                await conn.execute(
                    f"INSERT INTO ledger (id, note) VALUES ({p}, {p})", (n * 1000 + i, f"w{n}")
                )

    async with asyncio.timeout(BOUND_S * 2):
        await asyncio.gather(*(writer(n) for n in range(6)))
    assert await count_rows(pool) == 180


@pytest.mark.asyncio
async def test_max_lifetime_and_max_idle(db_url: str) -> None:
    async with AsyncPool(db_url, min_size=1, max_size=3, max_lifetime=0.05) as pool:
        async with pool.connection() as conn:
            first = conn.raw  # held: a freed driver object's id() could be reused
        await asyncio.sleep(0.1)
        async with pool.connection() as conn:
            assert conn.raw is not first
        assert pool.stats().closed >= 1
    async with AsyncPool(db_url, min_size=1, max_size=3, max_idle=0.05) as pool:
        conns = [await pool.getconn() for _ in range(3)]
        for conn in conns:
            await pool.putconn(conn)
        assert pool.stats().size == 3
        await asyncio.sleep(0.1)
        async with pool.connection():
            pass
        assert pool.stats().size == 1  # back to min_size


@pytest.mark.asyncio
async def test_leak_warning_says_where_the_connection_was_taken(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tradestore.pool")
    async with AsyncPool(db_url, leak_threshold=0.01) as pool, pool.connection():
        await asyncio.sleep(0.03)
    assert any(
        "leak_threshold" in r.getMessage() and "test_pool_async.py" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.asyncio
async def test_a_wrong_database_fails_at_open_and_the_pool_closes(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my trading notes, not a database\n" * 100)
    pool = AsyncPool(f"sqlite:///{path}", min_size=1, timeout=5)
    with pytest.raises(ConnectionRejected, match="file is not a database"):
        await pool.open()
    assert pool.closed
    assert pool.stats().size == 0


# -- one borrower at a time ------------------------------------------------------------------


def sizes(pool: AsyncPool) -> tuple[int, int, int]:
    s = pool.stats()
    return s.size, s.idle, s.in_use


@pytest_asyncio.fixture
async def owner(db_url: str) -> AsyncIterator[AsyncPool]:
    """max_size=1: the next borrower is guaranteed the very connection the last one returned."""
    async with ledger_pool(db_url, max_size=1, name="owner") as p:
        yield p


@pytest.mark.asyncio
async def test_a_second_return_is_refused_and_changes_nothing(owner: AsyncPool) -> None:
    conn = await owner.getconn()
    await owner.putconn(conn)
    with pytest.raises(PoolError, match=r"already returned to pool 'owner'"):
        await owner.putconn(conn)
    assert sizes(owner) == (1, 1, 0)  # not idle 2 of max 1
    with pytest.raises(PoolError, match=r"already returned to pool 'owner'"):
        async with owner.connection() as conn:
            await owner.putconn(conn)
    first = await owner.getconn()
    with pytest.raises(PoolTimeout):  # one connection out of a max_size=1 pool, not two
        await owner.getconn(timeout=0.2)
    await owner.putconn(first)
    assert sizes(owner) == (1, 1, 0)


@pytest.mark.asyncio
async def test_connections_of_another_pool_or_face_are_refused(
    pg_url: str, sqlite_url: str
) -> None:
    async with (
        AsyncPool(pg_url, min_size=1, max_size=1, timeout=5, name="pg") as pg,
        AsyncPool(sqlite_url, min_size=1, max_size=1, timeout=5, name="lite") as lite,
    ):
        pg_conn, lite_conn = await pg.getconn(), await lite.getconn()
        with pytest.raises(PoolError, match=r"pool 'lite'.* does not own.*pool 'pg'"):
            await lite.putconn(pg_conn)
        with pytest.raises(PoolError, match=r"pool 'pg'.* does not own.*pool 'lite'"):
            await pg.putconn(lite_conn)
        with pytest.raises(PoolError, match=r"pool 'pg' does not own this AsyncConnection"):
            await pg.putconn(pg_conn.raw)  # the driver's connection, not the lease
        assert sizes(pg) == sizes(lite) == (1, 0, 1)
        # Still open and still their borrowers': the refusals closed nothing.
        assert await scalar(pg_conn, "SELECT 1") == 1
        assert await scalar(lite_conn, "SELECT 1") == 1
        await pg.putconn(pg_conn)
        await lite.putconn(lite_conn)
        assert sizes(pg) == sizes(lite) == (1, 1, 0)


async def _open_transaction(conn: AsyncConnection) -> None:
    async with conn.transaction():
        pass


USES: dict[str, Callable[[AsyncConnection], Awaitable[Any] | Any]] = {
    "execute a stale BEGIN": lambda conn: conn.execute(conn.backend.begin_sql),
    "transaction": _open_transaction,
    "raw": lambda conn: conn.raw,
    "in_transaction": lambda conn: conn.in_transaction,
}


@pytest.mark.parametrize("use", list(USES))
@pytest.mark.asyncio
async def test_a_returned_connection_refuses_every_use(owner: AsyncPool, use: str) -> None:
    async with owner.connection() as conn:
        pass
    async with owner.connection() as fresh:  # the next borrower holds the same connection
        with pytest.raises(PoolError, match=r"returned to pool 'owner'"):
            outcome = USES[use](conn)
            if asyncio.iscoroutine(outcome):
                await outcome
        assert not fresh.in_transaction  # a stale BEGIN did not reach it
    assert "returned" in repr(conn)


SESSION_CHANGES = [
    *(("postgresql", change, run, probe) for change, (run, probe) in PG_CHANGES.items()),
    *(("sqlite", change, run, probe) for change, (run, probe) in SQLITE_CHANGES.items()),
]


@pytest.mark.parametrize(
    ("dialect", "change", "run", "probe"),
    SESSION_CHANGES,
    ids=[f"{dialect}-{change}" for dialect, change, _, _ in SESSION_CHANGES],
)
@pytest.mark.asyncio
async def test_session_changes_do_not_reach_the_next_borrower(
    request: pytest.FixtureRequest, dialect: str, change: str, run: str, probe: str
) -> None:
    url = request.getfixturevalue("pg_url" if dialect == "postgresql" else "sqlite_url")
    async with AsyncPool(url, min_size=1, max_size=1, timeout=5, query_timeout=30) as pool:
        async with pool.connection() as conn:
            before = await scalar(conn, probe)
            await conn.execute(run)
            assert await scalar(conn, probe) != before  # the change took
        async with pool.connection() as conn:
            assert await scalar(conn, probe) == before


@pytest.mark.parametrize("client_side", ["autocommit", "row_factory", "read_only"])
@pytest.mark.asyncio
async def test_postgresql_driver_settings_are_restored(pg_url: str, client_side: str) -> None:
    async with AsyncPool(pg_url, min_size=1, max_size=1, timeout=5) as pool:
        async with pool.connection() as conn:
            pid = conn.raw.info.backend_pid
            if client_side == "autocommit":
                await conn.raw.set_autocommit(False)
            elif client_side == "row_factory":
                conn.raw.row_factory = dict_row
            else:
                await conn.raw.set_read_only(True)
        async with pool.connection() as conn:
            assert conn.raw.info.backend_pid == pid  # restored, not replaced
            assert conn.raw.autocommit is True
            assert conn.raw.read_only is None
            assert await scalar(conn, "SELECT 7") == 7  # tuple rows again
            assert not conn.in_transaction


@pytest.mark.parametrize("attribute", ["isolation_level", "row_factory", "text_factory"])
@pytest.mark.asyncio
async def test_sqlite_driver_settings_are_restored(sqlite_url: str, attribute: str) -> None:
    async with AsyncPool(sqlite_url, min_size=1, max_size=1, timeout=5) as pool:
        async with pool.connection() as conn:
            first = conn.raw
            changed = {"isolation_level": "DEFERRED", "row_factory": sqlite3.Row}
            setattr(conn.raw, attribute, changed.get(attribute, bytes))
        async with pool.connection() as conn:
            assert conn.raw is first  # restored, not replaced
            assert (conn.raw.isolation_level, conn.raw.row_factory) == (None, None)
            assert conn.raw.text_factory is str
            assert await (await conn.execute("SELECT 'x'")).fetchone() == ("x",)


@pytest.mark.asyncio
async def test_a_clean_return_costs_no_round_trip(
    pg_url: str, pg_schema: str, postgres_base_url: str
) -> None:
    async with AsyncPool(pg_url, min_size=1, max_size=1, timeout=5) as pool:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")  # ad-hoc SQL may change the session: restored
        assert _last_statement(postgres_base_url, pg_schema).startswith("CLOSE ALL")
        async with pool.transaction():
            pass
        assert _last_statement(postgres_base_url, pg_schema) == "COMMIT"  # nothing after it


# -- PostgreSQL: heal after the pool's backends are killed -------------------------------------


async def backend_pids(pool: AsyncPool) -> set[int]:
    conns = [await pool.getconn() for _ in range(pool.stats().size)]
    pids = {conn.raw.info.backend_pid for conn in conns}
    for conn in conns:
        await pool.putconn(conn)
    return pids


@pytest.mark.asyncio
async def test_heals_after_backends_are_terminated(pg_url: str, postgres_base_url: str) -> None:
    async with AsyncPool(pg_url, min_size=2, max_size=4, timeout=10) as pool:
        old = await backend_pids(pool)
        assert len(old) == 2
        terminate(postgres_base_url, old)
        # The very first checkouts after the kill succeed: no error reaches the caller.
        for _ in range(5):
            async with pool.connection() as conn:
                assert await scalar(conn, "SELECT 1") == 1
        assert not (await backend_pids(pool) & old)
        assert pool.stats().failed_checks >= 1


@pytest.mark.asyncio
async def test_heals_under_concurrent_load(pg_url: str, postgres_base_url: str) -> None:
    async with AsyncPool(pg_url, min_size=2, max_size=4, timeout=10) as pool:
        stop = asyncio.Event()
        errors: list[BaseException] = []
        done = [0]

        async def worker() -> None:
            while not stop.is_set():
                try:
                    async with pool.connection() as conn:
                        await conn.execute("SELECT 1")
                    done[0] += 1
                except Exception as exc:  # noqa: BLE001  (collected and asserted below)
                    errors.append(exc)
                await asyncio.sleep(0)

        tasks = [asyncio.create_task(worker()) for _ in range(4)]
        try:
            for _ in range(3):
                async with await psycopg.AsyncConnection.connect(
                    postgres_base_url, autocommit=True
                ) as admin:
                    await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = %s",
                        (pool.url.options["application_name"],),
                    )
                before = done[0]
                await until(
                    lambda: done[0] >= before + 50,  # noqa: B023  (awaited in this iteration)
                    "50 more checkouts after the kill (the pool did not heal)",
                )
        finally:
            stop.set()
            async with asyncio.timeout(BOUND_S):
                await asyncio.gather(*tasks)
        # Only a statement in flight when its backend died may fail, saying so.
        for exc in errors:
            assert isinstance(exc, QueryError), repr(exc)
            assert re.search(CONNECTION_LOST, str(exc)), str(exc)
        await settled(pool)


@pytest.mark.asyncio
async def test_swallowed_error_inside_transaction_is_not_committed(pg_url: str) -> None:
    async with ledger_pool(pg_url) as pool:
        with pytest.raises(QueryError, match="COMMIT refused"):
            async with pool.transaction() as conn:
                await conn.execute("INSERT INTO ledger (id) VALUES (1)")
                with pytest.raises(QueryError):
                    await conn.execute("INSERT INTO ledger (id) VALUES (1)")  # caught
        assert await count_rows(pool) == 0


# -- deadlines: a checkout returns or raises within its timeout, whatever the server does ------


async def raised_within(
    call: Callable[[], Awaitable[object]], bound: float = HANG_BOUND_S
) -> tuple[float, BaseException]:
    """How long `call` took to raise, and what; fails when it returns, or hangs past `bound`."""
    start = time.monotonic()
    deadline = asyncio.timeout(bound)
    try:
        async with deadline:
            await call()
    except Exception as exc:  # noqa: BLE001  (handed to the test)
        if deadline.expired():
            pytest.fail(f"still blocked after {bound:.0f}s: the deadline did not hold")
        return time.monotonic() - start, exc
    pytest.fail(f"returned after {time.monotonic() - start:.2f}s where it should have raised")


@pytest.mark.parametrize("kind", ["frozen", "slow", "syn"])
@pytest.mark.asyncio
async def test_checkout_deadline_holds_while_connecting(
    kind: str, proxy: NetProxy, pg_url: str
) -> None:
    with server_that(kind, proxy, pg_url) as url:
        async with AsyncPool(url, min_size=0, timeout=TIMEOUT_S, name="deadline") as pool:
            elapsed, error = await raised_within(pool.getconn)
            await settled(pool)  # the slot it reserved is free again
    assert isinstance(error, ConnectionFailed), error
    assert not isinstance(error, ConnectionRejected)
    assert TIMEOUT_S - 0.1 <= elapsed < TIMEOUT_S + SLACK_S, f"{kind}: {elapsed:.2f}s"
    assert "timeout expired" in str(error)
    assert "deadline" in str(error)


@pytest.mark.asyncio
async def test_slow_startup_within_the_deadline_connects(proxy: NetProxy, pg_url: str) -> None:
    proxy.mode = "freeze"
    asyncio.get_running_loop().call_later(0.8, setattr, proxy, "mode", "pass")
    async with AsyncPool(via(proxy, pg_url), min_size=0, timeout=TIMEOUT_S) as pool:
        start = time.monotonic()
        async with pool.connection() as conn:
            assert await scalar(conn, "SELECT 1") == 1
        assert 0.7 < time.monotonic() - start < TIMEOUT_S
        assert pool.stats().connect_errors == 0


@pytest.mark.parametrize("check", ["always", "auto"])
@pytest.mark.asyncio
async def test_checkout_deadline_holds_when_server_freezes_during_ping(
    check: Any, proxy: NetProxy, pg_url: str
) -> None:
    # "auto" pings a connection idle longer than check_idle_after (0 here: every checkout).
    pool = AsyncPool(
        via(proxy, pg_url), min_size=1, timeout=TIMEOUT_S, check=check, check_idle_after=0.0
    )
    try:
        await pool.open()
        proxy.mode = "freeze"  # the server stops between two checkouts
        elapsed, error = await raised_within(pool.getconn)
    finally:
        proxy.cut()
        await pool.close()
    assert isinstance(error, PoolError), error
    assert elapsed < TIMEOUT_S + SLACK_S
    assert pool.stats().failed_checks == 1


@pytest.mark.asyncio
async def test_stalled_connection_leaves_time_for_a_fresh_one(proxy: NetProxy, pg_url: str) -> None:
    async with AsyncPool(via(proxy, pg_url), min_size=1, timeout=TIMEOUT_S, check="always") as pool:
        assert proxy.stall_open() == 1
        start = time.monotonic()
        async with asyncio.timeout(HANG_BOUND_S), pool.connection() as conn:
            await conn.execute("SELECT 1")
        assert TIMEOUT_S / 2 - 0.1 <= time.monotonic() - start < TIMEOUT_S
        assert pool.stats().failed_checks == 1


@pytest.mark.asyncio
async def test_health_check_ends_by_its_timeout_on_a_frozen_server(
    proxy: NetProxy, pg_url: str
) -> None:
    async with AsyncPool(via(proxy, pg_url), min_size=1, timeout=TIMEOUT_S, check="never") as pool:
        proxy.mode = "freeze"
        start = time.monotonic()
        async with asyncio.timeout(HANG_BOUND_S):
            report = await pool.health_check(timeout=1.0)
        elapsed = time.monotonic() - start
        proxy.cut()
        await settled(pool)
    assert report["status"] == "unhealthy"
    assert "timeout expired" in report["error"]
    assert elapsed < 1.0 + SLACK_S


@pytest.mark.asyncio
async def test_sqlite_checkout_deadline_holds_on_a_locked_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")  # rollback-journal mode until the pool opens it
    holder.execute("BEGIN EXCLUSIVE")
    try:
        async with AsyncPool(f"sqlite:///{path}", min_size=0, timeout=1.0) as pool:
            elapsed, error = await raised_within(pool.getconn)
            assert isinstance(error, ConnectionFailed), error
            assert "locked" in str(error)
            assert elapsed < 1.0 + SLACK_S
            holder.rollback()
            async with pool.connection() as conn:  # the lock gone, the same pool connects
                assert await scalar(conn, "PRAGMA journal_mode") == "wal"
    finally:
        holder.close()


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def _with_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rpartition('@')[2]}"))


REJECTED: dict[str, tuple[Callable[[str], str], str]] = {
    "unknown database": (
        lambda base: _with_path(base, "/no_such_db_16"),
        'database "no_such_db_16" does not exist',
    ),
    "missing role": (
        lambda base: _with_user(base, "no_such_role_16"),
        'role "no_such_role_16" does not exist',
    ),
    "bad option": (lambda base: f"{base}?no_such_option=1", "no_such_option"),
}


@pytest.mark.parametrize("case", list(REJECTED))
@pytest.mark.asyncio
async def test_what_retrying_cannot_cure_fails_at_once(
    case: str, postgres_base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tradestore")
    make_url, says = REJECTED[case]
    pool = AsyncPool(make_url(postgres_base_url), min_size=1, timeout=20)
    _, error = await raised_within(pool.open, bound=5.0)
    assert isinstance(error, ConnectionRejected), error
    assert says in str(error)
    assert "Not retried" in str(error)
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]
    assert pool.closed


@pytest.mark.asyncio
async def test_refused_port_is_retried_to_the_deadline_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tradestore")
    url = f"postgresql://trader:hunter2@127.0.0.1:{closed_port()}/test"
    async with AsyncPool(url, min_size=0, timeout=1.5, name="refused") as pool:
        elapsed, error = await raised_within(pool.getconn)
        await settled(pool)
    assert_retried_to_the_deadline(elapsed, error, pool.stats(), caplog)

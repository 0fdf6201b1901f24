"""Cancellation safety of the async pool, on real PostgreSQL and real SQLite.

A task stopped by ``task.cancel()`` or by an ``asyncio.timeout()`` around its call, while it
waits for a connection, while one is opened or checked for it, mid-query, mid-COPY or inside
``async with pool.transaction()``, must leave the pool as it found it:

- the connection is not leaked: nothing stays lent, and every slot can be checked out again;
- it is never returned inside a transaction: the next borrower's connection is in none, and
  nothing the cancelled task had not committed is there;
- the counters are right: nobody waiting, nothing in use, size = idle, within max_size.

A cancelled statement stops: PostgreSQL's is cancelled server-side by psycopg, SQLite's is
interrupted on its connection's worker thread, and a cancelled write is not committed. Every
wait is bounded: a regression that hangs fails its test.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from netproxy import NetProxy
from test_pool_async import BOUND_S, ledger_pool, scalar, settled, until, waiters
from test_pool_deadlines import via
from tradestore import PoolTimeout, QueryError
from tradestore.db.pool_async import AsyncPool

HOW = ["cancel", "timeout"]
# Seconds of work that end only when cancelled: one row written at the very end, so a write
# that went on after its task was cancelled shows in the table.
SLOW_WRITE = {
    "postgresql": "INSERT INTO ledger (id, note) SELECT 1, 'cancelled' FROM pg_sleep(5)",
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) "
        "INSERT INTO ledger (id, note) SELECT MAX(i), 'cancelled' FROM n"
    ),
}
RUNNING_S = 0.1  # how long a statement runs before it is cancelled


async def interrupted(
    body: Callable[[], Awaitable[object]], how: str, reached: Callable[[], Awaitable[object]]
) -> None:
    """Run `body` as a task; once `reached()` returns, stop it as `how` says (``cancel``: the
    task is cancelled; ``timeout``: the ``asyncio.timeout()`` around the body expires). Fails
    unless the task ends so, within a bound."""
    deadline = asyncio.timeout(None)

    async def run() -> None:
        if how == "cancel":
            await body()
            return
        async with deadline:
            await body()

    task = asyncio.create_task(run())
    try:
        async with asyncio.timeout(BOUND_S):
            await reached()
        assert not task.done(), f"the task ended before it could be stopped: {task}"
        if how == "cancel":
            task.cancel()
        else:
            deadline.reschedule(asyncio.get_running_loop().time())
        done, _ = await asyncio.wait({task}, timeout=BOUND_S)
        assert done, f"the task did not end within {BOUND_S} s of being stopped"
    finally:
        task.cancel()  # a failed test leaves no task behind
    if how == "cancel":
        assert task.cancelled(), f"expected a cancellation, the task ended with {task}"
    else:
        assert isinstance(task.exception(), TimeoutError), task


async def assert_clean(pool: AsyncPool) -> None:
    """The counters balance, every slot can be checked out at once, and no connection is in a
    transaction or holds a row the cancelled task had not committed."""
    await settled(pool)
    conns = [await pool.getconn(timeout=5) for _ in range(pool.max_size)]
    try:
        for conn in conns:
            assert not conn.in_transaction
            assert await scalar(conn, "SELECT COUNT(*) FROM ledger") == 0
    finally:
        for conn in conns:
            await pool.putconn(conn)
    await settled(pool)


def signalled(event: asyncio.Event, running: float = 0.0) -> Callable[[], Awaitable[None]]:
    """`reached` for `interrupted`: `event` is set, then `running` seconds have passed."""

    async def wait() -> None:
        await event.wait()
        await asyncio.sleep(running)

    return wait


# -- the four places of the issue, on both backends, both ways -----------------------------------


WHERE = ["waiting", "mid-query", "mid-query in a transaction", "inside a transaction"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.asyncio
async def test_a_stopped_task_leaves_the_pool_clean(db_url: str, where: str, how: str) -> None:
    async with ledger_pool(db_url, min_size=1, max_size=2, timeout=BOUND_S) as pool:
        slow = SLOW_WRITE[pool.dialect]
        sent = asyncio.Event()
        held = [await pool.getconn() for _ in range(pool.max_size)] if where == "waiting" else []

        async def body() -> None:
            if where == "waiting":
                async with pool.connection():
                    pytest.fail("a waiter was served while every connection was held")
            elif where == "mid-query":
                async with pool.connection() as conn:
                    sent.set()
                    await conn.execute(slow)
            else:
                async with pool.transaction() as conn:
                    await conn.execute("INSERT INTO ledger (id, note) VALUES (2, 'uncommitted')")
                    sent.set()
                    if where == "inside a transaction":
                        await asyncio.sleep(BOUND_S)
                    else:
                        await conn.execute(slow)

        async def queued() -> None:
            await waiters(pool, 1)

        reached = queued if where == "waiting" else signalled(sent, RUNNING_S)
        await interrupted(body, how, reached)
        for conn in held:
            await pool.putconn(conn)
        await assert_clean(pool)
        assert pool.stats().timeouts == 0


@pytest.mark.parametrize("handed", ["a connection", "a slot"])
@pytest.mark.asyncio
async def test_a_waiter_cancelled_just_after_it_was_served_passes_it_on(
    db_url: str, handed: str
) -> None:
    """Served and cancelled before it could run: what it was handed goes to the next waiter."""
    lifetime = 0.3 if handed == "a slot" else 3600.0  # an expired return frees a slot instead
    async with ledger_pool(db_url, min_size=0, max_size=1, max_lifetime=lifetime) as pool:
        held = await pool.getconn()
        first = asyncio.create_task(pool.getconn())
        await waiters(pool, 1)
        second = asyncio.create_task(pool.getconn())
        await waiters(pool, 2)
        if handed == "a slot":
            await asyncio.sleep(lifetime + 0.1)
        # A clean return serves the first waiter without letting the loop run: the first
        # waiter is cancelled before it can take what it was handed.
        await pool.putconn(held)
        assert pool.stats().waiting == 1
        first.cancel()
        done, _ = await asyncio.wait({first, second}, timeout=BOUND_S)
        assert done == {first, second}
        assert first.cancelled()
        conn = second.result()
        assert await scalar(conn, "SELECT 1") == 1
        await pool.putconn(conn)
        await assert_clean(pool)


# -- PostgreSQL: opening, checking and copying -------------------------------------------------


@pytest.mark.parametrize("how", HOW)
@pytest.mark.asyncio
async def test_a_checkout_stopped_while_connecting_frees_its_slot(
    how: str, proxy: NetProxy, pg_url: str
) -> None:
    async with ledger_pool(pg_url):
        pass  # the table, made before the server "freezes" for the pool under test
    async with AsyncPool(via(proxy, pg_url), min_size=0, max_size=1, timeout=BOUND_S) as pool:
        proxy.mode = "freeze"

        async def connecting() -> None:
            await until(lambda: pool.stats().size == 1, "a slot reserved to connect")

        await interrupted(pool.getconn, how, connecting)
        assert (pool.stats().size, pool.stats().created) == (0, 0)
        proxy.mode = "pass"
        await assert_clean(pool)


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("call", ["getconn", "health_check"])
@pytest.mark.asyncio
async def test_a_call_stopped_while_pinging_drops_that_connection(
    call: str, how: str, proxy: NetProxy, pg_url: str
) -> None:
    # The checkout's own ping (check="always"), or the health check's (its checkout pings not).
    check = "always" if call == "getconn" else "never"
    async with ledger_pool(
        via(proxy, pg_url), min_size=1, max_size=1, timeout=BOUND_S, check=check
    ) as pool:
        proxy.mode = "freeze"

        async def pinging() -> None:
            await until(lambda: pool.stats().in_use == 1, "the call pinging its connection")
            await asyncio.sleep(RUNNING_S)

        await interrupted(getattr(pool, call), how, pinging)
        assert pool.stats().closed == 1  # the connection mid-ping: discarded
        proxy.cut()
        proxy.mode = "pass"
        await assert_clean(pool)


COPIES = ["copy in", "copy in inside a transaction", "copy out"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("copy", COPIES)
@pytest.mark.asyncio
async def test_a_task_stopped_mid_copy_leaves_the_pool_clean(
    pg_url: str, copy: str, how: str
) -> None:
    # TODO(issue 16): the same through a named :copyfrom query once the async query layer has it.
    async with ledger_pool(pg_url, min_size=1, max_size=2, timeout=BOUND_S) as pool:
        sent = asyncio.Event()

        async def copy_in() -> None:
            async with pool.connection() as conn:
                if copy == "copy in inside a transaction":
                    await conn.execute("BEGIN")
                async with (
                    conn.raw.cursor() as cursor,
                    cursor.copy("COPY ledger (id, note) FROM STDIN") as rows,
                ):
                    for i in range(1000):
                        await rows.write_row((i, "copied"))
                    sent.set()
                    await asyncio.sleep(BOUND_S)  # the COPY is still open

        async def copy_out() -> None:
            async with pool.connection() as conn, conn.raw.cursor() as cursor:
                query = "COPY (SELECT g FROM generate_series(1, 100000000) g) TO STDOUT"
                async with cursor.copy(query) as rows:
                    async for _ in rows.rows():
                        sent.set()

        body = copy_out if copy == "copy out" else copy_in
        await interrupted(body, how, signalled(sent, RUNNING_S))
        await assert_clean(pool)


# -- SQLite: the worker thread of a cancelled statement ----------------------------------------


@pytest.mark.parametrize("how", [*HOW, "left running"])
@pytest.mark.asyncio
async def test_sqlite_connection_still_running_a_call_is_not_handed_on(
    sqlite_url: str, how: str
) -> None:
    """A call runs on in its connection's thread after its task was cancelled (here: blocked
    in a function SQLite cannot interrupt), or while a task the borrower left behind awaits
    it. Before the fix the pool handed that very connection to the next borrower at once,
    whose every statement then queued behind the old one (or ran inside its transaction)."""
    release = threading.Event()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hold() -> int:
        loop.call_soon_threadsafe(started.set)
        release.wait(BOUND_S)
        return 1

    async with ledger_pool(sqlite_url, min_size=1, max_size=1, timeout=BOUND_S) as pool:
        busy: list[sqlite3.Connection] = []
        strays: list[asyncio.Task[object]] = []

        async def body() -> None:
            async with pool.connection() as conn:
                conn.raw.create_function("hold", 0, hold)
                busy.append(conn.raw)
                if how == "left running":
                    strays.append(asyncio.create_task(conn.execute("SELECT hold()")))
                    await started.wait()
                else:
                    await conn.execute("SELECT hold()")

        try:
            if how == "left running":
                await body()
            else:
                await interrupted(body, how, started.wait)
            async with asyncio.timeout(BOUND_S / 3), pool.connection() as conn:
                assert conn.raw is not busy[0], "handed on while a call still ran on it"
                assert not conn.in_transaction
                assert await scalar(conn, "SELECT COUNT(*) FROM ledger") == 0
        finally:
            release.set()
            if strays:
                await asyncio.wait(strays, timeout=BOUND_S)
        await assert_clean(pool)


def open_files(path: Path) -> int:
    """How many file descriptors of this process are open on the database file `path`."""
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile (this listing's own, say)
            count += fd.readlink() == path
    return count


@pytest.mark.parametrize("how", HOW)
@pytest.mark.asyncio
async def test_sqlite_checkout_stopped_while_connecting_frees_its_slot(
    tmp_path: Path, how: str
) -> None:
    """The worker thread still opens the connection after its task was cancelled: the slot is
    free at once, and the connection is closed as soon as it is open. Before the fix it stayed
    open until the garbage collector happened to find it."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT)")
    # Setting WAL up on a new connection waits for this lock.
    holder.execute("BEGIN EXCLUSIVE")
    try:
        async with AsyncPool(f"sqlite:///{path}", min_size=0, max_size=1, timeout=5) as pool:

            async def connecting() -> None:
                await until(lambda: pool.stats().size == 1, "a slot reserved to connect")
                await asyncio.sleep(RUNNING_S)

            await interrupted(pool.getconn, how, connecting)
            assert (pool.stats().size, pool.stats().created) == (0, 0)
            holder.rollback()  # the thread now opens the connection nobody waits for
            await until(lambda: open_files(path) == 1, "the stray connection closed (holder's)")
            await assert_clean(pool)
    finally:
        holder.close()


# -- many tasks, stopped at random points ------------------------------------------------------


@pytest.mark.asyncio
async def test_tasks_timed_out_at_random_points_never_unbalance_the_pool(db_url: str) -> None:
    """Each round's transaction gets a random deadline: some commit, the others stop wherever
    they are (waiting, connecting, mid-statement, committing, returning)."""
    rng = random.Random(16)
    async with ledger_pool(db_url, min_size=1, max_size=3, timeout=BOUND_S) as pool:
        p = "?" if pool.dialect == "sqlite" else "%s"
        committed: list[int] = []
        attempts = 0

        async def worker(n: int) -> None:
            nonlocal attempts
            for i in range(25):
                key = n * 1000 + i
                attempts += 1
                try:
                    async with asyncio.timeout(rng.uniform(0.0, 0.03)):
                        async with pool.transaction() as conn:
                            await conn.execute(
                                f"INSERT INTO ledger (id, note) VALUES ({p}, 'x')", (key,)
                            )
                            await scalar(conn, "SELECT COUNT(*) FROM ledger")
                    committed.append(key)
                except (TimeoutError, PoolTimeout):
                    pass
                except QueryError as exc:  # no error but the deadline may reach a caller
                    pytest.fail(f"round {i} of task {n} failed: {exc!r}")

        async with asyncio.timeout(BOUND_S * 4):
            await asyncio.gather(*(worker(n) for n in range(8)))
        assert 0 < len(committed) < attempts, "no round was stopped: the test proves nothing"
        await settled(pool)
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT id FROM ledger")
            stored = {row[0] for row in await cursor.fetchall()}
            # A deadline that hits during COMMIT may still commit; nothing else was kept.
            assert set(committed) <= stored
            await conn.execute("DELETE FROM ledger")
        await assert_clean(pool)

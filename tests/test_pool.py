"""The pool on both backends: checkout, return, transactions, timeouts, stress, stats."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from deadlines import join_all
from tradestore import (
    Pool,
    PoolClosed,
    PoolError,
    PoolTimeout,
    QueryError,
    connect,
)
from tradestore.db.pool_async import AsyncPool


def ph(pool: Pool) -> str:
    """The driver's positional placeholder (these tests use raw ad-hoc SQL)."""
    return "?" if pool.dialect == "sqlite" else "%s"


@pytest.fixture
def pool(db_url: str) -> Iterator[Pool]:
    with Pool(db_url, min_size=1, max_size=4, timeout=5, name="test-pool") as p:
        with p.transaction() as conn:
            conn.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT, amount TEXT)")
        yield p


def count_rows(pool: Pool) -> int:
    with pool.connection() as conn:
        n: int = conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
        return n


def test_round_trip_and_stats(pool: Pool) -> None:
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
    stats = pool.stats()
    assert stats.name == "test-pool"
    assert stats.size == stats.idle == 1
    assert stats.in_use == 0
    assert stats.checkouts >= 2


def test_transaction_commits_on_success(pool: Pool) -> None:
    with pool.transaction() as conn:
        conn.execute(f"INSERT INTO ledger (id, note) VALUES (1, {ph(pool)})", ("kept",))
    assert count_rows(pool) == 1


def test_transaction_rolls_back_on_exception(pool: Pool) -> None:
    with pytest.raises(RuntimeError), pool.transaction() as conn:
        conn.execute("INSERT INTO ledger (id, note) VALUES (1, 'lost')")
        raise RuntimeError("boom")
    assert count_rows(pool) == 0


def test_nested_transaction_is_a_savepoint(pool: Pool) -> None:
    with pool.transaction() as conn:
        conn.execute("INSERT INTO ledger (id, note) VALUES (1, 'outer')")
        with pytest.raises(ValueError, match="inner"), conn.transaction():
            conn.execute("INSERT INTO ledger (id, note) VALUES (2, 'inner')")
            raise ValueError("inner")
        with conn.transaction():
            conn.execute("INSERT INTO ledger (id, note) VALUES (3, 'inner kept')")
    with pool.connection() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM ledger ORDER BY id").fetchall()]
    assert ids == [1, 3]


def test_connection_returned_mid_transaction_is_rolled_back(pool: Pool) -> None:
    with pool.connection() as conn:
        conn.execute(pool.backend.begin_sql)
        conn.execute("INSERT INTO ledger (id, note) VALUES (1, 'abandoned')")
        assert conn.in_transaction
    with pool.connection() as conn:
        assert not conn.in_transaction
    assert count_rows(pool) == 0
    assert pool.stats().size == 1  # cleaned, not thrown away


def test_driver_errors_are_wrapped_with_sqlstate(pool: Pool) -> None:
    with pool.connection() as conn, pytest.raises(QueryError) as info:
        conn.execute("SELEC broken")
    assert info.value.__cause__ is not None
    assert info.value.sqlstate  # '42601' on PostgreSQL, 'SQLITE_ERROR' on SQLite


def test_timeout_names_pool_and_stats(pool: Pool) -> None:
    held = [pool.getconn() for _ in range(pool.max_size)]
    try:
        with pytest.raises(PoolTimeout) as info, pool.connection(timeout=0.2):
            pass
        message = str(info.value)
        assert "test-pool" in message
        assert "size 4/4" in message
        assert "in use 4" in message
        assert pool.stats().timeouts == 1
    finally:
        for conn in held:
            pool.putconn(conn)
    with pool.connection(timeout=0.2) as conn:  # free again
        assert conn.execute("SELECT 1").fetchone()[0] == 1


def test_waiter_gets_connection_when_one_is_returned(pool: Pool) -> None:
    held = [pool.getconn() for _ in range(pool.max_size)]
    got: list[object] = []

    def waiter() -> None:
        with pool.connection(timeout=5) as conn:
            got.append(conn)

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    wait_for_waiters(pool, 1)
    pool.putconn(held.pop())
    join_all([thread], timeout=10)
    assert len(got) == 1
    for conn in held:
        pool.putconn(conn)


def wait_for_waiters(pool: Pool, n: int) -> None:
    deadline = time.monotonic() + 10
    while pool.stats().waiting < n:
        assert time.monotonic() < deadline, f"never saw {n} waiters: {pool.stats()}"
        time.sleep(0.005)


def test_waiters_are_served_first_come_first_served(db_url: str) -> None:
    """A thread that returns a connection and asks again at once must not barge ahead of the
    queue: before, eight writers on a pool of four could starve one into a PoolTimeout."""
    with Pool(db_url, min_size=0, max_size=1, timeout=10) as pool:
        order: list[str] = []
        held = pool.getconn()

        def take(name: str) -> None:
            with pool.connection() as _conn:
                order.append(name)

        threads = []
        for n, name in enumerate(["first", "second"], start=1):
            threads.append(threading.Thread(target=take, args=(name,), daemon=True))
            threads[-1].start()
            wait_for_waiters(pool, n)
        pool.putconn(held)
        take("barger")  # gives back and asks again at once: joins the queue behind both
        join_all(threads, timeout=10)
        assert order == ["first", "second", "barger"]
        assert pool.stats().timeouts == 0


def test_close_wakes_waiters_with_pool_closed(db_url: str) -> None:
    pool = Pool(db_url, min_size=0, max_size=1, timeout=30)
    conn = pool.getconn()
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            pool.getconn()
        except PoolClosed as exc:
            errors.append(exc)

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    wait_for_waiters(pool, 1)
    pool.close()
    join_all([thread], timeout=10)
    assert len(errors) == 1
    pool.putconn(conn)  # returned after close: closed, not pooled
    assert pool.stats().size == 0
    with pytest.raises(PoolClosed):
        pool.getconn()


def test_stress_never_exceeds_max_size_nor_shares_a_connection(pool: Pool) -> None:
    threads, rounds = 16, 500
    in_use: set[int] = set()
    lock = threading.Lock()
    peak = 0
    failures: list[str] = []
    barrier = threading.Barrier(threads, timeout=60)
    p = ph(pool)

    def worker(n: int) -> None:
        nonlocal peak
        barrier.wait()
        for i in range(rounds):
            with pool.connection() as conn:
                key = id(conn.raw)
                with lock:
                    if key in in_use:
                        failures.append(f"connection handed to two threads at round {i}")
                    in_use.add(key)
                    peak = max(peak, len(in_use))
                # The value comes back from this very connection: answered by the right one.
                token = n * 100_000 + i
                answer = conn.execute(f"SELECT {p}", (token,)).fetchone()[0]
                if int(answer) != token:
                    failures.append(f"thread {n} got {answer} for {token}")
                with lock:
                    in_use.discard(key)

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    join_all(workers, timeout=120)  # a deadlock fails here
    assert failures == []
    assert 1 <= peak <= pool.max_size
    stats = pool.stats()
    assert stats.size <= pool.max_size
    assert stats.in_use == 0
    assert stats.checkouts >= threads * rounds


def test_concurrent_writers_lose_nothing(pool: Pool) -> None:
    p = ph(pool)

    def writer(n: int) -> None:
        for i in range(50):
            with pool.transaction() as conn:
                conn.execute(
                    f"INSERT INTO ledger (id, note, amount) VALUES ({p}, {p}, {p})",
                    (n * 1000 + i, f"w{n}", Decimal("0.00000001") * i),
                )

    workers = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(6)]
    for w in workers:
        w.start()
    join_all(workers)
    assert count_rows(pool) == 300


def test_max_lifetime_replaces_old_connections(db_url: str) -> None:
    with Pool(db_url, min_size=1, max_size=2, max_lifetime=0.05) as pool:
        with pool.connection() as conn:
            first = conn.raw  # held: a freed driver object's id() could be reused
        time.sleep(0.1)
        with pool.connection() as conn:
            second = conn.raw
        assert first is not second
        assert pool.stats().closed >= 1


def test_max_idle_closes_extra_idle_connections(db_url: str) -> None:
    with Pool(db_url, min_size=1, max_size=3, max_idle=0.05) as pool:
        conns = [pool.getconn() for _ in range(3)]
        for conn in conns:
            pool.putconn(conn)
        assert pool.stats().size == 3
        time.sleep(0.1)
        with pool.connection():
            pass
        assert pool.stats().size == 1  # back to min_size


def test_leak_warning_says_where_the_connection_was_taken(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with Pool(db_url, leak_threshold=0.01) as pool:
        caplog.set_level(logging.WARNING, logger="tradestore.pool")
        with pool.connection():
            time.sleep(0.03)
    assert any(
        "leak_threshold" in r.getMessage() and "test_pool.py" in r.getMessage()
        for r in caplog.records
    )


def test_health_check_reports_and_never_raises(db_url: str) -> None:
    pool = Pool(db_url)
    report = pool.health_check()
    assert report["status"] == "healthy"
    assert report["error"] is None
    assert report["latency_ms"] >= 0
    pool.close()
    report = pool.health_check()
    assert report["status"] == "unhealthy"
    assert "closed" in report["error"]


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"min_size": 3, "max_size": 2}, "got min_size=3, max_size=2"),
        ({"max_size": 0}, "got min_size=1, max_size=0"),
        ({"min_size": -1}, "got min_size=-1, max_size=10"),
        ({"timeout": 0}, "pool timeout must be positive, got 0"),
    ],
)
@pytest.mark.parametrize("face", [Pool, AsyncPool])
def test_invalid_knobs(
    sqlite_url: str, knobs: dict[str, float], message: str, face: type[Pool | AsyncPool]
) -> None:
    with pytest.raises(PoolError, match=re.escape(message)):
        face(sqlite_url, **knobs)  # type: ignore[arg-type]


def test_connect_takes_knobs_from_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "1")
    with connect() as pool:
        assert (pool.min_size, pool.max_size) == (2, 3)
        assert pool.stats().size == 2
    with connect(sqlite_url, max_size=9) as pool:
        assert pool.max_size == 9

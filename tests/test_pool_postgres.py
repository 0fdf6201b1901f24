"""PostgreSQL-only pool behaviour, provoked for real: killed backends, fork, secrets."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import re
import threading
from collections.abc import Iterator

import psycopg
import pytest

from deadlines import join_all, wait_until
from tradestore import ConnectionFailed, Pool, QueryError
from tradestore.db.url import parse_url

CONNECTION_LOST = (
    r"\[57P01\]: terminating connection due to administrator command"
    r"|server closed the connection unexpectedly"
)


@pytest.fixture
def pool(pg_url: str) -> Iterator[Pool]:
    with Pool(pg_url, min_size=2, max_size=4, timeout=10, name="pg-test") as p:
        yield p


def backend_pids(pool: Pool) -> set[int]:
    pids: set[int] = set()
    conns = [pool.getconn() for _ in range(pool.stats().size)]
    for conn in conns:
        pids.add(conn.raw.info.backend_pid)
    for conn in conns:
        pool.putconn(conn)
    return pids


def terminate(base_url: str, pids: set[int]) -> None:
    with psycopg.connect(base_url, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # Wait until the server has really ended them.
        for _ in range(100):
            alive = admin.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),)
            ).fetchone()
            if alive and alive[0] == 0:
                return
            admin.execute("SELECT pg_sleep(0.02)")


def test_heals_after_backends_are_terminated(pool: Pool, postgres_base_url: str) -> None:
    old = backend_pids(pool)
    assert len(old) == 2
    terminate(postgres_base_url, old)
    # The very first checkouts after the kill succeed: no error reaches the caller.
    for _ in range(5):
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone()[0] == 1
    new = backend_pids(pool)
    assert not (new & old)
    assert pool.stats().failed_checks >= 1


def test_heals_under_concurrent_load(pool: Pool, postgres_base_url: str) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []
    done = [0]

    def worker() -> None:
        while not stop.is_set():
            try:
                with pool.connection() as conn:
                    conn.execute("SELECT 1")
                done[0] += 1
            except Exception as exc:  # noqa: BLE001  (collected and asserted below)
                errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            with psycopg.connect(postgres_base_url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (pool.url.options["application_name"],),
                )
            before = done[0]
            wait_until(
                lambda: done[0] >= before + 50,  # noqa: B023  (called within this iteration)
                "50 more checkouts after the kill (the pool did not heal)",
            )
    finally:
        stop.set()
        join_all(threads, timeout=30)
    # A statement in flight when its backend dies fails, and says the connection was lost:
    # the kill (57P01) or the socket closing under it. Nothing else may reach a caller (no
    # PoolTimeout, no error about the statement itself); nothing hangs; the pool keeps serving.
    for exc in errors:
        assert isinstance(exc, QueryError), repr(exc)
        assert isinstance(exc.__cause__, psycopg.OperationalError), repr(exc.__cause__)
        assert re.search(CONNECTION_LOST, str(exc)), str(exc)
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1


def _child_query(url: str, queue: multiprocessing.Queue[object], pool: Pool) -> None:
    try:
        with pool.connection() as conn:
            pid = conn.raw.info.backend_pid
            conn.execute("SELECT 1")
        queue.put(pid)
        # Closing in the child must not say goodbye on the parent's inherited sockets.
        pool.close()
        gc.collect()
    except Exception as exc:  # noqa: BLE001  (sent to the parent to assert on)
        queue.put(repr(exc))


def test_fork_child_never_reuses_parent_sockets(pool: Pool) -> None:
    parent_pids = backend_pids(pool)
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = ctx.Queue()
    child = ctx.Process(target=_child_query, args=(str(pool.url), queue, pool))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    child_pid = queue.get(timeout=5)
    assert isinstance(child_pid, int), child_pid
    assert child_pid not in parent_pids
    # The parent's connections survived the child's exit untouched.
    assert backend_pids(pool) == parent_pids
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1


def test_connect_failure_is_clear_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = "postgresql://trader:hunter2@127.0.0.1:1/nowhere?connect_timeout=1"
    with pytest.raises(ConnectionFailed) as info:
        Pool(url, min_size=1, timeout=0.3, name="unreachable")
    message = str(info.value)
    assert "unreachable" in message
    assert "127.0.0.1" in message
    assert "hunter2" not in message
    assert "hunter2" not in repr(info.value)
    cause = info.value.__cause__
    assert cause is None or "hunter2" not in str(cause)
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


def test_password_never_in_repr_stats_health_or_logs(
    postgres_base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = parse_url(postgres_base_url)
    secret = "pa55-W0rd-xyz"
    with psycopg.connect(postgres_base_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS tradestore_secret_test")
        admin.execute(
            f"CREATE ROLE tradestore_secret_test LOGIN PASSWORD '{secret}'"  # test-only role
        )
    try:
        host = f"{base.host}:{base.port or 5432}"
        url = f"postgresql://tradestore_secret_test:{secret}@{host}/{base.database}"
        with Pool(url, name="secret") as pool:
            shown = [repr(pool), str(pool.url), repr(pool.stats()), repr(pool.health_check())]
            with pool.connection() as conn:
                shown.append(repr(conn))
            assert all(secret not in s for s in shown)
        assert all(secret not in r.getMessage() for r in caplog.records)
    finally:
        with psycopg.connect(postgres_base_url, autocommit=True) as admin:
            admin.execute("DROP ROLE IF EXISTS tradestore_secret_test")


def test_swallowed_error_inside_transaction_is_not_committed(pool: Pool) -> None:
    with pool.connection() as conn:
        conn.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY)")
    with pytest.raises(QueryError, match="COMMIT refused"), pool.transaction() as conn:
        conn.execute("INSERT INTO ledger (id) VALUES (1)")
        with pytest.raises(QueryError):
            conn.execute("INSERT INTO ledger (id) VALUES (1)")  # duplicate key, caught
    # PostgreSQL would have answered COMMIT with a silent ROLLBACK; the kit said so instead.
    with pool.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] == 0

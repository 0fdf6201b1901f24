"""A checkout returns or raises within the pool's timeout, whatever the server does, and a
connection the database rejects for good fails at once instead of being retried.

The misbehaving PostgreSQL is a `NetProxy` in front of the shared server (frozen, silent,
slow, gone); the wrong password needs a server that checks passwords, so a small cluster of
the test's own (scram-sha-256) is created for this module and dropped after it. Every
checkout runs in a thread joined with a bound, so a checkout that would hang fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from netproxy import NetProxy, unanswered_port
from tradestore import ConnectionFailed, ConnectionRejected, Pool, PoolError, PoolStats

TIMEOUT_S = 2.0
# Generous on a shared 2-core machine; the old code took 10 s, 30 s or forever.
SLACK_S = 1.0
HANG_BOUND_S = TIMEOUT_S + 3.0
REQUIRE_POSTGRES = os.environ.get("TRADESTORE_REQUIRE_POSTGRES") == "1"


def timed(fn: Callable[[], object], bound: float = HANG_BOUND_S) -> tuple[float, BaseException]:
    """Run `fn` in a thread; return how long it took to raise, and what. Fails the test when
    it returns instead, or is still running after `bound` seconds (a hang)."""
    outcome: list[tuple[float, BaseException | None]] = []

    def run() -> None:
        start = time.monotonic()
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001  (handed to the test)
            outcome.append((time.monotonic() - start, exc))
            return
        outcome.append((time.monotonic() - start, None))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    if not outcome:
        pytest.fail(f"still blocked after {bound:.0f}s: the deadline did not hold")
    elapsed, error = outcome[0]
    if error is None:
        pytest.fail(f"returned after {elapsed:.2f}s where it should have raised")
    return elapsed, error


def via(proxy: NetProxy, url: str) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{proxy.host}:{proxy.port}" if userinfo else f"{proxy.host}:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (connecting is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- item 5: the deadline holds ---------------------------------------------------------------


@contextlib.contextmanager
def server_that(kind: str, proxy: NetProxy, url: str) -> Iterator[str]:
    """A URL whose server misbehaves as `kind` says, for the whole block."""
    if kind == "frozen":  # accepts TCP, never answers (SIGSTOP)
        proxy.mode = "freeze"
        yield via(proxy, url)
    elif kind == "slow":  # answers the startup, but only after the deadline
        proxy.mode = "freeze"
        thaw = threading.Timer(TIMEOUT_S + 1.5, lambda: setattr(proxy, "mode", "pass"))
        thaw.start()
        try:
            yield via(proxy, url)
        finally:
            thaw.cancel()
    else:  # "syn": the SYN is never answered (a black-holed host)
        with unanswered_port() as port:
            yield url.replace(urlsplit(url).netloc.rpartition("@")[2], f"127.0.0.1:{port}")


@pytest.mark.parametrize("kind", ["frozen", "slow", "syn"])
def test_checkout_deadline_holds_while_connecting(kind: str, proxy: NetProxy, pg_url: str) -> None:
    with server_that(kind, proxy, pg_url) as url:
        pool = Pool(url, min_size=0, timeout=TIMEOUT_S, name="deadline")
        try:
            elapsed, error = timed(pool.getconn)
        finally:
            pool.close()
    assert isinstance(error, ConnectionFailed), error
    assert not isinstance(error, ConnectionRejected)
    assert TIMEOUT_S - 0.1 <= elapsed < TIMEOUT_S + SLACK_S, f"{kind}: {elapsed:.2f}s"
    assert "timeout expired" in str(error)
    assert "deadline" in str(error)


def test_slow_startup_within_the_deadline_connects(proxy: NetProxy, pg_url: str) -> None:
    # The connect timeout is the time left, not a fixed guess: a server that answers late,
    # but in time, is waited for.
    proxy.mode = "freeze"
    threading.Timer(0.8, lambda: setattr(proxy, "mode", "pass")).start()
    with Pool(via(proxy, pg_url), min_size=0, timeout=TIMEOUT_S) as pool:
        start = time.monotonic()
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone()[0] == 1
        assert 0.7 < time.monotonic() - start < TIMEOUT_S
        assert pool.stats().connect_errors == 0


@pytest.mark.parametrize("check", ["always", "auto"])
def test_checkout_deadline_holds_when_server_freezes_during_ping(
    check: Any, proxy: NetProxy, pg_url: str
) -> None:
    # "auto" pings a connection idle longer than check_idle_after (0 here: every checkout).
    pool = Pool(
        via(proxy, pg_url), min_size=1, timeout=TIMEOUT_S, check=check, check_idle_after=0.0
    )
    try:
        proxy.mode = "freeze"  # the server stops between two checkouts
        elapsed, error = timed(pool.getconn)
    finally:
        proxy.cut()
        pool.close()
    assert isinstance(error, PoolError), error
    assert elapsed < TIMEOUT_S + SLACK_S
    assert pool.stats().failed_checks == 1


def test_stalled_connection_leaves_time_for_a_fresh_one(proxy: NetProxy, pg_url: str) -> None:
    # A connection a firewall forgot: its ping gets half the time left, not all of it, so
    # the checkout still opens a fresh connection and succeeds.
    with Pool(via(proxy, pg_url), min_size=1, timeout=TIMEOUT_S, check="always") as pool:
        assert proxy.stall_open() == 1
        got: list[float] = []

        def checkout() -> None:
            start = time.monotonic()
            with pool.connection() as conn:
                conn.execute("SELECT 1")
            got.append(time.monotonic() - start)

        thread = threading.Thread(target=checkout, daemon=True)
        thread.start()
        thread.join(HANG_BOUND_S)
        assert got, "the checkout hung on the stalled connection's ping"
        assert TIMEOUT_S / 2 - 0.1 <= got[0] < TIMEOUT_S
        assert pool.stats().failed_checks == 1


def test_health_check_ends_by_its_timeout_on_a_frozen_server(proxy: NetProxy, pg_url: str) -> None:
    with Pool(via(proxy, pg_url), min_size=1, timeout=TIMEOUT_S, check="never") as pool:
        proxy.mode = "freeze"
        report: list[dict[str, Any]] = []
        thread = threading.Thread(target=lambda: report.append(pool.health_check(timeout=1.0)))
        thread.daemon = True
        start = time.monotonic()
        thread.start()
        thread.join(HANG_BOUND_S)
        elapsed = time.monotonic() - start
        proxy.cut()
    assert report, "health_check hung on a frozen server"
    assert report[0]["status"] == "unhealthy"
    assert "timeout expired" in report[0]["error"]
    assert elapsed < 1.0 + SLACK_S


def test_sqlite_checkout_deadline_holds_on_a_locked_file(tmp_path: Path) -> None:
    # Setting WAL up on a fresh connection waits for the file's lock: busy_timeout (30 s)
    # must not outlast the checkout's deadline.
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")  # rollback-journal mode until the pool opens it
    holder.execute("BEGIN EXCLUSIVE")
    pool = Pool(f"sqlite:///{path}", min_size=0, timeout=1.0)
    try:
        elapsed, error = timed(pool.getconn)
        assert isinstance(error, ConnectionFailed), error
        assert "locked" in str(error)
        assert elapsed < 1.0 + SLACK_S
        holder.rollback()
        with pool.connection() as conn:  # the lock gone, the same pool connects at once
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        holder.close()
        pool.close()


# -- item 6: what retrying cannot cure fails at once; what it can, is retried quietly ---------


def rejected(url: str, caplog: pytest.LogCaptureFixture) -> ConnectionRejected:
    """Check `url` is rejected well before a 20 s pool timeout, without retrying."""
    caplog.set_level(logging.DEBUG, logger="tradestore")
    elapsed, error = timed(lambda: Pool(url, min_size=1, timeout=20), bound=5.0)
    assert isinstance(error, ConnectionRejected), error
    assert elapsed < 5.0
    assert "Not retried" in str(error)
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]
    return error


def test_unknown_database_fails_at_once(
    postgres_base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = urlunsplit(urlsplit(postgres_base_url)._replace(path="/no_such_db_13"))
    error = rejected(url, caplog)
    assert 'database "no_such_db_13" does not exist' in str(error)


def test_missing_role_fails_at_once(
    postgres_base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    parts = urlsplit(postgres_base_url)
    url = urlunsplit(parts._replace(netloc="no_such_role_13@" + parts.netloc.rpartition("@")[2]))
    error = rejected(url, caplog)
    assert 'role "no_such_role_13" does not exist' in str(error)


def test_ssl_required_by_the_url_but_off_on_the_server_fails_at_once(
    postgres_base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(postgres_base_url) as conn:
        ssl = conn.execute("SHOW ssl").fetchone()
    if ssl is None or ssl[0] != "off":
        pytest.skip("the server has SSL on: sslmode=require would succeed")
    error = rejected(f"{postgres_base_url}?sslmode=require", caplog)
    assert "server does not support SSL" in str(error)


def test_bad_url_option_fails_at_once(
    postgres_base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    error = rejected(f"{postgres_base_url}?no_such_option=1", caplog)
    assert "no_such_option" in str(error)


def test_sqlite_file_that_is_not_a_database_fails_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my trading notes, not a database\n" * 100)
    error = rejected(f"sqlite:///{path}", caplog)
    assert "file is not a database" in str(error)
    assert str(path) in str(error)


def test_refused_port_is_retried_to_the_deadline_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tradestore")
    url = f"postgresql://trader:hunter2@127.0.0.1:{closed_port()}/test"
    pool = Pool(url, min_size=0, timeout=1.5, name="refused")
    try:
        elapsed, error = timed(pool.getconn)
    finally:
        pool.close()
    assert_retried_to_the_deadline(elapsed, error, pool.stats(), caplog)


def assert_retried_to_the_deadline(
    elapsed: float, error: BaseException, stats: PoolStats, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused port (1.5 s pool timeout, password hunter2): retried quietly to the end."""
    assert type(error) is ConnectionFailed, error
    assert 1.4 <= elapsed < 1.5 + SLACK_S
    assert "Connection refused" in str(error)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "retrying until the deadline" in warnings[0]
    assert "gave up at the deadline after" in warnings[1]
    assert stats.connect_errors >= 3  # it did retry, quietly (at DEBUG)
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


def test_retry_that_succeeds_ends_with_a_summary(
    proxy: NetProxy, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tradestore")
    proxy.mode = "drop"  # the server is gone for a moment, then back
    threading.Timer(0.5, lambda: setattr(proxy, "mode", "pass")).start()
    with (
        Pool(via(proxy, pg_url), min_size=0, timeout=TIMEOUT_S) as pool,
        pool.connection() as conn,
    ):
        assert conn.execute("SELECT 1").fetchone()[0] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "retrying until the deadline" in warnings[0]
    assert "connected to" in warnings[1]
    assert "attempts in" in warnings[1]


# -- a wrong password, on a cluster of our own that checks passwords ---------------------------

ROLE = "ts_trader"
PASSWORD = "Corr3ct-h0rse-13"


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(f"{reason} (TRADESTORE_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


def _cluster_version() -> str | None:
    versions = sorted(
        (p.name for p in Path("/usr/lib/postgresql").glob("*") if p.name.isdigit()), key=int
    )
    return versions[-1] if versions else None


@pytest.fixture(scope="module")
def scram_server() -> Iterator[str]:
    """Host:port of a PostgreSQL cluster of this module's own that checks passwords (scram),
    with the role ROLE (password PASSWORD); dropped at the end."""
    version = _cluster_version()
    if not shutil.which("pg_createcluster") or version is None or os.geteuid() != 0:
        _skip_or_fail("a password-checking cluster needs root and pg_createcluster")
    name = f"tradestore_auth_{uuid.uuid4().hex[:8]}"
    port = closed_port()
    create = [
        *("pg_createcluster", str(version), name, "--port", str(port), "--start"),
        *("--", "--auth-host=scram-sha-256", "--auth-local=trust"),
    ]
    done = subprocess.run(create, capture_output=True, text=True, timeout=120, check=False)
    try:
        if done.returncode != 0:
            _skip_or_fail(f"pg_createcluster failed: {done.stderr.strip()[-300:]}")
        admin_dsn = f"host=/var/run/postgresql port={port} user=postgres dbname=postgres"
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")  # test-only role
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run(
            ["pg_dropcluster", str(version), name, "--stop"],
            capture_output=True,
            timeout=120,
            check=False,
        )


def test_right_password_connects(scram_server: str) -> None:
    # Proves the cluster checks passwords: the rejections below are not vacuous.
    url = f"postgresql://{ROLE}:{PASSWORD}@{scram_server}/postgres"
    with Pool(url, timeout=5) as pool, pool.connection() as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == ROLE


def test_wrong_password_fails_at_once_and_is_never_shown(
    scram_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-batt3ry-13"
    error = rejected(f"postgresql://{ROLE}:{wrong}@{scram_server}/postgres", caplog)
    assert f'password authentication failed for user "{ROLE}"' in str(error)
    shown = [str(error), repr(error), *(r.getMessage() for r in caplog.records)]
    if error.__cause__ is not None:
        shown.append(str(error.__cause__))
    assert all(wrong not in text and PASSWORD not in text for text in shown)


def test_missing_password_fails_at_once(
    scram_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    error = rejected(f"postgresql://{ROLE}@{scram_server}/postgres", caplog)
    assert "no password supplied" in str(error)

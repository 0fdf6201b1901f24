"""The migration lock on real PostgreSQL and SQLite: a holder killed with SIGKILL is taken over
at once, a live holder is still waited for, and break-lock handles what cannot be proved dead.

Every holder here is a real child process, killed for real (``kill -9``): a tradestore migrator
stuck in a migration that sleeps, or a bare yoyo lock (what ``yoyo apply`` leaves behind).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tradestore import Pool, parse_url
from tradestore.cli import main
from tradestore.errors import MigrationError
from tradestore.schema.migrate import break_lock, migrate, migration_status, migrations_source
from tradestore.schema.migration_lock import ADVISORY_LOCK_CLASS, LOCK_FILE_SUFFIX, process_alive

# Every built-in migration, in apply order (the SQLite folder has the same ids as PostgreSQL's).
ALL_IDS = sorted(
    p.name.removesuffix(".sql")
    for p in migrations_source("sqlite").glob("[0-9]*.sql")
    if not p.name.endswith(".rollback.sql")
)
Holder = Callable[[str, str], "subprocess.Popen[str]"]
"""Starts a child holding the migration lock: holder(url, "tradestore" | "yoyo")."""
LOCK_TIMEOUT = 60.0  # the default: what a bot start-up would wait
FAST = 20.0
"""Generous bound for a migrate that must not wait for the lock (the full run takes ~1-3 s)."""

_HOLD_MIGRATION = '''\
"""Says it holds the migration lock, then sleeps until the test kills this process."""
import os
import time

from yoyo import step


def _hold(connection):
    with open(os.environ["HOLDING_FLAG"], "w") as flag:
        flag.write(str(os.getpid()))
    time.sleep(600)


steps = [step(_hold)]
'''

_TRADESTORE_HOLDER = """
import sys
from tradestore import migrate
migrate(sys.argv[1], source=sys.argv[2])
"""

_YOYO_HOLDER = """
import os, sys, time
from yoyo import get_backend
from tradestore.db.url import parse_url
backend = get_backend(parse_url(sys.argv[1]).yoyo_url())
with backend.lock(timeout=5):
    with open(os.environ["HOLDING_FLAG"], "w") as flag:
        flag.write(str(os.getpid()))
    time.sleep(600)
"""


def _holding_folder(url: str, tmp_path: Path) -> Path:
    """The built-in migrations plus 0000_hold.py, which runs first and sleeps."""
    folder = tmp_path / "holding"
    shutil.copytree(migrations_source(parse_url(url).dialect), folder)
    (folder / "0000_hold.py").write_text(_HOLD_MIGRATION)
    return folder


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holder]:
    """Starts a child that holds the migration lock; kills whatever is left at the end."""
    children: list[subprocess.Popen[str]] = []

    def start(url: str, kind: str) -> subprocess.Popen[str]:
        flag = tmp_path / f"holding-{len(children)}"
        if kind == "tradestore":
            argv = [
                sys.executable,
                "-c",
                _TRADESTORE_HOLDER,
                url,
                str(_holding_folder(url, tmp_path)),
            ]
        else:
            argv = [sys.executable, "-c", _YOYO_HOLDER, url]
        child = subprocess.Popen(
            argv,
            env={**os.environ, "HOLDING_FLAG": str(flag)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        deadline = time.monotonic() + 60
        while not flag.exists() or not flag.read_text():
            if child.poll() is not None:
                pytest.fail(f"the lock holder exited early: {child.communicate()[1]}")
            assert time.monotonic() < deadline, "the lock holder never took the lock"
            time.sleep(0.02)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate()


def kill_9(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


def takeovers(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "tradestore.migrate" and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize("kind", ["tradestore", "yoyo"])
def test_a_holder_killed_with_sigkill_is_taken_over_at_once(
    db_url: str, holder: Holder, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    child = holder(db_url, kind)
    kill_9(child)

    with caplog.at_level(logging.WARNING, logger="tradestore.migrate"):
        started = time.monotonic()
        applied = migrate(db_url, lock_timeout=LOCK_TIMEOUT)
        took = time.monotonic() - started
    assert applied == ALL_IDS
    assert took < FAST, f"migrate waited {took:.1f}s for a dead holder's lock"
    (warning,) = takeovers(caplog)
    assert "taking over the migration lock" in warning
    assert f"process {child.pid}" in warning
    # The lock was released afterwards: the next start-up does not even warn.
    caplog.clear()
    assert migrate(db_url) == []
    assert takeovers(caplog) == []


def test_a_live_holder_is_waited_for_then_taken_over_once_killed(
    db_url: str, holder: Holder, caplog: pytest.LogCaptureFixture
) -> None:
    child = holder(db_url, "tradestore")
    with caplog.at_level(logging.WARNING, logger="tradestore.migrate"):
        started = time.monotonic()
        with pytest.raises(MigrationError) as raised:
            migrate(db_url, lock_timeout=2)
        waited = time.monotonic() - started
    assert waited >= 2  # it waited its timeout: a live holder's lock is not taken
    message = str(raised.value)
    assert "within 2s" in message
    assert "tradestore break-lock" in message
    assert takeovers(caplog) == []
    assert child.poll() is None  # the holder is untouched, still migrating
    assert not any(row.applied for row in migration_status(db_url))

    kill_9(child)
    assert migrate(db_url) == ALL_IDS


def test_a_live_yoyo_cli_holder_is_waited_for_on_sqlite(
    sqlite_url: str, holder: Holder, caplog: pytest.LogCaptureFixture
) -> None:
    """yoyo's CLI takes no lock file; its pid, alive on this host, is proof enough to wait."""
    child = holder(sqlite_url, "yoyo")
    with (
        caplog.at_level(logging.WARNING, logger="tradestore.migrate"),
        pytest.raises(MigrationError, match=f"process {child.pid}"),
    ):
        migrate(sqlite_url, lock_timeout=1)
    assert takeovers(caplog) == []
    assert child.poll() is None


def test_sqlite_lock_file_sits_beside_the_database(sqlite_url: str) -> None:
    migrate(sqlite_url)
    database = Path(parse_url(sqlite_url).database or "")
    assert database.with_name(database.name + LOCK_FILE_SUFFIX).is_file()


def _insert_lock_row(url: str, pid: int) -> None:
    """A lock row as yoyo writes it, for `pid`."""
    with Pool(url, min_size=0, max_size=1) as pool, pool.connection() as conn:
        marker = "?" if conn.dialect == "sqlite" else "%s"
        with conn.transaction():
            conn.execute(
                f"INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, {marker}, {marker})",
                ("2026-01-02 03:04:05", pid),
            )


def test_break_lock_removes_a_lock_whose_pid_was_reused(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dead holder's pid now names a live, unrelated process: migrate cannot tell, waits and
    points to break-lock, which removes the lock."""
    migrate(sqlite_url)
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        _insert_lock_row(sqlite_url, unrelated.pid)
        with pytest.raises(MigrationError, match="tradestore break-lock") as raised:
            migrate(sqlite_url, lock_timeout=1)
        assert f"process {unrelated.pid}" in str(raised.value)

        assert main(["--database-url", sqlite_url, "break-lock"]) == 0
        assert f"removed the migration lock of process {unrelated.pid}" in capsys.readouterr().out
        assert migrate(sqlite_url, lock_timeout=1) == []
        assert main(["--database-url", sqlite_url, "break-lock"]) == 0
        assert "no migration lock to break" in capsys.readouterr().out
    finally:
        unrelated.kill()
        unrelated.wait()


def test_break_lock_refuses_a_live_migrator_on_sqlite(sqlite_url: str, holder: Holder) -> None:
    child = holder(sqlite_url, "tradestore")
    with pytest.raises(MigrationError, match="will not break the migration lock"):
        break_lock(sqlite_url)
    assert child.poll() is None
    kill_9(child)
    assert break_lock(sqlite_url).row is not None  # the dead holder's row: removed


@pytest.mark.postgres
def test_break_lock_ends_a_session_left_by_a_vanished_host(pg_url: str, pg_schema: str) -> None:
    """A client whose host vanished leaves its session, and so the advisory lock, until TCP
    keepalive notices: migrate names that session; break-lock ends it."""
    migration_status(pg_url)  # creates yoyo's tables
    base = parse_url(pg_url)
    orphan = psycopg.connect(base.conninfo(), autocommit=True)
    try:
        orphan.execute(f'SET search_path TO "{pg_schema}"')
        orphan.execute(
            "SELECT pg_advisory_lock(%s, to_regclass('yoyo_lock')::oid::int4)",
            (ADVISORY_LOCK_CLASS,),
        )
        orphan.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, now(), 999999)")
        session = orphan.info.backend_pid
        with pytest.raises(MigrationError) as raised:
            migrate(pg_url, lock_timeout=1)
        assert f"session {session}" in str(raised.value)
        assert "tradestore break-lock" in str(raised.value)

        broken = break_lock(pg_url)
        assert broken.session is not None
        assert f"session {session}" in broken.session
        assert broken.row is not None
        assert broken.row.pid == 999999
        with pytest.raises(psycopg.OperationalError):
            orphan.execute("SELECT 1")
        assert migrate(pg_url, lock_timeout=10) == ALL_IDS
    finally:
        orphan.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_process_alive() -> None:
    assert process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{zombie.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not process_alive(zombie.pid)  # exited, not yet reaped
    zombie.wait()

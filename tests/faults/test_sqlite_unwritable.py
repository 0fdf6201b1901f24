"""Fault 7: the SQLite file becomes unwritable: a read-only mount, and a full disk.

The database lives on a tmpfs of its own, mounted by the test (root only: root ignores file
permission bits, so a chmod'ed file would stay writable; only a read-only mount stops root).
What must hold, in the kit's default journal mode (WAL, set on every connection):

- Read-only mount, after a crash (the -wal and -shm files are still there): reads keep working;
  a write raises a `QueryError` naming the query and SQLITE_READONLY (``on_error="raise"``), or
  is logged at ERROR with its correlation id (``on_error="log"``). Once the mount is writable
  again, the very next write of the same store succeeds: SQLite opens a file on a read-only
  mount read-only for the connection's whole life, so the pool must drop those connections.
- Read-only mount, after a clean close (no -wal/-shm): SQLite cannot open a WAL database at all
  without creating them, so neither reads nor writes work; the kit says so in a
  `ConnectionFailed` naming the file, and writes resume after the remount.
- Full disk: a write fails with SQLITE_FULL ("database or disk is full") as a `QueryError` or
  an ERROR log line with its correlation id; nothing is half-written (``PRAGMA integrity_check``
  is ok, every acknowledged trade is there, no failed one is); once space is freed the next
  write succeeds.

Each claim is checked on the database itself (get_trade, a row count, integrity_check), so a
write that silently went missing, or a store that never recovers, fails the test.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from tradestore import TradeStore, migrate
from tradestore.errors import ConnectionFailed, QueryError, TradestoreError
from tradestore.trading.inputs import TradeSignal

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
FAIL_FAST = 0.3
"""Pool timeout for stores that cannot connect: the pool retries a failed connect until then."""

MAX_WRITES_ON_FULL_DISK = 500
"""Bound on the writes tried on a full disk before one must fail (the WAL may hold a few)."""


def signal(reasoning_chars: int = 0) -> TradeSignal:
    return TradeSignal(
        symbol="AAPL",
        action="BUY",
        strategy_name="fault7",
        quantity=Decimal("3.5"),
        signal_price=Decimal("187.25"),
        signal_time=T0,
        reasoning="r" * reasoning_chars or None,
    )


def big_signal() -> TradeSignal:
    # ~9 KB per row: several pages, so a write needs real space on the disk.
    return signal(reasoning_chars=9_000)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of the given size under tmp_path; unmounted (lazily if busy) afterwards.

    Skips, saying why, when not root or when mounting is not allowed (no CAP_SYS_ADMIN).
    """
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("needs root: only a read-only mount stops root writing (CI runs as root)")
        target = tmp_path / f"tmpfs{len(mounted)}"
        target.mkdir()
        done = run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(target))
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs (needs CAP_SYS_ADMIN): {done.stderr.strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        if run("umount", str(target)).returncode != 0:
            run("umount", "-l", str(target))


def remount(target: Path, mode: str) -> None:
    done = run("mount", "-o", f"remount,{mode}", str(target))
    # A refused remount,ro means something still holds a file there open for writing.
    assert done.returncode == 0, f"remount,{mode} {target} failed: {done.stderr.strip()}"
    if mode == "ro":
        # Really read-only, even for root.
        with pytest.raises(OSError, match="Read-only file system") as probe:
            (target / "probe").write_text("x")
        assert probe.value.errno == errno.EROFS


def error_records(caplog: pytest.LogCaptureFixture, cid: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "tradestore.store"
        and r.levelno == logging.ERROR
        and getattr(r, "correlation_id", None) == cid
    ]


def assert_logged(caplog: pytest.LogCaptureFixture, cid: str, *words: str) -> str:
    """Exactly one ERROR record for `cid`, its message naming the id and every word."""
    records = error_records(caplog, cid)
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    message = records[0].getMessage()
    assert cid in message
    assert "NOT stored" in message
    for word in words:
        assert word in message, message
    return message


def crash_after_logging(url: str, correlation_id: str) -> None:
    """A bot process that logs one trade and dies without closing: -wal and -shm stay."""
    code = (
        "import os, sys\n"
        "from tradestore import TradeStore\n"
        "store = TradeStore(sys.argv[1])\n"
        "store.log_trade({'symbol': 'AAPL', 'action': 'BUY', 'strategy_name': 'crashed',"
        " 'quantity': '1'}, correlation_id=sys.argv[2])\n"
        "os._exit(0)\n"
    )
    done = run(sys.executable, "-c", code, url, correlation_id)
    assert done.returncode == 0, done.stderr


def trade_count(db_file: Path) -> int:
    with closing(sqlite3.connect(db_file)) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM trade_history").fetchone()
    return int(count)


# -- (a) read-only mount --------------------------------------------------------------------


def crashed_then_read_only(root: Path) -> tuple[str, str]:
    """A migrated database with one clean trade and one a crashed bot left in the WAL, on a
    mount then made read-only; returns the URL and the clean trade's id."""
    url = f"sqlite:///{root / 'trades.db'}"
    migrate(url)
    with TradeStore(url) as store:
        before = store.log_trade(signal())
    crash_after_logging(url, "crashed-bot")
    # The crashed trade is only in the WAL: reading it back proves WAL recovery on a
    # read-only mount, not just reads of the main file.
    assert (root / "trades.db-wal").exists()
    assert (root / "trades.db-shm").exists()
    remount(root, "ro")
    return url, before


def test_read_only_mount_after_a_crash_reads_work_writes_fail_clearly_then_resume(
    tmpfs: Callable[[str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    root = tmpfs("16m")
    db_file = root / "trades.db"
    url, before = crashed_then_read_only(root)

    with TradeStore(url, on_error="raise", timeout=FAIL_FAST) as strict:
        assert strict.get_trade(before) is not None
        crashed = strict.get_trade("crashed-bot")
        assert crashed is not None
        assert crashed.strategy_name == "crashed"

        with pytest.raises(QueryError) as raised:
            strict.log_trade(signal(), correlation_id="ro-raise")
        error = raised.value
        assert isinstance(error, TradestoreError)
        assert error.sqlstate == "SQLITE_READONLY"
        assert error.query == "upsert_trade_record"
        assert "upsert_trade_record" in str(error)
        assert "attempt to write a readonly database" in str(error)
        assert strict.get_trade("ro-raise") is None

    # One store at a time: SQLite shares a file's -shm mapping between all connections of a
    # process, so another store still holding a read-only connection would keep this one's
    # new connections read-only after the remount (see the report / backends/sqlite.py).
    with TradeStore(url, on_error="log", min_size=3, timeout=FAIL_FAST) as lenient:
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            lost = lenient.log_trade(signal())
        assert_logged(caplog, lost, "log_trade", "SQLITE_READONLY", "readonly")
        assert lenient.get_trade(lost) is None
        assert lenient.get_trade(before) is not None  # reads go on while writes fail

        remount(root, "rw")
        caplog.clear()
        # The same store, no restart: its three pooled connections were opened read-only
        # (and stay so for life), yet the first write after the remount must succeed.
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            after = lenient.log_trade(signal())
        assert not error_records(caplog, after)
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            assert lenient.log_iteration({"iteration_number": 1, "started_at": T0}) is not None
        assert not caplog.records
        for cid in (after, before, "crashed-bot"):
            assert lenient.get_trade(cid) is not None, cid
        assert lenient.get_trade(lost) is None
    with TradeStore(url, on_error="raise") as strict:
        assert strict.get_trade(strict.log_trade(signal())) is not None
    assert trade_count(db_file) == 4


def test_a_connection_held_across_the_remount_delays_recovery_by_one_write_only(
    tmpfs: Callable[[str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only connection still checked out (another thread's long read) when the mount
    turns writable makes the connection opened next read-only too (SQLite shares the -shm
    mapping in a process). That write fails; once the held one is returned, both are dropped
    and writes resume, rather than a read-only connection living on in the pool."""
    root = tmpfs("16m")
    url, before = crashed_then_read_only(root)
    with TradeStore(url, on_error="log", min_size=1, timeout=FAIL_FAST) as lenient:
        with lenient.pool.connection() as held:
            remount(root, "rw")
            with caplog.at_level(logging.ERROR, logger="tradestore.store"):
                lost = lenient.log_trade(signal())
            assert_logged(caplog, lost, "SQLITE_READONLY")
            assert held.execute("SELECT COUNT(*) FROM trade_history").fetchone() == (2,)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            after = [lenient.log_trade(signal()) for _ in range(3)]
        assert not caplog.records, [r.getMessage() for r in caplog.records]
        assert all(lenient.get_trade(cid) is not None for cid in after)
        assert lenient.get_trade(before) is not None
        assert lenient.get_trade(lost) is None


def test_read_only_mount_after_a_clean_close_is_unopenable_in_wal_mode_then_resumes(
    tmpfs: Callable[[str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    root = tmpfs("16m")
    db_file = root / "trades.db"
    url = f"sqlite:///{db_file}"
    migrate(url)
    with TradeStore(url) as store:
        before = store.log_trade(signal())
    # The last connection closed checkpoints and deletes the WAL files: what a clean
    # shutdown leaves behind.
    assert not (root / "trades.db-wal").exists()
    assert not (root / "trades.db-shm").exists()
    remount(root, "ro")

    # The default store opens min_size=1 connection up front, so it fails at construction,
    # naming the file and the reason (SQLite alone says only "unable to open database file").
    with pytest.raises(ConnectionFailed) as raised:
        TradeStore(url, on_error="raise", timeout=FAIL_FAST)
    message = str(raised.value)
    assert str(db_file) in message
    assert "unable to open database file" in message
    assert "not writable" in message
    assert "-wal and -shm" in message

    with TradeStore(url, on_error="log", min_size=0, timeout=FAIL_FAST) as lenient:
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            lost = lenient.log_trade(signal())
        assert_logged(caplog, lost, "log_trade", "ConnectionFailed", "not writable")
        # Reads are not covered by on_error, and a WAL database closed cleanly cannot be
        # read on a read-only mount at all (SQLite needs to create trades.db-shm first).
        with pytest.raises(ConnectionFailed):
            lenient.get_trade(before)

        remount(root, "rw")
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            after = lenient.log_trade(signal())
        assert not error_records(caplog, after)
        assert lenient.get_trade(after) is not None
        assert lenient.get_trade(before) is not None
        assert lenient.get_trade(lost) is None
    assert trade_count(db_file) == 2


# -- (b) full disk ----------------------------------------------------------------------


def fill_disk(path: Path) -> int:
    """Write zeros to `path` until ENOSPC; return the bytes written."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (65_536, 4_096, 512, 1):
            while True:
                try:
                    written += os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return written


def test_full_disk_fails_writes_cleanly_leaves_nothing_half_written_then_resumes(
    tmpfs: Callable[[str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    # 1 MiB holds the migrated database (~210 KB), its WAL and shm, and a few trades.
    root = tmpfs("1m")
    db_file = root / "trades.db"
    url = f"sqlite:///{db_file}"
    migrate(url)
    with (
        TradeStore(url, on_error="raise") as strict,
        TradeStore(url, on_error="log") as lenient,
    ):
        acked = [strict.log_trade(big_signal()) for _ in range(3)]
        filler = root / "filler"
        filled = fill_disk(filler)
        assert filled > 0
        assert os.statvfs(root).f_bavail == 0

        # Space the WAL already holds may take a few more trades: write until one fails.
        failure: QueryError | None = None
        for n in range(MAX_WRITES_ON_FULL_DISK):
            cid = f"full-{n}"
            try:
                strict.log_trade(big_signal(), correlation_id=cid)
            except QueryError as exc:
                failure = exc
                break
            acked.append(cid)
        assert failure is not None, f"{MAX_WRITES_ON_FULL_DISK} writes fit on a full disk"
        assert failure.sqlstate == "SQLITE_FULL"
        assert failure.query == "upsert_trade_record"
        assert "database or disk is full" in str(failure)
        assert strict.get_trade(cid) is None  # the failed write left no row

        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            lost = lenient.log_trade(big_signal())
        assert_logged(caplog, lost, "log_trade", "SQLITE_FULL", "database or disk is full")
        assert strict.get_trade(lost) is None

        # The bulk path (one statement for the batch) fails whole, not with a prefix stored.
        batch = [(big_signal(), None, f"batch-{i}") for i in range(20)]
        with pytest.raises(QueryError) as bulk:
            strict.log_trades(batch)
        assert bulk.value.sqlstate == "SQLITE_FULL"
        assert all(strict.get_trade(f"batch-{i}") is None for i in range(20))

        # Nothing half-written: the file is consistent and holds exactly the acknowledged
        # trades (read on a connection of its own, not one that saw the failures).
        with closing(sqlite3.connect(db_file)) as check:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert trade_count(db_file) == len(acked)
        assert all(strict.get_trade(a) is not None for a in acked)

        filler.unlink()
        caplog.clear()
        after_strict = strict.log_trade(big_signal())
        with caplog.at_level(logging.ERROR, logger="tradestore.store"):
            after_lenient = lenient.log_trade(big_signal())
        assert not error_records(caplog, after_lenient)
        strict.log_trades(batch)  # the same batch now fits
        for cid in (after_strict, after_lenient, "batch-0", "batch-19"):
            assert lenient.get_trade(cid) is not None, cid
    # After the stores closed (a checkpoint into the main file): still consistent and complete.
    with closing(sqlite3.connect(db_file)) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert trade_count(db_file) == len(acked) + 2 + len(batch)

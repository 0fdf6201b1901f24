"""Fault 6: a process SIGKILLed inside a multi-statement transaction, on both backends.

A child process opens its own `TradeStore`, enters ``with store.transaction():`` and calls
``orders.fill()``, which inserts the trade, updates the order (status, filled quantity, average
price, version) and writes two audit rows (``create`` of the trade, ``order_filled``). It then
says READY and sleeps with the transaction open and its locks held (the parent checks that:
PostgreSQL shows the backend ``idle in transaction``; SQLite refuses another ``BEGIN
IMMEDIATE``). The parent SIGKILLs it: no COMMIT, no ROLLBACK, no Python cleanup.

What must hold afterwards, and why it proves atomicity across a crash:

- The order is exactly as before (status, filled quantity, version), there is no trade for
  it and no fill audit row: none of the transaction's four writes survived, not even the
  ones that reached the database before the kill.
- The next write does not hang on the dead writer's locks: a store with ``query_timeout``
  (and, on SQLite, a bounded ``busy_timeout``) fills the same order at once. PostgreSQL rolls
  back when it notices the client socket closed (the test waits, bounded, for the child's
  backend to leave pg_stat_activity); SQLite's locks die with the process and the next opener
  recovers the WAL, ignoring the frames of the uncommitted transaction.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO

import psycopg
import pytest

from tradestore import TradeStore, migrate
from tradestore.trading.models import Order

READY_SECONDS = 30.0
GONE_SECONDS = 30.0
FILL_QTY = Decimal("4")
FILL_PRICE = Decimal("101.5")
WAL_HEADER_BYTES = 32

# The child: one connection, one transaction holding a fill, then READY and sleep forever.
# A small page cache makes SQLite spill the uncommitted pages into the WAL before READY, so
# the next opener really has uncommitted frames on disk to ignore, not just an empty file.
CHILD_CODE = """
import sys, time
from decimal import Decimal
from tradestore import TradeStore

url, order_id = sys.argv[1], int(sys.argv[2])
store = TradeStore(url, min_size=1, max_size=1)
backend_pid = 0
with store.transaction() as conn:
    if store.pool.dialect == "sqlite":
        conn.execute("PRAGMA cache_size = 1")
    store.orders.fill(order_id, quantity=Decimal("4"), price=Decimal("101.5"))
    if store.pool.dialect == "postgresql":
        backend_pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    print(f"READY {backend_pid}", flush=True)
    while True:
        time.sleep(3600)
"""


def with_query(url: str, **params: str) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + "&".join(f"{k}={v}" for k, v in params.items())


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


@pytest.fixture
def order(db_url: str) -> Order:
    migrate(db_url)
    # Closed before the child starts: on PostgreSQL no other backend of this test's
    # application_name is left to confuse the wait for the child's; on SQLite the last close
    # checkpoints, so the WAL the child writes holds only its own uncommitted frames.
    with TradeStore(db_url, min_size=0, max_size=2) as store:
        account = store.accounts.create(name="crash", cash_balance=Decimal("100000"))
        portfolio = store.portfolios.create(account_id=account.id, name="core")
        return store.orders.submit(
            portfolio_id=portfolio.id,
            symbol="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal("10"),
        )


class Child:
    """The child process, its stdout lines on a queue, its stderr in a file."""

    def __init__(self, url: str, order_id: int, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr: IO[bytes] = stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD_CODE, url, str(order_id)],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        # A reader thread, so waiting for READY is bounded by queue.get's timeout rather
        # than by a readline() that could block forever.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def wait_ready(self) -> int:
        """The backend pid the child printed with READY (0 on SQLite)."""
        deadline = time.monotonic() + READY_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith("READY"):
                return int(line.split()[1])
        raise AssertionError(
            f"child not READY within {READY_SECONDS}s (exit code {self.proc.poll()}); "
            f"stderr:\n{self.stderr()}"
        )

    def kill(self) -> None:
        """SIGKILL (idempotent) and reap."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        # The pipe reaches EOF once the child is dead; let the reader finish before closing.
        self._reader.join(timeout=5)
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()
        self._stderr.close()


@pytest.fixture
def child_factory(tmp_path: Path) -> Iterator[list[Child]]:
    """Children started by a test; every one is killed here even if the test failed."""
    children: list[Child] = []
    yield children
    for child in children:
        child.kill()


def backend_state(base_url: str, app: str, pid: int) -> str | None:
    """The pg_stat_activity state of backend `pid` of `app`, None once it is gone."""
    with psycopg.connect(base_url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT state FROM pg_stat_activity WHERE pid = %s AND application_name = %s",
            (pid, app),
        ).fetchone()
    return None if row is None else str(row[0])


def wait_backend_gone(base_url: str, app: str, pid: int) -> float:
    """Seconds until backend `pid` left pg_stat_activity (bounded; its exit is the rollback)."""
    start = time.monotonic()
    while time.monotonic() - start < GONE_SECONDS:
        if backend_state(base_url, app, pid) is None:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} still in pg_stat_activity {GONE_SECONDS}s after SIGKILL")


def assert_untouched(store: TradeStore, before: Order) -> None:
    """Nothing of the killed transaction is visible: order, trades, audit rows."""
    now = store.orders.get(before.id)
    assert (now.status, now.filled_quantity, now.average_fill_price, now.version) == (
        before.status,
        before.filled_quantity,
        before.average_fill_price,
        before.version,
    )
    assert store.trades.list(order_id=before.id) == []
    history = [a.action for a in store.audit.get_entity_history("order", before.id)]
    assert history == ["order_submitted"]
    assert [a for a in store.audit.get_audit_trail(limit=1000) if a.entity_type == "trade"] == []


def assert_sqlite_write_locked(path: Path) -> None:
    """Another connection holds the write lock: our BEGIN IMMEDIATE is refused at once."""
    raw = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            raw.execute("BEGIN IMMEDIATE")
    finally:
        raw.close()  # rolls back, should the BEGIN have succeeded


def test_sigkill_inside_a_fill_transaction_leaves_nothing_and_blocks_nothing(
    db_url: str,
    order: Order,
    child_factory: list[Child],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    is_pg = db_url.startswith("postgresql")
    child = Child(db_url, order.id, tmp_path / "child.stderr")
    child_factory.append(child)
    backend_pid = child.wait_ready()

    wal_bytes = 0
    base_url = app = ""
    if is_pg:
        base_url = request.getfixturevalue("postgres_base_url")
        app = request.getfixturevalue("pg_schema")
        # The kill must land mid-transaction: the child's backend sits in an open one.
        assert backend_state(base_url, app, backend_pid) == "idle in transaction"
    else:
        path = sqlite_path(db_url)
        assert_sqlite_write_locked(path)
        wal = path.with_name(path.name + "-wal")
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        # Uncommitted frames really are on disk (the child's tiny cache spilled them), so the
        # recovery below has something to discard, not just an empty WAL.
        assert wal_bytes > WAL_HEADER_BYTES

    # While the child is alive its writes are invisible (no dirty read) ...
    with TradeStore(db_url, min_size=0, max_size=1) as peek:
        assert_untouched(peek, order)

    child.kill()
    assert child.proc.returncode == -signal.SIGKILL
    gone_after = wait_backend_gone(base_url, app, backend_pid) if is_pg else 0.0

    # ... and after the kill they are gone for good. Bounded waits for any lock the dead
    # writer might still hold: statement_timeout on PostgreSQL, busy_timeout + the progress
    # deadline on SQLite; a hang would surface as QueryTimeout / "database is locked".
    url = db_url if is_pg else with_query(db_url, busy_timeout="5000")
    with TradeStore(url, min_size=0, max_size=2, timeout=10, query_timeout=10) as store:
        assert_untouched(store, order)
        if not is_pg:
            # The recovered file is sound, not just readable.
            with store.pool.connection() as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        started = time.monotonic()
        filled, trade = store.orders.fill(order.id, quantity=FILL_QTY, price=FILL_PRICE)
        fill_seconds = time.monotonic() - started
        assert filled.status == "partially_filled"
        assert filled.filled_quantity == FILL_QTY
        assert filled.version == order.version + 1
        assert [t.id for t in store.trades.list(order_id=order.id)] == [trade.id]
        history = [a.action for a in store.audit.get_entity_history("order", order.id)]
        assert history == ["order_submitted", "order_filled"]
    print(  # the figures for the report (shown with -s)
        f"\n[{'postgresql' if is_pg else 'sqlite'}] wal_bytes_at_kill={wal_bytes} "
        f"backend_gone_after={gone_after:.3f}s next_fill={fill_seconds:.3f}s"
    )

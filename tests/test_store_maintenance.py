"""A TradeStore's housekeeping on its own database: retention, backups, introspection."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from faces import trade_store
from tradestore import TradeSignal, TradeStore
from tradestore.errors import NotFound


def later() -> dt.datetime:
    """A cutoff just after everything the test wrote (computed when the test runs)."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)


@pytest.fixture
def store(db_url: str, face: str) -> Iterator[TradeStore]:
    """A store that migrates its database on opening, per face."""
    with trade_store(face, db_url, migrate=True, min_size=0, max_size=2) as s:
        yield s


def signal(symbol: str) -> TradeSignal:
    return TradeSignal(symbol=symbol, action="BUY", strategy_name="t", quantity="1.5")


def test_entities_and_audit_share_the_store_transaction(store: TradeStore) -> None:
    account = store.accounts.create(name="main", cash_balance="100")
    with pytest.raises(RuntimeError), store.transaction():
        store.portfolios.create(account_id=account.id, name="core")
        store.log_trade(signal("AAPL"))
        raise RuntimeError("abandon the batch")
    assert store.portfolios.list(account_id=account.id) == []
    assert store.get_trade_history() == []
    assert [row.action for row in store.audit.get_entity_history("account", account.id)] == [
        "create"
    ]


def test_purge_and_archive_through_the_store(store: TradeStore, tmp_path: Path) -> None:
    store.audit.log_system_event("started")
    store.log_trade(signal("AAPL"))
    target = tmp_path / "trades.jsonl"
    assert store.archive("trade_history", later(), target) == 1
    assert store.get_trade_history() == []
    assert json.loads(target.read_text().splitlines()[0])["symbol"] == "AAPL"
    assert store.purge_audit_logs() == 0  # nothing is older than AUDIT_RETENTION_DAYS
    assert store.purge_audit_logs(later()) == 1
    assert store.audit.get_audit_trail() == []


def test_introspection(store: TradeStore) -> None:
    assert store.table_exists("trade_history")
    assert not store.table_exists("no_such_table")
    info = store.get_table_info("orders")
    assert {"id", "status", "version"} <= {c.name for c in info.columns}
    with pytest.raises(NotFound):
        store.get_table_info("no_such_table")
    store.log_trade(signal("MSFT"))
    stats = store.get_connection_stats()
    assert stats["queries"]["upsert_trade_record"]["count"] == 1


def test_backup_defaults_to_the_configured_directory(
    store: TradeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store.pool.dialect == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    monkeypatch.setenv("DB_BACKUP_DIRECTORY", str(tmp_path / "backups"))
    store.settings = None  # read the environment again
    store.log_trade(signal("AAPL"))
    written = store.create_backup()
    assert written.parent == tmp_path / "backups"
    assert written.stat().st_size > 0
    if store.pool.dialect == "sqlite":
        with sqlite3.connect(written) as copy:
            assert copy.execute("SELECT symbol FROM trade_history").fetchall() == [("AAPL",)]

"""Retention on both backends: purge of old audit rows, and archive of every archivable table to
JSON Lines or CSV, in batches, losing nothing when it fails part-way."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradestore import Connection, Pool, load_queries, migrate
from tradestore.db.scope import DbScope
from tradestore.errors import TradestoreError
from tradestore.trading.retention import ARCHIVABLE, ARCHIVABLE_TABLES, archive, purge_audit_logs

QUERIES = load_queries()
T0 = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC)
CUTOFF = T0 + dt.timedelta(days=1)
FAR = T0 + dt.timedelta(days=3650)

REFUSE_DELETE = {
    "postgresql": [
        "CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'delete refused'; END; $$",
        "CREATE TRIGGER refuse_delete BEFORE DELETE ON equity_curve "
        "FOR EACH ROW EXECUTE FUNCTION refuse_delete()",
    ],
    "sqlite": [
        "CREATE TRIGGER refuse_delete BEFORE DELETE ON equity_curve "
        "BEGIN SELECT RAISE(ABORT, 'delete refused'); END",
    ],
}
ALLOW_DELETE = {
    "postgresql": "DROP TRIGGER refuse_delete ON equity_curve",
    "sqlite": "DROP TRIGGER refuse_delete",
}


@pytest.fixture
def scope(db_url: str) -> Iterator[DbScope]:
    migrate(db_url)
    with Pool(db_url, min_size=0, max_size=4) as pool:
        yield DbScope(pool)


def run(conn: Connection, sql: str, params: Mapping[str, Any]) -> None:
    """Execute test SQL written with :name parameters in the connection's driver style."""
    if conn.dialect == "postgresql":
        sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
    conn.execute(sql, dict(params))


ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "audit_logs": (
        "INSERT INTO audit_logs (occurred_at, action, entity_type, entity_id, new_values) "
        "VALUES (:t, 'update', 'account', :n, :v)",
        {"v": {"cash": "1.5"}},
    ),
    "trade_history": (
        "INSERT INTO trade_history (correlation_id, symbol, action, strategy_name, quantity, "
        "signal_time) VALUES (:n, 'AAPL', 'BUY', 'momentum', :q, :t)",
        {"q": Decimal("10.12345678")},
    ),
    "equity_curve": (
        "INSERT INTO equity_curve (recorded_at, equity, cash, buying_power) "
        "VALUES (:t, :q, :q, :q)",
        {"q": Decimal("100000.5")},
    ),
    "risk_metrics": (
        "INSERT INTO risk_metrics (recorded_at, portfolio_value) VALUES (:t, :q)",
        {"q": Decimal("5")},
    ),
    "iteration_log": (
        "INSERT INTO iteration_log (iteration_number, started_at, symbols_processed) "
        "VALUES (:i, :t, :v)",
        {"v": json.dumps(["AAPL", "MSFT"])},  # psycopg would send a list as an array
    ),
    "audit_report_log": (
        "INSERT INTO audit_report_log (report_type, generated_at, metrics) "
        "VALUES ('daily', :t, :v)",
        {"v": {"sharpe": 1.2}},
    ),
}


def seed(scope: DbScope, table: str, old: int = 5, new: int = 2) -> None:
    """`old` rows an hour apart from T0 (before CUTOFF) and `new` rows far after it."""
    sql, extra = ROWS[table]
    times = [T0 + dt.timedelta(hours=n) for n in range(old)]
    times += [FAR - dt.timedelta(days=n) for n in range(new)]
    with scope.transaction() as conn:
        for number, when in enumerate(times):
            params = {"t": when, "n": f"k-{number}", "i": number, **extra}
            names = set(re.findall(r"(?<!:):(\w+)", sql))
            run(conn, sql, {k: v for k, v in params.items() if k in names})


def rows_of(scope: DbScope, table: str, before: dt.datetime = CUTOFF) -> list[Any]:
    fetch = getattr(QUERIES, ARCHIVABLE[table].batch_query)
    rows: list[Any] = fetch(scope.db(), older_than=before, limit=10_000)
    return rows


def keys(rows: list[Any], table: str) -> list[Any]:
    return [getattr(row, ARCHIVABLE[table].key) for row in rows]


def read_jsonl(path: Path, table: str) -> list[Any]:
    model = ARCHIVABLE[table].model
    return [model.model_validate(json.loads(line)) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("table", ARCHIVABLE_TABLES)
def test_archive_moves_old_rows_to_jsonl(scope: DbScope, tmp_path: Path, table: str) -> None:
    seed(scope, table)
    old = rows_of(scope, table)
    assert len(old) == 5
    calls: list[tuple[int, int]] = []
    target = tmp_path / f"{table}.jsonl"
    moved = archive(
        scope,
        QUERIES,
        table,
        CUTOFF,
        target,
        batch_size=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert moved == 5
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert read_jsonl(target, table) == old  # every column, exactly (Decimal, times, JSON)
    assert rows_of(scope, table) == []
    assert len(rows_of(scope, table, before=FAR + dt.timedelta(days=1))) == 2


@pytest.mark.parametrize("table", ["audit_logs", "iteration_log"])
def test_archive_to_csv_appends_with_one_header(scope: DbScope, tmp_path: Path, table: str) -> None:
    seed(scope, table, old=3, new=0)
    old = rows_of(scope, table)
    target = tmp_path / f"{table}.csv"
    assert archive(scope, QUERIES, table, T0 + dt.timedelta(minutes=30), target, fmt="csv") == 1
    assert archive(scope, QUERIES, table, CUTOFF, target, fmt="csv", batch_size=1) == 2
    with target.open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == list(ARCHIVABLE[table].model.model_fields)
        lines = list(reader)
    assert [line["id"] for line in lines] == [str(row.id) for row in old]
    json_column = "new_values" if table == "audit_logs" else "symbols_processed"
    assert [json.loads(line[json_column]) for line in lines] == [
        getattr(row, json_column) for row in old
    ]
    assert rows_of(scope, table) == []


def test_failure_after_a_batch_loses_nothing(scope: DbScope, tmp_path: Path) -> None:
    seed(scope, "trade_history")
    everything = keys(rows_of(scope, "trade_history"), "trade_history")
    target = tmp_path / "th.jsonl"

    def stop_after_first_batch(done: int, total: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt  # the operator hits Ctrl-C mid-archive

    with pytest.raises(KeyboardInterrupt):
        archive(
            scope,
            QUERIES,
            "trade_history",
            CUTOFF,
            target,
            batch_size=2,
            progress=stop_after_first_batch,
        )
    in_file = keys(read_jsonl(target, "trade_history"), "trade_history")
    in_table = keys(rows_of(scope, "trade_history"), "trade_history")
    assert in_file == everything[:2]
    assert sorted(in_file + in_table) == sorted(everything)
    assert archive(scope, QUERIES, "trade_history", CUTOFF, target) == 3  # the rerun finishes
    assert keys(read_jsonl(target, "trade_history"), "trade_history") == everything


def test_a_failed_delete_leaves_rows_in_table_and_file(scope: DbScope, tmp_path: Path) -> None:
    """The crash window between fsync and delete: rows end up in both, never in neither."""
    seed(scope, "equity_curve")
    everything = keys(rows_of(scope, "equity_curve"), "equity_curve")
    with scope.pool.connection() as conn:
        for statement in REFUSE_DELETE[conn.dialect]:
            conn.execute(statement)
    target = tmp_path / "eq.jsonl"
    with pytest.raises(TradestoreError, match="delete refused"):
        archive(scope, QUERIES, "equity_curve", CUTOFF, target, batch_size=2)
    assert keys(read_jsonl(target, "equity_curve"), "equity_curve") == everything[:2]
    assert keys(rows_of(scope, "equity_curve"), "equity_curve") == everything
    with scope.pool.connection() as conn:
        conn.execute(ALLOW_DELETE[conn.dialect])
    assert archive(scope, QUERIES, "equity_curve", CUTOFF, target, batch_size=2) == 5
    in_file = keys(read_jsonl(target, "equity_curve"), "equity_curve")
    assert in_file == everything[:2] + everything  # at-least-once: the first batch twice
    assert rows_of(scope, "equity_curve") == []


def test_an_unwritable_target_deletes_nothing(scope: DbScope, tmp_path: Path) -> None:
    seed(scope, "risk_metrics")
    with pytest.raises(FileNotFoundError):
        archive(scope, QUERIES, "risk_metrics", CUTOFF, tmp_path / "missing" / "r.jsonl")
    assert len(rows_of(scope, "risk_metrics")) == 5


@pytest.mark.parametrize(
    "table", ["accounts", "orders", "audit_logs; DROP TABLE orders", "AUDIT_LOGS"]
)
def test_only_whitelisted_tables_can_be_archived(
    scope: DbScope, tmp_path: Path, table: str
) -> None:
    with pytest.raises(ValueError, match=r"cannot be archived \(archivable: audit_logs"):
        archive(scope, QUERIES, table, CUTOFF, tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


def test_archive_checks_its_arguments(scope: DbScope, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format must be 'jsonl' or 'csv'"):
        archive(scope, QUERIES, "audit_logs", CUTOFF, tmp_path / "x", fmt="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="older_than must be a timezone-aware"):
        archive(scope, QUERIES, "audit_logs", CUTOFF.replace(tzinfo=None), tmp_path / "x")
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        archive(scope, QUERIES, "audit_logs", CUTOFF, tmp_path / "x", batch_size=0)


def test_purge_audit_logs_in_batches(scope: DbScope) -> None:
    seed(scope, "audit_logs")
    assert purge_audit_logs(scope, QUERIES, CUTOFF, batch_size=2) == 5
    assert rows_of(scope, "audit_logs") == []
    assert len(rows_of(scope, "audit_logs", before=FAR + dt.timedelta(days=1))) == 2
    assert purge_audit_logs(scope, QUERIES, CUTOFF) == 0
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        purge_audit_logs(scope, QUERIES, CUTOFF, batch_size=0)

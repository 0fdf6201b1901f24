"""Introspection on real PostgreSQL and SQLite: the migrated trading schema, one schema each."""

from __future__ import annotations

import json

import pytest

from tradestore import Pool, migrate
from tradestore.errors import NotFound
from tradestore.schema.introspect import (
    get_connection_stats,
    get_table_info,
    list_tables,
    table_exists,
)

TRADING_TABLES = (
    "trade_history",
    "equity_curve",
    "risk_metrics",
    "iteration_log",
    "audit_report_log",
    "accounts",
    "portfolios",
    "orders",
    "trades",
    "positions",
    "audit_logs",
)


@pytest.fixture
def migrated(db_url: str) -> str:
    migrate(db_url)
    return db_url


@pytest.mark.parametrize("table", TRADING_TABLES)
def test_every_trading_table_exists(migrated: str, table: str) -> None:
    with Pool(migrated, max_size=1) as pool:
        assert table_exists(pool, table) is True


def test_list_tables_is_the_trading_schema_without_views(migrated: str) -> None:
    with Pool(migrated, max_size=1) as pool:
        tables = list_tables(pool)
    assert tables == sorted(tables)
    ours = [t for t in tables if not t.startswith("_yoyo") and t != "yoyo_lock"]
    assert sorted(ours) == sorted(TRADING_TABLES)


def test_missing_and_tricky_names_do_not_exist(migrated: str) -> None:
    with Pool(migrated, max_size=1) as pool:
        assert table_exists(pool, "no_such_table") is False
        assert table_exists(pool, "TRADES") is False  # names are exact, not case-folded
        assert table_exists(pool, "trades; DROP TABLE trades") is False
        assert table_exists(pool, "trades") is True  # still there


def test_tables_of_other_schemas_are_not_seen(pg_url: str, postgres_base_url: str) -> None:
    migrate(pg_url)  # this test's schema has the trading tables ...
    with Pool(pg_url, max_size=1) as pool, pool.connection() as conn:
        conn.execute("CREATE TABLE only_here (id integer)")
        assert table_exists(conn, "only_here")
    # ... the base URL's schema (public) must not see them through introspection.
    with Pool(postgres_base_url, max_size=1) as pool:
        assert not table_exists(pool, "only_here")


def test_table_info_describes_columns_in_order(migrated: str) -> None:
    with Pool(migrated, max_size=1) as pool:
        info = get_table_info(pool, "equity_curve")
    assert info.name == "equity_curve"
    assert info.column_names[:5] == ("id", "recorded_at", "equity", "cash", "buying_power")
    by_name = {c.name: c for c in info.columns}
    assert by_name["id"].nullable is False
    assert by_name["equity"].nullable is False
    assert by_name["total_return"].nullable is True
    assert by_name["equity"].type.lower() in ("numeric", "text")  # exact decimal text on SQLite
    assert by_name["created_at"].default is not None
    assert by_name["total_return"].default is None
    with pytest.raises(AttributeError):
        info.name = "other"  # type: ignore[misc]


def test_nullability_agrees_between_backends(sqlite_url: str, pg_url: str) -> None:
    described = []
    for url in (sqlite_url, pg_url):
        migrate(url)
        with Pool(url, max_size=1) as pool:
            described.append(
                {
                    table: [(c.name, c.nullable) for c in get_table_info(pool, table).columns]
                    for table in TRADING_TABLES
                }
            )
    assert described[0] == described[1]


def test_row_estimate_follows_the_rows(db_url: str) -> None:
    migrate(db_url)
    with Pool(db_url, max_size=1) as pool, pool.connection() as conn:
        # Rows put in by hand: the estimate must see them on both backends.
        for i in range(25):
            conn.execute(
                "INSERT INTO iteration_log (iteration_number, started_at, symbols_processed, "
                "signals_generated, signals_validated, signals_approved, signals_executed, errors)"
                + (
                    " VALUES (%s, now(), '[]', 0, 0, 0, 0, '[]')"
                    if pool.dialect == "postgresql"
                    else " VALUES (?, '2026-01-01T00:00:00.000000+00:00', '[]', 0, 0, 0, 0, '[]')"
                ),
                (i,),
            )
        if pool.dialect == "postgresql":
            conn.execute("ANALYZE iteration_log")  # reltuples is refreshed by ANALYZE
        assert get_table_info(conn, "iteration_log").row_estimate == 25
        assert get_table_info(conn, "audit_logs").row_estimate in (0, None)


def test_unknown_table_is_not_found_naming_it(migrated: str) -> None:
    with Pool(migrated, max_size=1) as pool, pytest.raises(NotFound, match="no_such_table"):
        get_table_info(pool, "no_such_table")


def test_views_have_columns_and_no_estimate(migrated: str) -> None:
    with Pool(migrated, max_size=1) as pool, pool.connection() as conn:
        if pool.dialect == "postgresql":
            rows = conn.execute(
                "SELECT table_name FROM information_schema.views "
                "WHERE table_schema = current_schema()"
            ).fetchall()
        else:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall()
        views = sorted(r[0] for r in rows)
        assert views, "the migrations create views"
        info = get_table_info(conn, views[0])
        assert table_exists(conn, views[0])
    assert info.columns
    assert info.row_estimate is None


def test_connection_stats_are_json_and_count_queries(db_url: str) -> None:
    migrate(db_url)
    url = db_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    with Pool(url, min_size=1, max_size=3) as pool:
        for _ in range(3):
            table_exists(pool, "trades")
        stats = get_connection_stats(pool)
    text = json.dumps(stats)
    assert "s3cret" not in text
    assert stats["pool"]["backend"] == pool.dialect
    assert stats["pool"]["max_size"] == 3
    assert stats["pool"]["checkouts"] >= 3
    timing = stats["queries"]["introspect_table_exists"]
    assert timing["count"] == 3
    assert timing["errors"] == 0
    assert timing["max_ms"] >= timing["mean_ms"] > 0

"""The yoyo migrations on real PostgreSQL and SQLite: apply, roll back, lock, fail, CLI, make."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tradestore
from tradestore import Pool, parse_url
from tradestore.cli import main
from tradestore.db.url import Dialect
from tradestore.errors import MigrationError
from tradestore.schema.migrate import (
    MigrationStatus,
    migrate,
    migration_status,
    migrations_source,
    new_migration,
    rollback,
)

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ALL_IDS = [
    "0001_bot_run_records",
    "0002_trading_entities",
    "0003_audit",
    "0004_indexes",
    "0005_views",
]
TABLES = {
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
}
VIEWS = {"daily_strategy_pnl", "open_positions_pnl"}

_PG_OBJECTS = """
SELECT c.relkind::text, c.relname::text FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'i', 'S')
UNION ALL
SELECT 'function', p.proname::text FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema()
UNION ALL
SELECT 'trigger', t.tgname::text FROM pg_trigger AS t
JOIN pg_class AS c ON c.oid = t.tgrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT t.tgisinternal
"""
_SQLITE_OBJECTS = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"


def _is_yoyo(name: str) -> bool:
    return name.startswith(("_yoyo", "yoyo_"))


def schema_objects(url: str) -> set[tuple[str, str]]:
    """Every table, view, index, sequence, function and trigger of the database (or the
    URL's schema), yoyo's own bookkeeping left out."""
    with Pool(url, min_size=0, max_size=1) as pool, pool.connection() as conn:
        sql = _PG_OBJECTS if conn.dialect == "postgresql" else _SQLITE_OBJECTS
        rows = conn.execute(sql).fetchall()
    return {(kind, name) for kind, name in rows if not _is_yoyo(name)}


def relation_names(url: str) -> set[str]:
    return {name for kind, name in schema_objects(url) if kind in ("r", "v", "table", "view")}


def test_apply_rollback_apply_leaves_no_leftovers(db_url: str) -> None:
    assert schema_objects(db_url) == set()
    assert migrate(db_url) == ALL_IDS
    applied = schema_objects(db_url)
    assert relation_names(db_url) == TABLES | VIEWS

    assert rollback(db_url, steps=len(ALL_IDS)) == list(reversed(ALL_IDS))
    assert schema_objects(db_url) == set()

    assert migrate(db_url) == ALL_IDS
    assert schema_objects(db_url) == applied


def test_migrate_twice_applies_nothing_and_status_is_typed(db_url: str) -> None:
    before = migration_status(db_url)
    assert [row.id for row in before] == ALL_IDS
    assert not any(row.applied for row in before)

    assert migrate(db_url) == ALL_IDS
    assert migrate(db_url) == []

    after = migration_status(db_url)
    assert all(isinstance(row, MigrationStatus) for row in after)
    assert all(row.applied for row in after)
    for row in after:
        assert row.applied_at is not None
        assert row.applied_at.utcoffset() == dt.timedelta(0)
        assert row.path.name == f"{row.id}.sql"
        assert row.path.with_name(f"{row.id}.rollback.sql").is_file()


def test_rollback_defaults_to_one_step(db_url: str) -> None:
    migrate(db_url)
    assert rollback(db_url) == ["0005_views"]
    assert relation_names(db_url) == TABLES
    assert [row.applied for row in migration_status(db_url)] == [True] * 4 + [False]
    assert rollback(db_url, steps=2) == ["0004_indexes", "0003_audit"]
    assert migrate(db_url) == ["0003_audit", "0004_indexes", "0005_views"]


def test_rollback_with_nothing_applied_returns_empty(db_url: str) -> None:
    assert rollback(db_url, steps=3) == []


def test_rollback_refuses_zero_steps(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        rollback(sqlite_url, steps=0)


def _folder_with_broken_migration(dialect: Dialect, tmp_path: Path) -> Path:
    folder = tmp_path / dialect
    shutil.copytree(migrations_source(dialect), folder)
    (folder / "0006_broken.sql").write_text(
        textwrap.dedent(
            """\
            -- A migration whose third statement fails: the first two must not stay.
            -- depends: 0005_views

            CREATE TABLE broken_half (id INTEGER);

            INSERT INTO accounts (name) VALUES ('written by a failed migration');

            INSERT INTO no_such_table (id) VALUES (1);
            """
        )
    )
    (folder / "0006_broken.rollback.sql").write_text("DROP TABLE broken_half;\n")
    return folder


def test_failed_migration_leaves_the_database_as_it_was(db_url: str, tmp_path: Path) -> None:
    dialect = parse_url(db_url).dialect
    folder = _folder_with_broken_migration(dialect, tmp_path)
    with pytest.raises(MigrationError) as caught:
        migrate(db_url, source=folder)
    message = str(caught.value)
    assert "0006_broken" in message
    assert "no_such_table" in message
    assert "0005_views" in message  # the ones applied before it in this run are listed

    status = {row.id: row.applied for row in migration_status(db_url, source=folder)}
    assert status == {**dict.fromkeys(ALL_IDS, True), "0006_broken": False}
    assert "broken_half" not in relation_names(db_url)
    with Pool(db_url, min_size=0, max_size=1) as pool, pool.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0


def test_yoyo_cli_applies_the_sqlite_folder(sqlite_url: str) -> None:
    yoyo_url = parse_url(sqlite_url).yoyo_url()
    result = subprocess.run(
        [BIN / "yoyo", "apply", "--batch", "--database", yoyo_url, migrations_source("sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert all(row.applied for row in migration_status(sqlite_url))
    assert migrate(sqlite_url) == []  # the kit and yoyo's CLI share the bookkeeping
    assert relation_names(sqlite_url) == TABLES | VIEWS


@pytest.mark.postgres
def test_yoyo_cli_applies_the_postgresql_folder_with_psycopg3_only(pg_url: str) -> None:
    yoyo_url = parse_url(pg_url).yoyo_url()
    assert yoyo_url.startswith("postgresql+psycopg://")
    assert "schema=" in yoyo_url
    # psycopg2 made unimportable: the run proves yoyo talks through psycopg 3.
    script = (
        "import sys; sys.modules['psycopg2'] = None; "
        "from yoyo.scripts.main import main; sys.exit(main(sys.argv[1:]))"
    )
    folder = str(migrations_source("postgresql"))
    result = subprocess.run(
        [sys.executable, "-c", script, "apply", "--batch", "--database", yoyo_url, folder],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert migrate(pg_url) == []
    assert relation_names(pg_url) == TABLES | VIEWS


_CHILD = """
import json, os, sys, time
from tradestore import migrate
go = sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.005)
print(json.dumps(migrate(sys.argv[1])))
"""


def test_two_processes_migrating_at_once_apply_each_migration_once(
    db_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, db_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(results[0] + results[1]) == ALL_IDS  # every one applied, none twice
    with Pool(db_url, min_size=0, max_size=1) as pool, pool.connection() as conn:
        rows = conn.execute(
            "SELECT migration_id, COUNT(*) FROM _yoyo_log "
            "WHERE operation = 'apply' GROUP BY migration_id"
        ).fetchall()
    assert dict(rows) == dict.fromkeys(ALL_IDS, 1)


@pytest.mark.postgres
def test_errors_name_the_database_but_never_the_password(postgres_base_url: str) -> None:
    base = parse_url(postgres_base_url)
    url = f"postgresql://{base.username or 'postgres'}:s3cret-pw@{base.host}:{base.port or 5432}"
    with pytest.raises(MigrationError) as caught:
        migrate(f"{url}/tradestore_no_such_database")
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "***" in message
    assert "tradestore_no_such_database" in message


def test_in_memory_sqlite_is_refused_with_a_reason() -> None:
    with pytest.raises(MigrationError, match="in-memory"):
        migrate("sqlite:///:memory:")


def test_url_defaults_to_database_url(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert tradestore.migrate() == ALL_IDS
    assert all(row.applied for row in tradestore.migration_status())
    assert tradestore.rollback() == ["0005_views"]


def test_kit_conversions_survive_a_migration(sqlite_url: str) -> None:
    # yoyo's SQLite backend registers its own (naive) datetime adapter with sqlite3 while it
    # runs; the kit converts its values itself, so its connections do not care.
    with Pool(sqlite_url, min_size=1) as pool:
        migrate(sqlite_url)
        with pool.connection() as conn:
            with pytest.raises(ValueError, match="naive datetime"):
                conn.execute("SELECT ?", (dt.datetime(2026, 1, 2, 3, 4, 5),))
            aware = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
            assert conn.execute("SELECT ?", (aware,)).fetchone()[0] == (
                "2026-01-02T03:04:05.000000+00:00"
            )


def _copy_migrations(tmp_path: Path) -> Path:
    root = tmp_path / "migrations"
    for dialect in ("postgresql", "sqlite"):
        shutil.copytree(migrations_source(dialect), root / dialect)
    return root


def test_new_migration_creates_a_pair_per_dialect(tmp_path: Path, sqlite_url: str) -> None:
    root = _copy_migrations(tmp_path)
    created = new_migration("Add order-tags", root=root)
    assert sorted(p.relative_to(root).as_posix() for p in created) == [
        "postgresql/0006_add_order_tags.rollback.sql",
        "postgresql/0006_add_order_tags.sql",
        "sqlite/0006_add_order_tags.rollback.sql",
        "sqlite/0006_add_order_tags.sql",
    ]
    for dialect in ("postgresql", "sqlite"):
        text = (root / dialect / "0006_add_order_tags.sql").read_text()
        assert "-- depends: 0005_views" in text
    # The empty template is a valid yoyo migration: it applies and rolls back.
    assert migrate(sqlite_url, source=root / "sqlite") == [*ALL_IDS, "0006_add_order_tags"]
    assert rollback(sqlite_url, source=root / "sqlite") == ["0006_add_order_tags"]


@pytest.mark.parametrize("name", ["", "9lives", "drop table; --", "x.y"])
def test_new_migration_refuses_bad_names(tmp_path: Path, name: str) -> None:
    root = _copy_migrations(tmp_path)
    with pytest.raises(MigrationError, match="migration name"):
        new_migration(name, root=root)
    assert sorted(p.name for p in (root / "sqlite").iterdir())[-1] == "0005_views.sql"


def test_cli_mirrors_the_library(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--database-url", sqlite_url, "migrate"]) == 0
    assert "applied 0005_views" in capsys.readouterr().out
    assert main(["--database-url", sqlite_url, "rollback", "--steps", "2", "--yes"]) == 0
    assert capsys.readouterr().out.split() == [
        "rolled",
        "back",
        "0005_views",
        "rolled",
        "back",
        "0004_indexes",
    ]
    assert main(["--database-url", sqlite_url, "status"]) == 0
    assert "3 applied, 2 pending" in capsys.readouterr().out

    _copy_migrations(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["new-migration", "add_x"]) == 0
    assert (tmp_path / "migrations" / "sqlite" / "0006_add_x.rollback.sql").is_file()

    assert main(["--database-url", "sqlite:///:memory:", "migrate"]) == 1
    assert "in-memory" in capsys.readouterr().err


@pytest.mark.slow
def test_make_targets_honour_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/make.db"

    def make(*args: str, ok: bool = True) -> str:
        # -o: never rebuild the venv from a test, even when pyproject.toml is newer.
        result = subprocess.run(
            ["make", "--no-print-directory", "-o", ".venv/.installed", *args],
            cwd=REPO,
            env={**os.environ, "DATABASE_URL": url},
            stdin=subprocess.DEVNULL,  # batch mode: no terminal to ask on
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (result.returncode == 0) == ok, result.stderr
        return result.stdout if ok else result.stderr

    assert "applied 0005_views" in make("migrate")
    assert "rolled back 0005_views" in make("rollback")  # one step, no rows: no question
    assert "pass --yes" in make("rollback", "steps=2", ok=False)
    assert "rolled back 0003_audit" in make("rollback", "steps=2", "yes=1")
    assert "2 applied, 3 pending" in make("migrations-status")
    assert [row.applied for row in migration_status(url)] == [True] * 2 + [False] * 3
    assert "no migration lock to break" in make("break-lock")


def test_sqlite_schema_needs_no_custom_function_except_to_query_views(sqlite_url: str) -> None:
    # A plain sqlite3 connection (no kit functions): checks and triggers work, views need
    # decimal_* (registered on kit connections; bundled in the sqlite3 shell).
    migrate(sqlite_url)
    conn = sqlite3.connect(parse_url(sqlite_url).database or "", isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("INSERT INTO accounts (name) VALUES ('plain')")
        conn.execute("UPDATE accounts SET cash_balance = '10.5' WHERE name = 'plain'")
        with pytest.raises(sqlite3.IntegrityError, match="accounts_margin_non_negative"):
            conn.execute("INSERT INTO accounts (name, maintenance_margin) VALUES ('x', '-1')")
        with pytest.raises(sqlite3.OperationalError, match="no such function: decimal_sum"):
            conn.execute("SELECT realized_pnl FROM daily_strategy_pnl").fetchall()
    finally:
        conn.close()

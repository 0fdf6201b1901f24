"""Rollbacks that destroy data ask first: more than one migration, or a dropped table that holds
rows. On a terminal `tradestore rollback` asks (y/N); without one it refuses unless --yes. One
migration that drops nothing, or only empty tables, runs without a question (`make rollback`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradestore import Pool
from tradestore.errors import MigrationError
from tradestore.schema.migrate import (
    migrate,
    migration_status,
    migrations_source,
    rollback,
    rollback_plan,
)
from tradestore.schema.rollback_plan import RollbackPlan, dropped_table_names

BIN = Path(sys.executable).parent
# Every built-in migration, in apply order (the SQLite folder has the same ids as PostgreSQL's).
ALL_IDS = sorted(
    p.name.removesuffix(".sql")
    for p in migrations_source("sqlite").glob("[0-9]*.sql")
    if not p.name.endswith(".rollback.sql")
)


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("DROP TABLE trades;", ["trades"]),
        ("drop table if exists a, b cascade;", ["a", "b"]),
        ('DROP TABLE public."Trade History" RESTRICT', ['public."Trade History"']),
        ("DROP TABLE  public . trades ;\nDROP TABLE x", ["public . trades", "x"]),
        ("-- DROP TABLE in_a_comment\nDROP VIEW v;\n/* DROP TABLE t2; */", []),
        ("INSERT INTO notes (text) VALUES ('DROP TABLE quoted');", []),
        ("DROP INDEX trades_idx;\nDROP FUNCTION f();", []),
        ("-- header\n\nDROP TABLE my_cascade;", ["my_cascade"]),
    ],
)
def test_dropped_table_names(sql: str, names: list[str]) -> None:
    assert dropped_table_names(sql) == names


def applied(url: str) -> list[str]:
    return [row.id for row in migration_status(url) if row.applied]


def add_audit_row(url: str) -> None:
    with (
        Pool(url, min_size=0, max_size=1) as pool,
        pool.connection() as conn,
        conn.transaction(),
    ):
        conn.execute(
            "INSERT INTO audit_logs (action, entity_type, entity_id) "
            "VALUES ('create', 'account', '1')"
        )


def test_plan_names_the_migrations_and_the_tables_with_rows(db_url: str) -> None:
    migrate(db_url)
    one = rollback_plan(db_url)
    assert one.ids == ["0005_views"]
    assert one.steps[0].drops == ()  # views hold no rows of their own
    assert not one.needs_confirmation

    rollback(db_url, steps=2)
    assert not rollback_plan(db_url).needs_confirmation  # 0003 drops audit_logs, still empty
    add_audit_row(db_url)
    plan = rollback_plan(db_url)
    assert plan.ids == ["0003_audit"]
    assert [(t.name, t.rows) for t in plan.tables_with_rows] == [("audit_logs", 1)]
    assert plan.needs_confirmation
    assert "dropping audit_logs (1 row)" in plan.describe()

    many = rollback_plan(db_url, steps=99)
    assert many.ids == ["0003_audit", "0002_trading_entities", "0001_bot_run_records"]
    assert many.needs_confirmation
    assert {t.name for t in many.steps[1].drops} == {
        "positions",
        "trades",
        "orders",
        "portfolios",
        "accounts",
    }


def test_rollback_refused_by_confirm_changes_nothing(db_url: str) -> None:
    migrate(db_url)
    asked: list[RollbackPlan] = []

    def refuse(plan: RollbackPlan) -> bool:
        asked.append(plan)
        return False

    with pytest.raises(MigrationError, match="rollback not confirmed") as raised:
        rollback(db_url, steps=99, confirm=refuse)
    assert "0001_bot_run_records" in str(raised.value)
    assert "Nothing was rolled back" in str(raised.value)
    assert applied(db_url) == ALL_IDS
    assert [plan.ids for plan in asked] == [list(reversed(ALL_IDS))]

    # One step over no rows needs no confirmation: confirm is not even asked.
    assert rollback(db_url, confirm=refuse) == ["0005_views"]
    assert len(asked) == 1


def cli(
    url: str, *args: str, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "tradestore", "--database-url", url, "rollback", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_batch_rollback_of_several_migrations_needs_yes(db_url: str) -> None:
    migrate(db_url)
    refused = cli(db_url, "--steps", "99")
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert "refusing to roll back 5 migrations" in line
    assert "pass --yes" in line
    assert applied(db_url) == ALL_IDS  # nothing rolled back: trade history is still there

    done = cli(db_url, "--steps", "2", "--yes")
    assert done.returncode == 0, done.stderr
    assert applied(db_url) == ALL_IDS[:3]


def test_batch_rollback_of_one_migration_asks_only_when_it_drops_rows(db_url: str) -> None:
    migrate(db_url)
    plain = cli(db_url)  # 0005_views: drops views only
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split() == ["rolled", "back", "0005_views"]
    assert cli(db_url, "--yes").returncode == 0  # 0004_indexes

    add_audit_row(db_url)
    refused = cli(db_url)  # 0003_audit would drop audit_logs and its row
    assert refused.returncode == 2
    assert "dropping audit_logs (1 row)" in refused.stderr
    assert "pass --yes" in refused.stderr
    assert applied(db_url) == ALL_IDS[:3]

    done = cli(db_url, "--yes")
    assert done.returncode == 0, done.stderr
    assert applied(db_url) == ALL_IDS[:2]


@pytest.mark.parametrize(("answer", "rolled_back"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_terminal_rollback_asks(sqlite_url: str, answer: str, rolled_back: bool) -> None:
    migrate(sqlite_url)
    primary, secondary = os.openpty()
    try:
        os.write(primary, answer.encode())
        result = cli(sqlite_url, "--steps", "2", stdin=secondary)
    finally:
        os.close(secondary)
        os.close(primary)
    assert "About to roll back 2 migrations" in result.stdout
    assert "[y/N]" in result.stdout
    if rolled_back:
        assert result.returncode == 0, result.stderr
        assert applied(sqlite_url) == ALL_IDS[:3]
    else:
        assert result.returncode == 1
        assert "rollback cancelled: nothing was rolled back" in result.stdout
        assert applied(sqlite_url) == ALL_IDS

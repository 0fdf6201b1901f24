"""A migrations folder of a user's own: per dialect (like the built-in one) or flat; the same
meaning for `migrate(source=...)`, `new_migration(root=...)` and the CLI's `--migrations`."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_migrations import relation_names
from tradestore import parse_url
from tradestore.errors import MigrationError
from tradestore.schema.migrate import migrate, migration_status, new_migration, rollback
from tradestore.schema.migration_files import (
    migrations_folder,
    migrations_source,
    served_dialects,
)

# Portable DDL: one flat folder serves both dialects.
WATCH_SQL = "CREATE TABLE watch (symbol TEXT PRIMARY KEY, note TEXT);\n"
WATCH_ROLLBACK = "DROP TABLE watch;\n"


def write_migration(folder: Path, migration_id: str, sql: str, rollback_sql: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{migration_id}.sql").write_text(sql)
    (folder / f"{migration_id}.rollback.sql").write_text(rollback_sql)


@pytest.fixture
def per_dialect(tmp_path: Path) -> Path:
    """A user's folder laid out like the built-in one: postgresql/ and sqlite/."""
    root = tmp_path / "migrations"
    for dialect in ("postgresql", "sqlite"):
        write_migration(root / dialect, "0001_watch", WATCH_SQL, WATCH_ROLLBACK)
    return root


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    root = tmp_path / "flat"
    write_migration(root, "0001_watch", WATCH_SQL, WATCH_ROLLBACK)
    return root


def test_a_folder_per_dialect_is_read_for_the_urls_dialect(per_dialect: Path) -> None:
    assert migrations_folder(per_dialect, "sqlite") == per_dialect / "sqlite"
    assert migrations_folder(per_dialect, "postgresql") == per_dialect / "postgresql"
    assert served_dialects(per_dialect) == ("postgresql", "sqlite")


def test_a_flat_folder_serves_every_dialect(flat: Path) -> None:
    assert migrations_folder(flat, "sqlite") == flat
    assert migrations_folder(flat, "postgresql") == flat
    assert served_dialects(flat) == ("postgresql", "sqlite")


def test_none_is_the_built_in_folder() -> None:
    assert migrations_folder(None, "sqlite") == migrations_source("sqlite")
    assert served_dialects(None) == ("postgresql", "sqlite")


def test_a_folder_lacking_the_urls_dialect_says_so(per_dialect: Path) -> None:
    (per_dialect / "postgresql" / "0001_watch.sql").unlink()
    (per_dialect / "postgresql" / "0001_watch.rollback.sql").unlink()
    (per_dialect / "postgresql").rmdir()
    assert served_dialects(per_dialect) == ("sqlite",)
    with pytest.raises(MigrationError, match=r"has no postgresql/ folder \(only sqlite/\)"):
        migrations_folder(per_dialect, "postgresql")


def test_a_folder_with_both_layouts_is_refused(per_dialect: Path) -> None:
    write_migration(per_dialect, "0002_more", WATCH_SQL, WATCH_ROLLBACK)
    with pytest.raises(MigrationError, match="keep one layout"):
        migrations_folder(per_dialect, "sqlite")


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match=r"migrations folder .*nowhere does not exist"):
        migrations_folder(tmp_path / "nowhere", "sqlite")


@pytest.mark.parametrize("layout", ["per_dialect", "flat"])
def test_migrate_status_rollback_on_a_users_folder(
    db_url: str, layout: str, request: pytest.FixtureRequest
) -> None:
    # Before: `source` was read as one dialect's folder, so a folder per dialect (what the
    # CLI's --migrations and the built-in layout are) was "no migrations in migrations/".
    source: Path = request.getfixturevalue(layout)
    assert migrate(db_url, source=source) == ["0001_watch"]
    assert relation_names(db_url) == {"watch"}
    assert [(m.id, m.applied) for m in migration_status(db_url, source=source)] == [
        ("0001_watch", True)
    ]
    assert rollback(db_url, source=source) == ["0001_watch"]
    assert relation_names(db_url) == set()


def test_a_dialect_folder_still_works_as_source(db_url: str, per_dialect: Path) -> None:
    """What callers passed before (``source=migrations/sqlite``) keeps its meaning."""
    folder = per_dialect / parse_url(db_url).dialect
    assert migrate(db_url, source=folder) == ["0001_watch"]
    assert migrate(db_url, source=per_dialect) == []  # the same migrations, seen as applied


def test_a_users_folder_and_the_trading_schema_share_a_database(
    db_url: str, per_dialect: Path
) -> None:
    builtin = migrate(db_url)
    assert migrate(db_url, source=per_dialect) == ["0001_watch"]
    assert rollback(db_url, source=per_dialect) == ["0001_watch"]  # only its own
    assert [m.id for m in migration_status(db_url) if m.applied] == builtin


def test_new_migration_in_a_flat_folder(flat: Path, sqlite_url: str) -> None:
    created = new_migration("add notes", root=flat)
    assert [p.name for p in created] == ["0002_add_notes.sql", "0002_add_notes.rollback.sql"]
    text = created[0].read_text()
    assert "-- depends: 0001_watch" in text
    assert "twin" not in text  # one folder: no other dialect to keep in step with
    assert migrate(sqlite_url, source=flat) == ["0001_watch", "0002_add_notes"]


def test_new_migration_in_a_folder_with_one_dialect(tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    write_migration(root / "postgresql", "0001_watch", WATCH_SQL, WATCH_ROLLBACK)
    created = new_migration("add_notes", root=root)
    assert [p.relative_to(root).as_posix() for p in created] == [
        "postgresql/0002_add_notes.sql",
        "postgresql/0002_add_notes.rollback.sql",
    ]


def test_new_migration_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        new_migration("add_notes", root=tmp_path / "nowhere")

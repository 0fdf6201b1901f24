"""A migrator without the rights it needs is told so at once, with the real cause: a PostgreSQL
role without CREATE (or USAGE, or rights on yoyo's lock table), a read-only SQLite database.

Before, yoyo swallowed the "permission denied", waited out its whole lock timeout (60 s) and
then reported ``relation "yoyo_lock" does not exist`` or "database locked".
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tradestore import parse_url
from tradestore.errors import MigrationError
from tradestore.schema.migrate import migrate, rollback

FAST = 10.0
"""Generous bound for an error that must come at once, not after the 60 s lock timeout."""


def migrate_fails_fast(url: str) -> str:
    started = time.monotonic()
    with pytest.raises(MigrationError) as raised:
        migrate(url)
    took = time.monotonic() - started
    assert took < FAST, f"the error took {took:.1f}s: it waited for the lock"
    return str(raised.value)


# -- PostgreSQL: a role of the test's own ------------------------------------------------------

Grant = Callable[..., str]
"""grant(*statements) runs GRANTs as the owner, then returns the restricted role's URL."""


@pytest.fixture
def restricted_role(postgres_base_url: str, pg_schema: str) -> Iterator[tuple[str, Grant]]:
    """A login role with CONNECT on the database and nothing else; dropped at the end."""
    role = f"bot_{uuid.uuid4().hex[:10]}"
    base = parse_url(postgres_base_url)
    with psycopg.connect(postgres_base_url, autocommit=True) as owner:
        owner.execute(f'CREATE ROLE "{role}" LOGIN')
        owner.execute(f'GRANT CONNECT ON DATABASE "{base.database}" TO "{role}"')

    def grant(*statements: str) -> str:
        with psycopg.connect(postgres_base_url, autocommit=True) as owner:
            for statement in statements:
                owner.execute(statement.format(role=f'"{role}"', schema=f'"{pg_schema}"'))
        port = f":{base.port}" if base.port else ""
        return (
            f"postgresql://{role}@{base.host or '127.0.0.1'}{port}/{base.database}"
            f"?schema={pg_schema}&application_name={pg_schema}"
        )

    yield role, grant
    with psycopg.connect(postgres_base_url, autocommit=True) as owner:
        owner.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
        )
        owner.execute(f'DROP OWNED BY "{role}"')
        owner.execute(f'DROP ROLE "{role}"')


@pytest.mark.postgres
def test_role_without_create_on_the_schema_is_told_at_once(
    restricted_role: tuple[str, Grant], pg_schema: str
) -> None:
    role, grant = restricted_role
    url = grant("GRANT USAGE ON SCHEMA {schema} TO {role}")
    message = migrate_fails_fast(url)
    assert f"permission denied for schema {pg_schema}" in message
    assert f"role {role}" in message
    assert f"GRANT CREATE ON SCHEMA {pg_schema} TO {role}" in message
    assert "yoyo_lock" in message  # says what it would have created
    with pytest.raises(MigrationError, match="permission denied for schema"):
        rollback(url)  # the same check guards a rollback


@pytest.mark.postgres
def test_role_without_usage_on_the_schema_is_told_at_once(
    restricted_role: tuple[str, Grant], pg_schema: str
) -> None:
    role, grant = restricted_role
    message = migrate_fails_fast(grant())
    assert "no schema to migrate into" in message
    assert pg_schema in message  # the search_path it was given
    assert f"GRANT USAGE, CREATE ON SCHEMA <name> TO {role}" in message


@pytest.mark.postgres
def test_role_without_rights_on_the_lock_table_is_told_at_once(
    restricted_role: tuple[str, Grant], pg_url: str, pg_schema: str
) -> None:
    migrate(pg_url)  # as the owner
    role, grant = restricted_role
    url = grant(
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
    )
    message = migrate_fails_fast(url)
    assert f"permission denied for table {pg_schema}.yoyo_lock" in message
    assert f"GRANT INSERT, DELETE ON {pg_schema}.yoyo_lock TO {role}" in message


@pytest.mark.postgres
def test_a_bot_role_with_dml_only_still_starts_on_a_migrated_schema(
    restricted_role: tuple[str, Grant], pg_url: str
) -> None:
    """The common production split: the owner migrates, bots run as a role without CREATE.
    Their start-up `migrate()` finds nothing to do and must not be refused."""
    migrate(pg_url)
    _, grant = restricted_role
    url = grant(
        "GRANT USAGE ON SCHEMA {schema} TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
    )
    assert migrate(url) == []


@pytest.mark.postgres
def test_role_with_create_migrates(restricted_role: tuple[str, Grant]) -> None:
    _, grant = restricted_role
    url = grant("GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
    assert len(migrate(url)) == 5


# -- SQLite: a read-only database --------------------------------------------------------------


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], str]]]:
    """A folder and a function making it (and what is in it) read-only, which returns the
    reason the kit should give. Root writes through permission bits, so for root the folder
    is a tmpfs of its own remounted read-only (skipped where mounting is not allowed)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    root = os.geteuid() == 0
    if root:
        done = _run("mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(folder))
        if done.returncode != 0:
            pytest.skip(f"root ignores chmod and a tmpfs cannot be mounted: {done.stderr.strip()}")

    def make_read_only() -> str:
        if root:
            done = _run("mount", "-o", "remount,ro", str(folder))
            assert done.returncode == 0, done.stderr
            return "read-only filesystem"
        for path in [folder, *folder.iterdir()]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        return "no write permission"

    yield folder, make_read_only
    if root:
        if _run("umount", str(folder)).returncode != 0:
            _run("umount", "-l", str(folder))
    else:
        for path in [folder, *folder.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_read_only_sqlite_database_is_told_at_once(
    read_only_folder: tuple[Path, Callable[[], str]],
) -> None:
    folder, make_read_only = read_only_folder
    behind = f"sqlite:///{folder / 'behind.db'}"
    migrate(behind)
    rollback(behind, steps=2)  # two migrations pending
    (folder / "empty.db").touch()
    reason = make_read_only()

    message = migrate_fails_fast(behind)
    assert f"database file {folder / 'behind.db'} is not writable" in message
    assert reason in message

    message = migrate_fails_fast(f"sqlite:///{folder / 'empty.db'}")
    assert f"database file {folder / 'empty.db'} is not writable" in message

    message = migrate_fails_fast(f"sqlite:///{folder / 'new.db'}")
    assert f"folder of the database {folder} is not writable" in message
    assert reason in message

"""Backups on real SQLite files and a real PostgreSQL with the real pg_dump / pg_restore."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from deadlines import join_all
from tradestore import Pool, migrate
from tradestore.db.backends.sqlite_types import install_functions
from tradestore.errors import BackupError
from tradestore.schema.backup import (
    backup_name,
    backup_time,
    create_backup,
    prune_backups,
    restore_backup,
)

CI = os.environ.get("CI") == "true" or os.environ.get("TRADESTORE_REQUIRE_POSTGRES") == "1"
PG_DUMP = shutil.which("pg_dump")
PG_RESTORE = shutil.which("pg_restore")
needs_pg_tools = pytest.mark.skipif(
    (PG_DUMP is None or PG_RESTORE is None) and not CI,
    reason="pg_dump/pg_restore not installed (apt install postgresql-client); required in CI",
)


def _make_ticks(pool: Pool) -> None:
    with pool.connection() as conn:
        conn.execute("CREATE TABLE ticks (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL)")


def _insert_pairs(pool: Pool, first: int, count: int) -> None:
    """`count` pairs of rows, each pair in its own transaction (a torn copy shows an odd count)."""
    for pair in range(first, first + count):
        with pool.transaction() as conn:
            conn.execute("INSERT INTO ticks (pair) VALUES (?)", (pair,))
            conn.execute("INSERT INTO ticks (pair) VALUES (?)", (pair,))


def _open_backup(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    install_functions(conn)
    return conn


def _count(path: Path) -> int:
    conn = _open_backup(path)
    try:
        count: int = conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0]
    finally:
        conn.close()
    return count


# -- SQLite ------------------------------------------------------------------------------


def test_sqlite_backup_holds_rows_written_before_it(sqlite_url: str, tmp_path: Path) -> None:
    with Pool(sqlite_url) as pool:
        _make_ticks(pool)
        _insert_pairs(pool, 0, 50)
        path = create_backup(pool, directory=tmp_path / "backups")
        _insert_pairs(pool, 50, 5)  # after the backup: must not be in it
    assert path.parent == tmp_path / "backups"
    assert backup_time(path) is not None
    assert path.name.startswith("tradestore-sqlite-")
    assert path.suffix == ".db"
    assert _count(path) == 100
    conn = _open_backup(path)
    try:
        # A self-contained file: not left in WAL mode (no -wal sidecar needed to read it).
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert not list(path.parent.glob("*.partial"))


def test_sqlite_backup_of_the_migrated_schema_is_complete(sqlite_url: str, tmp_path: Path) -> None:
    migrate(sqlite_url)
    path = create_backup(sqlite_url, tmp_path / "explicit.db")
    assert path == tmp_path / "explicit.db"
    conn = _open_backup(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert {"trade_history", "equity_curve", "orders", "trades", "audit_logs"} <= tables


def test_sqlite_backup_while_a_writer_inserts_is_consistent(
    sqlite_url: str, tmp_path: Path
) -> None:
    with Pool(sqlite_url, max_size=4) as pool:
        _make_ticks(pool)
        _insert_pairs(pool, 0, 20)
        stop = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            pair = 1000
            try:
                while not stop.is_set():
                    _insert_pairs(pool, pair, 1)
                    pair += 1
            except BaseException as exc:  # noqa: BLE001  (reported by the test)
                errors.append(exc)

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        try:
            paths = [create_backup(pool, tmp_path / f"during-{i}.db") for i in range(5)]
        finally:
            stop.set()
            join_all([thread])
        with pool.connection() as conn:
            final = conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0]
    assert not errors
    counts = []
    for path in paths:
        copy = _open_backup(path)
        try:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            count = copy.execute("SELECT COUNT(*) FROM ticks").fetchone()[0]
            pairs = copy.execute(
                "SELECT COUNT(*) FROM (SELECT pair FROM ticks GROUP BY pair HAVING COUNT(*) <> 2)"
            ).fetchone()[0]
        finally:
            copy.close()
        assert pairs == 0, f"{path.name}: a transaction was copied half-way"
        assert count % 2 == 0
        counts.append(count)
    assert counts == sorted(counts)
    assert 40 <= counts[0] <= final


def test_memory_database_can_be_backed_up(tmp_path: Path) -> None:
    with Pool("sqlite:///:memory:", max_size=2) as pool:
        _make_ticks(pool)
        _insert_pairs(pool, 0, 3)
        path = create_backup(pool, directory=tmp_path)
    assert _count(path) == 6


def test_restore_replaces_the_contents_for_every_connection(
    sqlite_url: str, tmp_path: Path
) -> None:
    with Pool(sqlite_url, min_size=2, max_size=2) as pool:
        _make_ticks(pool)
        _insert_pairs(pool, 0, 10)
        path = create_backup(pool, directory=tmp_path)
        _insert_pairs(pool, 10, 7)
        with pool.connection() as conn:
            conn.execute("DELETE FROM ticks WHERE pair < 3")
        restore_backup(pool, path)
        with pool.connection() as one, pool.connection() as two:
            counts = [c.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] for c in (one, two)]
            # The restored database is writable and keeps the kit's settings.
            one.execute("INSERT INTO ticks (pair) VALUES (99)")
    assert counts == [20, 20]


def test_restore_into_a_fresh_url(tmp_path: Path) -> None:
    with Pool(f"sqlite:///{tmp_path}/a.db") as pool:
        _make_ticks(pool)
        _insert_pairs(pool, 0, 4)
        path = create_backup(pool, directory=tmp_path)
    restore_backup(f"sqlite:///{tmp_path}/b.db", path)
    assert _count(tmp_path / "b.db") == 8


def test_restore_refuses_a_file_that_is_not_a_database(sqlite_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match=r"junk\.db"):
        restore_backup(sqlite_url, junk)
    with pytest.raises(BackupError, match="does not exist"):
        restore_backup(sqlite_url, tmp_path / "missing.db")


def test_unwritable_target_is_a_backup_error(sqlite_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")  # a file where the backup folder should be
    with pytest.raises(BackupError, match="cannot write backup"):
        create_backup(sqlite_url, directory=blocker / "sub")


def test_backup_directory_defaults_to_the_setting(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_BACKUP_DIRECTORY", str(tmp_path / "from-env"))
    path = create_backup(sqlite_url)
    assert path.parent == tmp_path / "from-env"


# -- pruning -----------------------------------------------------------------------------


def test_prune_deletes_only_old_files_with_our_names(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    old = [
        tmp_path / backup_name("sqlite", now - dt.timedelta(days=31)),
        tmp_path / backup_name("postgresql", now - dt.timedelta(days=400)),
    ]
    keep = [
        tmp_path / backup_name("sqlite", now - dt.timedelta(days=29)),
        tmp_path / backup_name("postgresql", now),
        tmp_path / "notes.txt",
        tmp_path / "tradestore-sqlite-yesterday.db",
        tmp_path / "tradestore-mysql-20200101T000000.000000Z.db",
        tmp_path / (backup_name("sqlite", now - dt.timedelta(days=99)) + ".partial"),
    ]
    for path in old + keep:
        path.write_text("x")
    # A folder that happens to have a backup's name is not a backup file.
    (tmp_path / backup_name("sqlite", now - dt.timedelta(days=50))).mkdir()
    deleted = prune_backups(tmp_path, 30, now=now)
    assert sorted(deleted) == sorted(old)
    assert all(not p.exists() for p in old)
    assert all(p.exists() for p in keep)
    assert prune_backups(tmp_path, 30, now=now) == []


def test_prune_judges_age_by_the_name_not_the_mtime(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    fresh_copy_of_old = tmp_path / backup_name("sqlite", now - dt.timedelta(days=10))
    fresh_copy_of_old.write_text("x")  # mtime is now
    assert prune_backups(tmp_path, 7) == [fresh_copy_of_old]


def test_prune_of_a_missing_folder_and_bad_retention(tmp_path: Path) -> None:
    assert prune_backups(tmp_path / "none", 30) == []
    with pytest.raises(BackupError, match="at least 1"):
        prune_backups(tmp_path, 0)


def test_backup_names_sort_by_time_and_parse_back() -> None:
    first = dt.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC)
    later = first + dt.timedelta(microseconds=1)
    assert backup_name("sqlite", first) < backup_name("sqlite", later)
    assert backup_time(Path(backup_name("postgresql", first))) == first
    assert backup_name("postgresql", first).endswith(".dump")


# -- PostgreSQL --------------------------------------------------------------------------


@needs_pg_tools
def test_pg_dump_of_a_test_schema_lists_our_tables(pg_url: str, tmp_path: Path) -> None:
    migrate(pg_url)
    path = create_backup(pg_url, directory=tmp_path)
    assert path.name.startswith("tradestore-postgresql-")
    assert path.suffix == ".dump"
    assert path.read_bytes()[:5] == b"PGDMP"  # custom format
    listing = subprocess.run(
        [str(PG_RESTORE), "-l", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    schema = dict(p.split("=", 1) for p in pg_url.split("?", 1)[1].split("&"))["schema"]
    for table in ("trade_history", "equity_curve", "orders", "trades", "audit_logs"):
        assert f"TABLE {schema} {table} " in listing
    # -n keeps the dump to this schema: other tests' schemas are not in it.
    tables = [line for line in listing.splitlines() if " TABLE " in line]
    assert tables
    assert all(f" {schema} " in line for line in tables)


@needs_pg_tools
def test_pg_dump_failure_is_a_backup_error_without_the_password(
    postgres_base_url: str, tmp_path: Path
) -> None:
    host = postgres_base_url.split("@", 1)[1].split("/", 1)[0]
    url = f"postgresql://postgres:s3cret@{host}/tradestore_no_such_db"
    with pytest.raises(BackupError) as info:
        create_backup(url, directory=tmp_path)
    message = str(info.value)
    assert "s3cret" not in message
    assert "tradestore_no_such_db" in message
    assert list(tmp_path.iterdir()) == []


def test_missing_pg_dump_is_a_clear_backup_error(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Pool(pg_url, min_size=1, max_size=1) as pool:
        empty = tmp_path / "empty-bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        with pytest.raises(BackupError, match="pg_dump not found on PATH"):
            create_backup(pool, directory=tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_password_goes_in_pgpassword_not_argv(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in pg_dump records what it was given; the real one is exercised above.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "record.txt"
    fake = bindir / "pg_dump"
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {record}\n'
        f'printf "PGPASSWORD=%s\\n" "$PGPASSWORD" >> {record}\n'
        'for a in "$@"; do case "$a" in --file=*) printf PGDMP > "${a#--file=}";; esac; done\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    url = pg_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    with Pool(url, min_size=1, max_size=1) as pool:
        monkeypatch.setenv("PATH", str(bindir))
        path = create_backup(pool, directory=tmp_path / "out")
    lines = record.read_text().splitlines()
    assert "PGPASSWORD=s3cret" in lines
    argv = [line for line in lines if not line.startswith("PGPASSWORD=")]
    assert not any("s3cret" in arg for arg in argv)
    assert "--format=custom" in argv
    assert any(arg.startswith('--schema="t_') for arg in argv)
    assert path.read_bytes() == b"PGDMP"


@needs_pg_tools
def test_pg_restore_brings_back_the_dumped_rows(pg_url: str, tmp_path: Path) -> None:
    migrate(pg_url)
    with Pool(with_password(pg_url), min_size=1, max_size=2) as pool:
        with pool.connection() as conn:
            for i in range(7):
                conn.execute(_PG_ITERATION, (i,))
        path = create_backup(pool, directory=tmp_path)
        with pool.connection() as conn:
            conn.execute("DELETE FROM iteration_log WHERE iteration_number < 5")
            conn.execute("DROP TABLE audit_report_log")
        restore_backup(pool, path)
        with pool.connection() as conn:
            count = conn.execute("SELECT COUNT(*) FROM iteration_log").fetchone()[0]
            numbers = conn.execute("SELECT MAX(iteration_number) FROM iteration_log").fetchone()
            conn.execute("SELECT COUNT(*) FROM audit_report_log")  # recreated
            # Sequences come back too: the next insert does not collide with a restored id.
            conn.execute(_PG_ITERATION, (100,))
    assert count == 7
    assert numbers == (6,)


@needs_pg_tools
def test_pg_restore_keeps_newer_objects_and_refuses_a_foreign_schema(
    pg_url: str, tmp_path: Path
) -> None:
    migrate(pg_url)
    with Pool(pg_url, min_size=1, max_size=1) as pool:
        path = create_backup(pool, directory=tmp_path)
        with pool.connection() as conn:
            conn.execute("CREATE TABLE made_after_the_dump (id integer)")
        restore_backup(pool, path)
        with pool.connection() as conn:
            assert conn.execute("SELECT COUNT(*) FROM made_after_the_dump").fetchone() == (0,)
    # The same dump aimed at another (empty) schema would restore nothing: refused instead.
    other_url = pg_url.replace("schema=t_", "schema=nobody_")
    with pytest.raises(BackupError, match="holds no table of schema 'nobody_"):
        restore_backup(other_url, path)


@needs_pg_tools
def test_pg_restore_of_a_broken_file_is_a_backup_error(pg_url: str, tmp_path: Path) -> None:
    dump = tmp_path / backup_name("postgresql")
    dump.write_bytes(b"PGDMP but not really")
    with pytest.raises(BackupError, match="pg_restore failed") as info:
        restore_backup(with_password(pg_url), dump)
    assert "s3cret" not in str(info.value)


_PG_ITERATION = (
    "INSERT INTO iteration_log (iteration_number, started_at, symbols_processed, "
    "signals_generated, signals_validated, signals_approved, signals_executed, errors) "
    "VALUES (%s, now(), '[]', 0, 0, 0, 0, '[]')"
)


def with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")

"""Backups: create, prune and restore, for SQLite (online backup API) and PostgreSQL (pg_dump).

SQLite is copied with the sqlite3 online backup API in one step: the copy is one consistent
snapshot taken under a read transaction, so writers on other connections keep going (WAL) and
the file never contains half a transaction. PostgreSQL is dumped with ``pg_dump -Fc`` (custom
format) and restored with ``pg_restore``; the password travels in the ``PGPASSWORD``
environment variable, never on a command line other users could read in ``ps``.

Every backup is written under a temporary name and renamed when complete, so a file named like
a backup is a whole backup. File names are ``tradestore-<dialect>-<UTC timestamp>.<db|dump>``;
`prune_backups` deletes only files with such a name, judged by the timestamp in the name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tradestore.db.backends.sqlite_types import install_functions
from tradestore.db.pool import Pool
from tradestore.db.url import DatabaseURL, redact
from tradestore.errors import BackupError

EXTENSIONS = {"sqlite": "db", "postgresql": "dump"}
_STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
BACKUP_NAME = re.compile(
    r"^tradestore-(?P<dialect>sqlite|postgresql)-"
    r"(?P<stamp>\d{8}T\d{6}\.\d{6}Z)\.(?P<ext>db|dump)$"
)
_PARTIAL = ".partial"


def backup_name(dialect: str, when: dt.datetime | None = None) -> str:
    """The default file name for a backup of `dialect` taken at `when` (default: now, UTC)."""
    moment = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"tradestore-{dialect}-{moment.strftime(_STAMP_FORMAT)}.{EXTENSIONS[dialect]}"


def backup_time(path: Path) -> dt.datetime | None:
    """When the backup named `path` was taken, or None if the name is not one of ours."""
    match = BACKUP_NAME.match(path.name)
    if match is None:
        return None
    return dt.datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(tzinfo=dt.UTC)


@contextmanager
def _pool_of(target: Pool | str | DatabaseURL) -> Iterator[Pool]:
    """The caller's pool, or a one-connection pool opened (and closed) for this call."""
    if isinstance(target, Pool):
        yield target
        return
    with Pool(target, min_size=0, max_size=1) as pool:
        yield pool


def _default_directory() -> Path:
    from tradestore.db.settings import load_settings  # noqa: PLC0415  (only when not given)

    return load_settings().db_backup_directory


def create_backup(
    pool: Pool | str | DatabaseURL,
    path: str | Path | None = None,
    *,
    directory: str | Path | None = None,
) -> Path:
    """Back up the database of `pool` (or a URL) to `path`; returns the file written.

    Without `path` the file is ``tradestore-<dialect>-<UTC timestamp>.<db|dump>`` under
    `directory` (default DB_BACKUP_DIRECTORY), created when missing. Raises `BackupError`
    naming the database (redacted) and the file when the copy fails.
    """
    with _pool_of(pool) as source:
        target = backup_target(source.dialect, path, directory)
        if source.dialect == "sqlite":
            with source.connection() as conn:
                return sqlite_backup(conn.raw, source.url, target)
        return _written(target, lambda partial: _pg_dump(source.url, partial))


def backup_target(dialect: str, path: str | Path | None, directory: str | Path | None) -> Path:
    """The file a backup goes to: `path`, else a timestamped name in `directory` (default
    DB_BACKUP_DIRECTORY)."""
    if path is not None:
        return Path(path)
    folder = Path(directory) if directory is not None else _default_directory()
    return folder / backup_name(dialect)


def sqlite_backup(raw: sqlite3.Connection, url: DatabaseURL, target: Path) -> Path:
    """Back up the SQLite database of connection `raw` (of `url`) to `target`; returns it.

    Runs on the thread that owns `raw` (the async face calls it on its connection's worker).
    """
    return _written(target, lambda partial: _sqlite_copy(raw, url, partial))


def _written(target: Path, copy: Callable[[Path], None]) -> Path:
    """Write `target` by `copy`-ing into a temporary name, renamed once complete."""
    partial = target.with_name(target.name + _PARTIAL)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        copy(partial)
        partial.replace(target)
    except OSError as exc:
        _discard(partial)
        raise BackupError(f"cannot write backup {target}: {exc}") from exc
    except BaseException:
        _discard(partial)
        raise
    return target


def _discard(partial: Path) -> None:
    """Remove a half-written backup; failing to is not worth hiding the real error."""
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)


def _sqlite_copy(raw: sqlite3.Connection, url: DatabaseURL, partial: Path) -> None:
    try:
        dest = sqlite3.connect(partial, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot create backup file {partial}: {exc}") from exc
    try:
        # pages=-1: the whole database in one step, i.e. one read snapshot (consistent even
        # while other connections write); a multi-step copy would restart on every write.
        raw.backup(dest, pages=-1)
        # The copy inherits WAL mode; a backup is a single self-contained file.
        dest.execute("PRAGMA journal_mode = DELETE")
        install_functions(dest)  # views and checks may call the decimal functions
        verdict = dest.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupError(
            f"backup of {url.redacted} to {partial.with_suffix('')} failed: {exc}"
        ) from exc
    finally:
        dest.close()
    if verdict != "ok":
        raise BackupError(f"backup of {url.redacted} failed its quick_check: {verdict}")


def _libpq_env(url: DatabaseURL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = url.password
    else:
        env.pop("PGPASSWORD", None)
    return env


def _without_password(url: DatabaseURL) -> str:
    """The libpq URI for the client tools, password left out (it goes in PGPASSWORD)."""
    return dataclasses.replace(url, password=None).conninfo()


def _schema_pattern(schema: str) -> str:
    # Double quotes make pg_dump match the name literally (case, dots, * and ? included).
    return '"' + schema.replace('"', '""') + '"'


def _run_client(tool: str, args: list[str], url: DatabaseURL, what: str) -> str:
    """Run a PostgreSQL client tool, return its stdout; a missing tool or a failure becomes a
    BackupError."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} not found on PATH: install the PostgreSQL client tools of the server's "
            f"major version (e.g. apt install postgresql-client) to {what} {url.redacted}"
        )
    try:
        result = subprocess.run(
            [executable, *args],
            env=_libpq_env(url),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise BackupError(f"could not run {executable}: {exc}") from None
    if result.returncode != 0:
        detail = redact(result.stderr.strip(), url.password) or "no message"
        raise BackupError(
            f"{tool} failed with exit code {result.returncode} to {what} {url.redacted}: {detail}"
        )
    return result.stdout


def _pg_dump(url: DatabaseURL, partial: Path) -> None:
    args = ["--format=custom", "--no-password", f"--file={partial}"]
    if url.schema:
        args.append(f"--schema={_schema_pattern(url.schema)}")
    args.append(f"--dbname={_without_password(url)}")
    _run_client("pg_dump", args, url, "back up")


def prune_backups(
    directory: str | Path,
    retention_days: int,
    *,
    now: dt.datetime | None = None,
) -> list[Path]:
    """Delete backups in `directory` older than `retention_days`; returns the deleted files.

    Only files named like ours (``tradestore-<dialect>-<stamp>.<db|dump>``) are candidates,
    and their age is the timestamp in the name (copying a file does not make it young).
    Anything else in the folder is left alone.
    """
    if retention_days < 1:
        raise BackupError(f"retention_days must be at least 1, got {retention_days}")
    folder = Path(directory)
    if not folder.is_dir():
        return []
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=retention_days)
    deleted: list[Path] = []
    for path in sorted(folder.iterdir()):
        taken = backup_time(path)
        if taken is None or taken >= cutoff or not path.is_file():
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # pruned concurrently: the goal is met
        except OSError as exc:
            raise BackupError(f"cannot delete old backup {path}: {exc}") from exc
        deleted.append(path)
    return deleted


def restore_backup(pool_or_url: Pool | str | DatabaseURL, path: str | Path) -> None:
    """Replace the database's contents with the backup at `path`.

    SQLite: the online backup API in reverse, inside the database's own locking; other
    connections of the pool see the restored data on their next statement. PostgreSQL:
    ``pg_restore --clean --if-exists --single-transaction`` of a dump made by `create_backup`:
    the dumped objects are dropped and recreated in one transaction (all or nothing). With a
    ``?schema=`` URL only that schema's objects are restored (the dump must come from it);
    objects created after the dump are left alone.
    """
    source_path = existing_backup(path)
    with _pool_of(pool_or_url) as pool:
        if pool.dialect == "sqlite":
            with pool.connection() as conn:
                sqlite_restore(conn.raw, pool.url, source_path)
        else:
            _pg_restore(pool.url, source_path)


def existing_backup(path: str | Path) -> Path:
    """`path` as a `Path`, or `BackupError` when no such file exists."""
    source_path = Path(path)
    if not source_path.is_file():
        raise BackupError(f"backup file {source_path} does not exist")
    return source_path


def _pg_restore(url: DatabaseURL, source_path: Path) -> None:
    args = [
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={_without_password(url)}",
    ]
    if url.schema:
        # Only the schema's objects, not the schema itself: dropping it would fail (and undo
        # the restore) as soon as it holds anything the dump does not know.
        args.append(f"--schema={url.schema}")
        listing = _run_client(
            "pg_restore", ["--list", f"--schema={url.schema}", str(source_path)], url, "read"
        )
        if not any(" TABLE " in line for line in listing.splitlines()):
            raise BackupError(
                f"{source_path} holds no table of schema {url.schema!r}: it was dumped from "
                f"another schema or database than {url.redacted}"
            )
    args.append(str(source_path))
    _run_client("pg_restore", args, url, f"restore {source_path} into")


def sqlite_restore(raw: sqlite3.Connection, url: DatabaseURL, source_path: Path) -> None:
    """Replace the content of the SQLite database of connection `raw` (of `url`) with the
    backup at `source_path`; runs on the thread that owns `raw`."""
    try:
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open backup file {source_path}: {exc}") from exc
    try:
        verdict = source.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"backup file {source_path} is damaged: {verdict}")
        source.backup(raw, pages=-1)
    except sqlite3.Error as exc:
        raise BackupError(f"restore of {source_path} into {url.redacted} failed: {exc}") from exc
    finally:
        with contextlib.suppress(sqlite3.Error):
            source.close()


__all__ = [
    "BACKUP_NAME",
    "backup_name",
    "backup_target",
    "backup_time",
    "create_backup",
    "existing_backup",
    "prune_backups",
    "restore_backup",
    "sqlite_backup",
    "sqlite_restore",
]

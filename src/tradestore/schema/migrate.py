"""Apply, roll back and inspect the schema migrations, through yoyo.

The migrations are plain SQL files reviewed by a DBA, one folder per dialect
(``migrations/postgresql``, ``migrations/sqlite``), each ``NNNN_name.sql`` paired with
``NNNN_name.rollback.sql``. They are yoyo's own format, so ``yoyo apply`` runs the same
folders; this module is the in-process face bots call at start-up.

`migrate`, `rollback`, `rollback_plan` and `migration_status` take ``source``: a migrations
folder of the caller's own (a user's tables), laid out like the built-in one or flat
(`tradestore.schema.migration_files`); None means the built-in trading schema's.

How yoyo is driven:

- The URL handed to yoyo is `DatabaseURL.yoyo_url()`: ``postgresql+psycopg://`` selects
  yoyo's ``PostgresqlPsycopgBackend`` (psycopg 3; plain ``postgresql://`` would import
  psycopg2), and ``?schema=NAME`` becomes yoyo's ``SET search_path``.
- Every apply/rollback runs under yoyo's lock (a row in ``yoyo_lock``), and the pending list
  is computed *inside* it: two processes starting at once apply each migration exactly once,
  the second one waits, then finds nothing left to do. A lock whose holder died (SIGKILL, a
  crash) is taken over at once, with a warning (`tradestore.schema.migration_lock` says how a dead
  holder is told from a live one); `break_lock` is for what that cannot see.
- Before the lock, `tradestore.schema.migration_access` checks that this role or user may write it:
  yoyo would otherwise swallow a "permission denied" and wait out its lock timeout.
- A rollback computes its plan under the lock (`tradestore.schema.rollback_plan`): which migrations,
  and which non-empty tables they drop; `confirm` lets a caller (the CLI) refuse it.
- Each migration runs in its own transaction (PostgreSQL and SQLite both have transactional
  DDL), so a failed migration leaves the database as it was before that migration.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradestore.db.settings import load_settings
from tradestore.db.url import DatabaseURL, parse_url, redact
from tradestore.errors import MigrationError
from tradestore.schema.migration_access import check_postgres_access, check_sqlite_access
from tradestore.schema.migration_files import (
    migrations_folder,
    migrations_source,
    new_migration,
)
from tradestore.schema.migration_lock import BrokenLock, break_migration_lock, migration_lock
from tradestore.schema.rollback_plan import RollbackPlan, plan_rollback

DEFAULT_LOCK_TIMEOUT = 60.0
# yoyo keeps one process-wide registry of migrations by id (used to resolve `depends`),
# and both dialect folders use the same ids: read and load one folder at a time.
_READ_LOCK = threading.Lock()
# sqlite3's registries as they were when the first of the SQLite migrations running at once
# began, and how many run (see `_sqlite3_left_as_found`).
_SQLITE3_LOCK = threading.Lock()
_sqlite3_saved: tuple[dict[Any, Any], dict[str, Any]] | None = None
_sqlite3_runs = 0


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """One migration of the folder and whether this database has it."""

    id: str
    applied: bool
    applied_at: dt.datetime | None
    path: Path


def _errors() -> tuple[type[BaseException], ...]:
    """What yoyo and the drivers raise. Imported here, not at module level: `import
    tradestore` stays free of yoyo, and of psycopg for SQLite-only bots."""
    from yoyo import exceptions as yoyo_exceptions  # noqa: PLC0415
    from yoyo.connections import BadConnectionURI  # noqa: PLC0415

    errors: tuple[type[BaseException], ...] = (
        sqlite3.Error,
        yoyo_exceptions.BadMigration,
        yoyo_exceptions.MigrationConflict,
        yoyo_exceptions.LockTimeout,
        BadConnectionURI,
        OSError,
    )
    if "psycopg" in sys.modules:  # only a PostgreSQL run has imported it
        errors += (sys.modules["psycopg"].Error,)
    return errors


def _resolve(url: str | DatabaseURL | None) -> DatabaseURL:
    db = parse_url(url) if url is not None else load_settings().url
    if db.is_memory:
        raise MigrationError(
            "cannot migrate sqlite:///:memory:: an in-memory database lives only as long as "
            "its connection; migrate a database file (sqlite:///path/to/file.db)"
        )
    return db


def _read(db: DatabaseURL, source: str | Path | None) -> Any:
    folder = migrations_folder(source, db.dialect)
    from yoyo import read_migrations  # noqa: PLC0415

    with _READ_LOCK:
        try:
            migrations = read_migrations(str(folder))
            for migration in migrations:
                migration.load()  # resolves `-- depends:` against this folder, now
        except _errors() as exc:
            raise MigrationError(f"cannot read migrations in {folder}: {exc}") from None
    if not len(migrations):
        raise MigrationError(f"no migrations in {folder}")
    return migrations


@contextmanager
def _sqlite3_left_as_found() -> Iterator[None]:
    """Leave sqlite3's process-wide adapters and converters as they were before yoyo ran.

    yoyo's SQLite backend registers its own datetime adapter and ``timestamp`` converter for
    as long as it runs, then "restores" them by rebinding the names ``sqlite3.adapters`` and
    ``sqlite3.converters`` to copies: the C module never reads those names, so its
    registrations would stay in force for every sqlite3 connection of the process (the host's
    and other libraries' included). Here the real registries get their contents back, and the
    names their registries, once the last of the migrations running at once ends.
    """
    global _sqlite3_saved, _sqlite3_runs  # noqa: PLW0603  (one process-wide registry)
    import _sqlite3  # noqa: PLC0415  (the registries themselves, whatever names point at them)

    with _SQLITE3_LOCK:
        if _sqlite3_runs == 0:
            _sqlite3_saved = (dict(_sqlite3.adapters), dict(_sqlite3.converters))
        _sqlite3_runs += 1
    try:
        yield
    finally:
        with _SQLITE3_LOCK:
            _sqlite3_runs -= 1
            if _sqlite3_runs == 0 and _sqlite3_saved is not None:
                adapters, converters = _sqlite3_saved
                _sqlite3.adapters.clear()
                _sqlite3.adapters.update(adapters)
                _sqlite3.converters.clear()
                _sqlite3.converters.update(converters)
                sqlite3.adapters = _sqlite3.adapters
                sqlite3.converters = _sqlite3.converters
                _sqlite3_saved = None


@contextmanager
def _backend(db: DatabaseURL, *, writing: bool = False) -> Iterator[Any]:
    """A yoyo backend for `db`, closed afterwards; connection errors become MigrationError.

    `writing`: first check that this role or user may take the lock and create yoyo's tables
    (`tradestore.schema.migration_access`), so a missing privilege is reported at once, as itself.
    """
    if db.dialect == "sqlite":
        folder = Path(db.database or "").parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MigrationError(f"cannot create the folder of {db.redacted}: {exc}") from None
        if writing:
            check_sqlite_access(db)
    from yoyo import get_backend  # noqa: PLC0415

    with contextlib.ExitStack() as stack:
        if db.dialect == "sqlite":
            stack.enter_context(_sqlite3_left_as_found())
        try:
            backend = get_backend(db.yoyo_url())
        except _errors() as exc:
            # The driver's text may quote the connection string: redact, and do not chain it.
            raise MigrationError(
                f"cannot open {db.redacted} for migrations: {redact(str(exc), db.password)}"
            ) from None
        with backend:
            if writing and db.dialect == "postgresql":
                _checked(db, "check migration privileges on", check_postgres_access, backend, db)
            yield backend


def _applied_query(db: DatabaseURL, query: Callable[[Any], Any], migrations: Any) -> Any:
    """yoyo's `to_apply` / `to_rollback`: a driver error says it was reading the bookkeeping."""
    try:
        return query(migrations)
    except _errors() as exc:
        raise MigrationError(
            f"cannot read applied migrations on {db.redacted}: {redact(str(exc), db.password)}"
        ) from exc


def _checked(db: DatabaseURL, doing: str, action: Callable[..., Any], *args: Any) -> Any:
    """Run `action`; a driver error becomes MigrationError saying what was being done."""
    try:
        return action(*args)
    except _errors() as exc:
        raise MigrationError(
            f"cannot {doing} {db.redacted}: {redact(str(exc).strip(), db.password)}"
        ) from None


def _failure(
    verb: str, migration: Any, db: DatabaseURL, exc: BaseException, done: list[str]
) -> str:
    past = {"apply": "applied", "rollback": "rolled back"}[verb]
    undone = (
        "its transaction was rolled back, so the database is as it was before it"
        if migration.use_transactions
        else "it is marked '-- transactional: false', so yoyo ran its rollback steps instead"
    )
    return (
        f"{verb} of migration {migration.id} ({migration.path}) failed on {db.redacted}: "
        f"{redact(str(exc).strip(), db.password) or type(exc).__name__}. "
        f"{undone.capitalize()}; {past} before it in this run: {', '.join(done) or 'none'}"
    )


def migrate(
    url: str | DatabaseURL | None = None,
    *,
    source: str | Path | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> list[str]:
    """Apply every pending migration; return the ids applied, in order (empty: up to date).

    `url` defaults to DATABASE_URL. `source` is a migrations folder of your own: one holding
    a folder per dialect (``postgresql/``, ``sqlite/``, like the built-in ``migrations/``),
    whose folder for the URL's dialect is read, or a flat one read for every dialect; the
    default is the built-in trading schema's.
    Safe to call from several processes at once: the losers wait for yoyo's lock (up to
    `lock_timeout` seconds), then find nothing left to apply.
    """
    db = _resolve(url)
    migrations = _read(db, source)
    applied: list[str] = []
    with _backend(db, writing=True) as backend, migration_lock(backend, db, lock_timeout):
        pending = _applied_query(db, backend.to_apply, migrations)
        for migration in pending:
            try:
                backend.apply_one(migration)
            except _errors() as exc:
                raise MigrationError(_failure("apply", migration, db, exc, applied)) from exc
            applied.append(migration.id)
        if applied:
            backend.run_post_apply(pending)
    return applied


def _to_roll_back(backend: Any, db: DatabaseURL, migrations: Any, steps: int) -> list[Any]:
    return list(_applied_query(db, backend.to_rollback, migrations))[:steps]


def _plan(backend: Any, db: DatabaseURL, candidates: list[Any]) -> RollbackPlan:
    plan: RollbackPlan = _checked(
        db, "read what a rollback drops on", plan_rollback, backend, db, candidates
    )
    return plan


def rollback_plan(
    url: str | DatabaseURL | None = None,
    steps: int = 1,
    *,
    source: str | Path | None = None,
) -> RollbackPlan:
    """What `rollback` with the same arguments would undo now, and the non-empty tables it
    would drop; changes nothing, takes no lock. See `tradestore.schema.rollback_plan`."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    db = _resolve(url)
    migrations = _read(db, source)
    with _backend(db) as backend:
        return _plan(backend, db, _to_roll_back(backend, db, migrations, steps))


def rollback(
    url: str | DatabaseURL | None = None,
    steps: int = 1,
    *,
    source: str | Path | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    confirm: Callable[[RollbackPlan], bool] | None = None,
) -> list[str]:
    """Roll back the last `steps` applied migrations, newest first; return their ids.

    `confirm`, when given, is called under the lock with the plan (`RollbackPlan`) whenever
    it needs confirmation (more than one migration, or a non-empty table dropped); unless it
    returns True, nothing is rolled back and `MigrationError` says what was refused. Without
    it the call itself is the decision, as a program's call should be.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    db = _resolve(url)
    migrations = _read(db, source)
    undone: list[str] = []
    with _backend(db, writing=True) as backend, migration_lock(backend, db, lock_timeout):
        candidates = _to_roll_back(backend, db, migrations, steps)
        if confirm is not None:
            plan = _plan(backend, db, candidates)
            if plan.needs_confirmation and not confirm(plan):
                raise MigrationError(
                    f"rollback not confirmed: it would {plan.describe()}. Nothing was rolled back"
                )
        for migration in candidates:
            try:
                backend.rollback_one(migration)
            except _errors() as exc:
                raise MigrationError(_failure("rollback", migration, db, exc, undone)) from exc
            undone.append(migration.id)
    return undone


def break_lock(url: str | DatabaseURL | None = None) -> BrokenLock:
    """Remove the migration lock whatever holds it (the last resort `migrate` points to when a
    holder it cannot prove dead keeps it); on PostgreSQL also end the session holding it.
    Refused on SQLite while a live process of this host holds the lock file."""
    db = _resolve(url)
    with _backend(db, writing=True) as backend:
        broken: BrokenLock = _checked(
            db, "break the migration lock on", break_migration_lock, backend, db
        )
    return broken


def _as_utc(value: object) -> dt.datetime | None:
    if value is None:
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def migration_status(
    url: str | DatabaseURL | None = None, *, source: str | Path | None = None
) -> list[MigrationStatus]:
    """Every migration of the folder, in apply order, with whether and when it was applied."""
    from yoyo.migrations import topological_sort  # noqa: PLC0415

    db = _resolve(url)
    migrations = _read(db, source)
    with _backend(db) as backend:
        try:
            backend.get_applied_migration_hashes()  # creates yoyo's tables on a fresh database
            cursor = backend.execute(
                backend.format_sql(
                    "SELECT {quoted.migration_id}, {quoted.applied_at_utc} "
                    "FROM {0.migration_table_quoted}"
                )
            )
            when = {row[0]: _as_utc(row[1]) for row in cursor.fetchall()}
        except _errors() as exc:
            raise MigrationError(
                f"cannot read migration status on {db.redacted}: {redact(str(exc), db.password)}"
            ) from exc
    return [
        MigrationStatus(id=m.id, applied=m.id in when, applied_at=when.get(m.id), path=Path(m.path))
        for m in topological_sort(migrations)
    ]


__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "BrokenLock",
    "MigrationStatus",
    "RollbackPlan",
    "break_lock",
    "migrate",
    "migration_status",
    "migrations_source",
    "new_migration",
    "rollback",
    "rollback_plan",
]

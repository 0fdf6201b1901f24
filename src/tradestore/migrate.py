"""Apply, roll back and inspect the schema migrations, through yoyo.

The migrations are plain SQL files reviewed by a DBA, one folder per dialect
(``migrations/postgresql``, ``migrations/sqlite``), each ``NNNN_name.sql`` paired with
``NNNN_name.rollback.sql``. They are yoyo's own format, so ``yoyo apply`` runs the same
folders; this module is the in-process face bots call at start-up.

How yoyo is driven:

- The URL handed to yoyo is `DatabaseURL.yoyo_url()`: ``postgresql+psycopg://`` selects
  yoyo's ``PostgresqlPsycopgBackend`` (psycopg 3; plain ``postgresql://`` would import
  psycopg2), and ``?schema=NAME`` becomes yoyo's ``SET search_path``.
- Every apply/rollback runs under yoyo's lock (a row in ``yoyo_lock``), and the pending list
  is computed *inside* it: two processes starting at once apply each migration exactly once,
  the second one waits, then finds nothing left to do.
- Each migration runs in its own transaction (PostgreSQL and SQLite both have transactional
  DDL), so a failed migration leaves the database as it was before that migration.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradestore.errors import MigrationError
from tradestore.settings import load_settings
from tradestore.url import DatabaseURL, Dialect, parse_url, redact

DEFAULT_LOCK_TIMEOUT = 60.0
_PACKAGE_DIR = Path(__file__).resolve().parent
_MIGRATION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
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


def migrations_source(dialect: Dialect) -> Path:
    """The folder of built-in migrations for `dialect`.

    An installed wheel ships them inside the package (``tradestore/migrations/<dialect>``,
    pyproject's force-include); a source checkout (editable install) has them at the top of
    the repository.
    """
    for root in (_PACKAGE_DIR / "migrations", _PACKAGE_DIR.parents[1] / "migrations"):
        folder = root / dialect
        if folder.is_dir():
            return folder
    raise MigrationError(
        f"no {dialect} migrations found: looked in {_PACKAGE_DIR / 'migrations' / dialect} "
        f"and {_PACKAGE_DIR.parents[1] / 'migrations' / dialect}"
    )


def _resolve(url: str | DatabaseURL | None) -> DatabaseURL:
    db = parse_url(url) if url is not None else load_settings().url
    if db.is_memory:
        raise MigrationError(
            "cannot migrate sqlite:///:memory:: an in-memory database lives only as long as "
            "its connection; migrate a database file (sqlite:///path/to/file.db)"
        )
    return db


def _read(db: DatabaseURL, source: str | Path | None) -> Any:
    folder = Path(source) if source is not None else migrations_source(db.dialect)
    if not folder.is_dir():
        raise MigrationError(f"migrations folder {folder} does not exist")
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
def _backend(db: DatabaseURL) -> Iterator[Any]:
    """A yoyo backend for `db`, closed afterwards; connection errors become MigrationError."""
    if db.dialect == "sqlite":
        Path(db.database or "").parent.mkdir(parents=True, exist_ok=True)
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
            yield backend


@contextmanager
def _locked(backend: Any, db: DatabaseURL, timeout: float) -> Iterator[None]:
    try:
        lock = backend.lock(timeout=timeout)
        lock.__enter__()
    except _errors() as exc:
        raise MigrationError(
            f"could not take the migration lock on {db.redacted} within {timeout:g}s: "
            f"{redact(str(exc), db.password)}"
        ) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


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

    `url` defaults to DATABASE_URL; `source` to the built-in folder of the URL's dialect.
    Safe to call from several processes at once: the losers wait for yoyo's lock (up to
    `lock_timeout` seconds), then find nothing left to apply.
    """
    db = _resolve(url)
    migrations = _read(db, source)
    applied: list[str] = []
    with _backend(db) as backend, _locked(backend, db, lock_timeout):
        try:
            pending = backend.to_apply(migrations)
        except _errors() as exc:
            raise MigrationError(
                f"cannot read applied migrations on {db.redacted}: {redact(str(exc), db.password)}"
            ) from exc
        for migration in pending:
            try:
                backend.apply_one(migration)
            except _errors() as exc:
                raise MigrationError(_failure("apply", migration, db, exc, applied)) from exc
            applied.append(migration.id)
        if applied:
            backend.run_post_apply(pending)
    return applied


def rollback(
    url: str | DatabaseURL | None = None,
    steps: int = 1,
    *,
    source: str | Path | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> list[str]:
    """Roll back the last `steps` applied migrations, newest first; return their ids."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    db = _resolve(url)
    migrations = _read(db, source)
    undone: list[str] = []
    with _backend(db) as backend, _locked(backend, db, lock_timeout):
        try:
            candidates = list(backend.to_rollback(migrations))[:steps]
        except _errors() as exc:
            raise MigrationError(
                f"cannot read applied migrations on {db.redacted}: {redact(str(exc), db.password)}"
            ) from exc
        for migration in candidates:
            try:
                backend.rollback_one(migration)
            except _errors() as exc:
                raise MigrationError(_failure("rollback", migration, db, exc, undone)) from exc
            undone.append(migration.id)
    return undone


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


def _default_root() -> Path:
    for root in (Path.cwd() / "migrations", _PACKAGE_DIR.parents[1] / "migrations"):
        if (root / "postgresql").is_dir() and (root / "sqlite").is_dir():
            return root
    raise MigrationError(
        "no migrations/ folder with postgresql/ and sqlite/ found (run from the repository "
        "top, or pass root=)"
    )


def new_migration(name: str, *, root: str | Path | None = None) -> list[Path]:
    """Create ``NNNN_name.sql`` and ``NNNN_name.rollback.sql`` in each dialect folder.

    NNNN is one more than the highest number in either folder; each file depends on the
    newest migration of its own folder. Returns the four paths created.
    """
    slug = re.sub(r"[\s-]+", "_", name.strip().lower())
    if not _MIGRATION_NAME.match(slug):
        raise MigrationError(
            f"migration name {name!r} must be letters, digits and underscores, starting with "
            "a letter (e.g. add_order_tags)"
        )
    base = Path(root) if root is not None else _default_root()
    folders = {dialect: base / dialect for dialect in ("postgresql", "sqlite")}
    existing = {
        dialect: sorted(
            match.group(0)[: -len(".sql")]
            for f in folder.glob("*.sql")
            if (match := _MIGRATION_FILE.match(f.name))
        )
        for dialect, folder in folders.items()
        if folder.is_dir()
    }
    if len(existing) != len(folders):
        raise MigrationError(f"{base} must hold postgresql/ and sqlite/ folders")
    number = 1 + max((int(mid[:4]) for ids in existing.values() for mid in ids), default=0)
    migration_id = f"{number:04d}_{slug}"
    created: list[Path] = []
    for dialect, folder in folders.items():
        depends = f"-- depends: {existing[dialect][-1]}\n" if existing[dialect] else ""
        apply_text = (
            f"-- {migration_id}: say what this changes and why (the DBA reads this first).\n"
            f"-- {dialect} twin of the other dialect's {migration_id}: keep names in step.\n"
            f"{depends}\n"
        )
        rollback_text = (
            f"-- Undo {migration_id}: reverse each statement of {migration_id}.sql, last first.\n\n"
        )
        for path, text in (
            (folder / f"{migration_id}.sql", apply_text),
            (folder / f"{migration_id}.rollback.sql", rollback_text),
        ):
            if path.exists():
                raise MigrationError(f"{path} already exists")
            path.write_text(text, encoding="utf-8")
            created.append(path)
    return created


__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "MigrationStatus",
    "migrate",
    "migration_status",
    "migrations_source",
    "new_migration",
    "rollback",
]

"""Check, before taking the lock, that this role or user may do what migrating needs.

yoyo swallows the errors of its set-up: it tries to create its lock table and, when that fails,
goes on; inserting the lock row then fails on every try, which yoyo reads as "someone holds the
lock", so it waits its whole timeout and reports the wrong thing (``relation "yoyo_lock" does not
exist``, or "database locked"). These checks ask the database (or the filesystem) up front and
raise `MigrationError` at once, naming what is missing and how to grant it:

- PostgreSQL: a schema to migrate into (the search_path's first schema that exists and that
  the role has USAGE on); CREATE on it while any of yoyo's tables is still missing; SELECT,
  INSERT and DELETE on ``yoyo_lock`` once it exists. What the migrations themselves need (CREATE,
  or ownership of the tables they alter) is left to the database: a migration that lacks it
  fails at once with the server's own "permission denied", inside its transaction.
- SQLite: the database file, and its folder (where SQLite writes its journal or WAL files), are
  writable by this user. Root writes through permission bits, so for root only a read-only
  filesystem counts, as it does for SQLite itself.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from tradestore.db.url import DatabaseURL
from tradestore.errors import MigrationError

_PG_ACCESS = """
SELECT quote_ident(current_user), quote_ident(current_schema()),
       current_setting('search_path'),
       has_schema_privilege(current_schema(), 'CREATE'),
       to_regclass(:lock_table) IS NOT NULL
           AND to_regclass(:migration_table) IS NOT NULL
           AND to_regclass(:log_table) IS NOT NULL
           AND to_regclass(:version_table) IS NOT NULL,
       has_table_privilege(to_regclass(:lock_table), 'SELECT'),
       has_table_privilege(to_regclass(:lock_table), 'INSERT'),
       has_table_privilege(to_regclass(:lock_table), 'DELETE')
"""


def check_postgres_access(backend: Any, db: DatabaseURL) -> None:
    """Raise `MigrationError` unless the session may take yoyo's lock and create its tables."""
    tables = {
        "lock_table": backend.lock_table,
        "migration_table": backend.migration_table,
        "log_table": backend.log_table,
        "version_table": backend.version_table,
    }
    row = backend.execute(_PG_ACCESS, tables).fetchone()
    role, schema, search_path, can_create, has_tables, *lock_rights = row
    where = f"cannot migrate {db.redacted}"
    if schema is None:
        raise MigrationError(
            f"{where}: no schema to migrate into. The search_path is {search_path!r}, and none "
            f"of its schemas exists or grants USAGE to role {role}. Create the schema, or "
            f"GRANT USAGE, CREATE ON SCHEMA <name> TO {role}"
        )
    if not has_tables and not can_create:
        raise MigrationError(
            f"{where}: permission denied for schema {schema}: role {role} has no CREATE "
            f"privilege there, and migrating creates yoyo's tables ({', '.join(tables.values())}) "
            f"and the migrations' tables in it. As the schema's owner or a superuser run: "
            f"GRANT CREATE ON SCHEMA {schema} TO {role}; (or migrate as the schema's owner)"
        )
    missing = [
        right
        for right, held in zip(("SELECT", "INSERT", "DELETE"), lock_rights, strict=True)
        if held is False
    ]
    if missing:
        rights = ", ".join(missing)
        raise MigrationError(
            f"{where}: permission denied for table {schema}.{backend.lock_table}: role {role} "
            f"lacks {rights} on it, and every migration run takes yoyo's lock by inserting and "
            f"deleting a row there. Run: GRANT {rights} ON {schema}.{backend.lock_table} TO "
            f"{role}; (and the same on {backend.migration_table}, {backend.log_table})"
        )


def _not_writable(path: Path) -> str | None:
    """Why `path` cannot be written by this process, or None when it can."""
    if os.access(path, os.W_OK):
        return None
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        return "it is on a read-only filesystem"
    return f"user {getpass.getuser()} has no write permission on it"


def check_sqlite_access(db: DatabaseURL) -> None:
    """Raise `MigrationError` unless the database file (when it exists) and its folder are
    writable: migrating writes yoyo's lock row and the schema into the file, and SQLite puts
    its journal (or WAL and shm files) and the kit its lock file in the folder."""
    file = Path(db.database or "").resolve()
    for path, what in ((file, "database file"), (file.parent, "folder of the database")):
        if not path.exists():
            continue
        reason = _not_writable(path)
        if reason:
            raise MigrationError(
                f"cannot migrate {db.redacted}: the {what} {path} is not writable ({reason}). "
                "Migrating writes yoyo's lock row and the schema into the database and SQLite's "
                "journal beside it: make both writable by the user running the migration"
            )


__all__ = ["check_postgres_access", "check_sqlite_access"]

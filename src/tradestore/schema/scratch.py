"""Throw-away migrated databases for tooling (`check-sql`, `stubs`).

A scratch PostgreSQL schema inside an existing database (dropped afterwards) and a scratch
SQLite file in a temporary folder, each brought to the latest migration by
`tradestore.schema.migrate.migrate`: of the built-in trading schema, or of a user's own
migrations folder (``migrations=``), so a user's queries are checked against their tables.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tradestore.db.url import DatabaseURL, parse_url, redact
from tradestore.errors import ConfigurationError, ConnectionFailed

logger = logging.getLogger("tradestore.scratch")


def postgres_base_url() -> str | None:
    """TEST_DATABASE_URL, else DATABASE_URL when it is PostgreSQL, else None."""
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        value = os.environ.get(name, "").strip()
        if value and parse_url(value).dialect == "postgresql":
            return value
    return None


def migrate_to_latest(url: str, migrations: str | Path | None = None) -> None:
    """Apply every migration of `migrations` (None: the built-in ones) to `url`."""
    # Imported here: yoyo is only loaded by the tools that build a scratch database.
    from tradestore.schema.migrate import migrate  # noqa: PLC0415

    migrate(url, source=migrations)


def _no_scratch(base: DatabaseURL, exc: Exception) -> ConnectionFailed:
    return ConnectionFailed(
        f"cannot make a scratch schema in {base.redacted} (from TEST_DATABASE_URL, else "
        f"DATABASE_URL): {redact(str(exc).strip(), base.password)}"
    )


@contextmanager
def scratch_postgres(
    base_url: str, *, migrated: bool = True, migrations: str | Path | None = None
) -> Iterator[str]:
    """A fresh schema in `base_url`'s database; yields a URL whose search_path is that schema,
    migrated from `migrations` (a migrations folder; None: the built-in one) if `migrated`.

    A server that does not answer, an unknown database or a role that may not create a schema
    is a `ConnectionFailed` naming the (redacted) URL, not the driver's traceback: the URL
    usually comes from TEST_DATABASE_URL, and a typo there is the common case.
    """
    import psycopg  # noqa: PLC0415

    base = parse_url(base_url)
    if base.dialect != "postgresql":
        raise ConfigurationError(f"scratch PostgreSQL needs a postgresql URL, not {base.redacted}")
    schema = f"scratch_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(base.conninfo(), autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise _no_scratch(base, exc) from None
    with admin:
        try:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.Error as exc:
            raise _no_scratch(base, exc) from None
        try:
            url = base_url + ("&" if "?" in base_url else "?") + f"schema={schema}"
            if migrated:
                migrate_to_latest(url, migrations)
            yield url
        finally:
            try:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND application_name = %s",
                    (schema,),
                )
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            except psycopg.Error as exc:
                logger.warning(
                    "scratch schema %s in %s was not dropped: %s",
                    schema,
                    base.redacted,
                    redact(str(exc).strip(), base.password),
                )


@contextmanager
def scratch_sqlite(*, migrated: bool = True, migrations: str | Path | None = None) -> Iterator[str]:
    """A fresh SQLite file in a temporary folder, removed afterwards; migrated from
    `migrations` (None: the built-in folder) if `migrated`."""
    with tempfile.TemporaryDirectory(prefix="tradestore-scratch-") as folder:
        url = f"sqlite:///{folder}/scratch.db"
        if migrated:
            migrate_to_latest(url, migrations)
        yield url

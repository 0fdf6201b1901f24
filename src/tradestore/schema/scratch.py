"""Throw-away migrated databases for tooling (`check-sql`, `stubs`).

A scratch PostgreSQL schema inside an existing database (dropped afterwards) and a scratch
SQLite file in a temporary folder, each brought to the latest migration by
`tradestore.schema.migrate.migrate`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tradestore.db.url import DatabaseURL, parse_url, redact
from tradestore.errors import ConfigurationError, ConnectionFailed, MigrationError

logger = logging.getLogger("tradestore.scratch")


def postgres_base_url() -> str | None:
    """TEST_DATABASE_URL, else DATABASE_URL when it is PostgreSQL, else None."""
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        value = os.environ.get(name, "").strip()
        if value and parse_url(value).dialect == "postgresql":
            return value
    return None


def migrate_to_latest(url: str) -> None:
    """Apply every migration; a clear error while the migrations module is not there yet."""
    try:
        from tradestore.schema.migrate import migrate  # noqa: PLC0415  (issue 4 provides it)
    except ModuleNotFoundError as exc:
        if exc.name != "tradestore.schema.migrate":
            raise
        raise MigrationError(
            "tradestore.schema.migrate is not available yet (issue 4): cannot build the scratch "
            "schema; pass already-migrated databases with --url instead"
        ) from None
    migrate(url)


def _no_scratch(base: DatabaseURL, exc: Exception) -> ConnectionFailed:
    return ConnectionFailed(
        f"cannot make a scratch schema in {base.redacted} (from TEST_DATABASE_URL, else "
        f"DATABASE_URL): {redact(str(exc).strip(), base.password)}"
    )


@contextmanager
def scratch_postgres(base_url: str, *, migrated: bool = True) -> Iterator[str]:
    """A fresh schema in `base_url`'s database; yields a URL whose search_path is that schema.

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
                migrate_to_latest(url)
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
def scratch_sqlite(*, migrated: bool = True) -> Iterator[str]:
    """A fresh SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tradestore-scratch-") as folder:
        url = f"sqlite:///{folder}/scratch.db"
        if migrated:
            migrate_to_latest(url)
        yield url

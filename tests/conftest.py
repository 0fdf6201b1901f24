"""Shared fixtures: a real PostgreSQL and real SQLite databases for every test.

PostgreSQL comes from TEST_DATABASE_URL, else a testcontainers container when a Docker engine
answers, else the PostgreSQL tests are skipped with the reason. With
TRADESTORE_REQUIRE_POSTGRES=1 (set by .ci/run) a missing server FAILS the run instead.
Each PostgreSQL test gets its own schema (dropped afterwards), so tests cannot see each
other's rows; each SQLite test gets its own file under tmp_path.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, NoReturn, cast

import psycopg
import pytest

import hypothesis_profiles
from faces import Bridge, SyncFace
from netproxy import NetProxy
from tradestore import Pool, load_queries, migrate
from tradestore.db.pool_async import AsyncPool
from tradestore.db.scope import DbScope
from tradestore.db.scope_async import AsyncDbScope
from tradestore.db.url import parse_url
from tradestore.trading.models import Portfolio
from tradestore.trading.repositories import Repositories, async_bind_all, bind_all

REQUIRE_POSTGRES = os.environ.get("TRADESTORE_REQUIRE_POSTGRES") == "1"
# Before any test module is imported: their hypothesis settings derive from this profile.
HYPOTHESIS_PROFILE = hypothesis_profiles.load()


def pytest_report_header() -> str:
    return f"hypothesis profile: {HYPOTHESIS_PROFILE} (tests/hypothesis_profiles.py)"


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]  # noqa: PLC0415

        docker.from_env(timeout=3).ping()
    except Exception:  # noqa: BLE001  (no engine, no socket, no package: all mean no)
        return False
    return True


def _container_url(stack: list[Any]) -> str | None:
    if not _docker_answers():
        return None
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

    container = PostgresContainer("postgres:15-alpine", driver=None)
    container.start()
    stack.append(container)
    url: str = container.get_connection_url()
    return url


def skip_or_fail_without_postgres(reason: str) -> NoReturn:
    """Skip saying why; under TRADESTORE_REQUIRE_POSTGRES=1 (CI) FAIL instead, so a test that
    cannot have the PostgreSQL it needs is never silently left out of a CI run."""
    if REQUIRE_POSTGRES:
        pytest.fail(f"{reason} (TRADESTORE_REQUIRE_POSTGRES=1: PostgreSQL tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_unavailable() -> Callable[[str], NoReturn]:
    """For a test that needs more of the server than a connection (a role, a password):
    call it with the reason to skip, or to fail in CI."""
    return skip_or_fail_without_postgres


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A PostgreSQL URL for the session, or a skip (a failure in CI) saying why not."""
    stack: list[Any] = []
    url = os.environ.get("TEST_DATABASE_URL") or _container_url(stack)
    if not url:
        skip_or_fail_without_postgres(
            "no PostgreSQL: set TEST_DATABASE_URL=postgresql://user@host:5432/db "
            "or run a Docker engine for testcontainers"
        )
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        skip_or_fail_without_postgres(
            f"PostgreSQL at TEST_DATABASE_URL is unreachable: {type(exc).__name__}"
        )
    yield url
    for container in stack:
        container.stop()


@pytest.fixture
def pg_schema(postgres_base_url: str) -> Iterator[str]:
    """A fresh, empty schema for one test; dropped with everything in it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(postgres_base_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND application_name = %s",
            (schema,),
        )
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def proxy(postgres_base_url: str) -> Iterator[NetProxy]:
    """A loopback proxy in front of the shared PostgreSQL whose mode the test switches (frozen,
    gone, ...): the server itself is never stopped."""
    base = parse_url(postgres_base_url)
    with NetProxy((base.host or "127.0.0.1", base.port or 5432)) as p:
        yield p


def with_query(url: str, **params: str) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + "&".join(f"{k}={v}" for k, v in params.items())


@pytest.fixture
def pg_url(postgres_base_url: str, pg_schema: str) -> str:
    """A PostgreSQL URL whose search_path is this test's own schema."""
    return with_query(postgres_base_url, schema=pg_schema, application_name=pg_schema)


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    """A SQLite file of this test's own."""
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once per backend: a fresh SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    pg: str = request.getfixturevalue("pg_url")
    return pg


# -- trading entities: a migrated database, its repositories and one funded portfolio ---------


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> str:
    """Runs the test once per face of the store: sync, then async through `faces.Bridge`."""
    value: str = request.param
    return value


@pytest.fixture
def scope(db_url: str, face: str) -> Iterator[DbScope]:
    """A migrated database's scope; on the async face an `AsyncDbScope` the test drives as
    if it were sync (each test thread is a task: see `faces`)."""
    migrate(db_url)
    if face == "sync":
        with Pool(db_url, min_size=0, max_size=4) as pool:
            yield DbScope(pool)
        return
    with Bridge() as bridge:
        apool = bridge.run(AsyncPool, db_url, min_size=0, max_size=4)
        try:
            yield cast(DbScope, SyncFace(AsyncDbScope(apool), bridge))
        finally:
            bridge.run(apool.close)


@pytest.fixture
def repos(scope: DbScope) -> Repositories:
    if isinstance(scope, SyncFace):
        return cast(Repositories, scope.wrap(async_bind_all(scope.target, load_queries())))
    return bind_all(scope, load_queries())


@pytest.fixture
def portfolio(repos: Repositories) -> Portfolio:
    account = repos.accounts.create(name="main", cash_balance=Decimal("100000"))
    return repos.portfolios.create(account_id=account.id, name="core")

"""Fixtures and helpers of the property tests: one migrated `TradeStore` per backend per module.

Hypothesis runs many examples inside ONE call of a test function, so function-scoped fixtures
would be shared by all examples anyway (and hypothesis warns about them). Instead each test
module gets, per backend, a store that lives for the whole module: a SQLite file under
tmp_path_factory, or a fresh PostgreSQL schema on the session server, dropped afterwards.
Examples never collide because each one writes under its own fresh correlation id, and every
count comparison is taken around one example's own call.

Settings come from the ``tradestore-properties`` profile (no deadline: a PostgreSQL round
trip's time is not the property under test), applied per test rather than loaded globally so
the rest of the suite keeps its own hypothesis settings. It derives from the run's profile
(``tests/hypothesis_profiles.py``: derandomized in CI, random and 20 times the examples in
`make test-nightly`); budgets are written as ``examples(n)`` so that they scale with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from hypothesis import settings

from hypothesis_profiles import examples
from tradestore import TradeStore

PROFILE = "tradestore-properties"
settings.register_profile(PROFILE, deadline=None, print_blob=True)

ROUND_TRIPS = settings(settings.get_profile(PROFILE), max_examples=examples(100))
"""For properties that write and read back real rows (per backend)."""

REJECTIONS = settings(settings.get_profile(PROFILE), max_examples=examples(50))
"""For properties about input that must be refused (per backend)."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TradeStore]:
    """A migrated store for the whole module: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("properties") / "props.db"
        with TradeStore(f"sqlite:///{path}", migrate=True, min_size=1, max_size=2) as s:
            yield s
        return
    base: str = request.getfixturevalue("postgres_base_url")
    schema = f"p_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    joiner = "&" if "?" in base else "?"
    url = f"{base}{joiner}schema={schema}&application_name={schema}"
    try:
        with TradeStore(url, migrate=True, min_size=1, max_size=2) as s:
            yield s
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            # A backend left over (a failed test's connection) would block the DROP.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND application_name = %s",
                (schema,),
            )
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def count_rows(store: TradeStore, table: str) -> int:
    """Rows in one of the store's tables (the table name is a constant of the caller)."""
    with store.pool.connection() as conn:
        row = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    return int(row[0])


@contextmanager
def no_sql(store: TradeStore) -> Iterator[None]:
    """Assert that the block never took a connection from the store's pool.

    Every statement the store runs goes through a pool checkout (named queries, COPY and
    transactions alike), so an unchanged checkout counter proves that no SQL was sent: the
    refusal happened in validation, before the database could see the value.
    """
    before = store.pool.stats().checkouts
    yield
    after = store.pool.stats().checkouts
    assert after == before, f"{after - before} pool checkout(s): SQL ran before the refusal"

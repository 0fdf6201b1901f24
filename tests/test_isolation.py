"""A library must not change its host's other connections (issue 14).

The kit converts values per call on SQLite and registers adapters per connection on
PostgreSQL; nothing it does, migrations included, may change what a plain ``sqlite3`` or
``psycopg`` connection of the same process does, nor sqlite3's process-wide registries.
"""

from __future__ import annotations

import _sqlite3
import datetime as dt
import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradestore import Pool, migrate, migration_status, rollback

PROBE = Path(__file__).parent / "isolation_probe.py"


def run_probe(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(PROBE), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_plain_connections_behave_as_without_the_kit(
    db_url: str, request: pytest.FixtureRequest
) -> None:
    # A fresh interpreter: fingerprint, import and use the kit on this backend, fingerprint.
    pg: tuple[str, ...] = ()
    if db_url.startswith("postgresql"):
        pg = (request.getfixturevalue("postgres_base_url"), request.getfixturevalue("pg_schema"))
    probe = run_probe(db_url, *pg)
    before, after = probe["before"], probe["after"]
    assert after == before
    # And "before" is sqlite3 as shipped: none of the kit's conversions in it.
    plain = before["sqlite3"]
    assert plain["store naive datetime"] == "'2026-01-02 03:04:05'"
    assert plain["store Decimal"].startswith("ProgrammingError")
    assert plain["store dict"].startswith("ProgrammingError")
    if pg:
        assert after["psycopg"]["enum array"] == "('{a,b}',)"
        assert "cannot adapt type 'dict'" in after["psycopg"]["dict parameter"]


def registries() -> tuple[dict[Any, Any], dict[str, Any], bool]:
    """sqlite3's process-wide adapters and converters, and whether its names still point at
    them; none may come from the kit (or from yoyo, which the kit runs)."""
    for registered in (*_sqlite3.adapters.values(), *_sqlite3.converters.values()):
        origin = getattr(registered, "__module__", "") or ""
        assert not origin.startswith(("tradestore", "yoyo")), registered
    bound = sqlite3.adapters is _sqlite3.adapters and sqlite3.converters is _sqlite3.converters
    return dict(_sqlite3.adapters), dict(_sqlite3.converters), bound


def test_migrations_leave_sqlite3_registries_as_found(sqlite_url: str) -> None:
    # yoyo registers a datetime adapter and a timestamp converter while it runs, and its own
    # "restore" only rebinds the module's names: the registries themselves kept its entries.
    before = registries()
    migrate(sqlite_url)
    migration_status(sqlite_url)
    rollback(sqlite_url, steps=2)
    assert registries() == before
    plain = sqlite3.connect(":memory:")
    try:
        naive = dt.datetime(2026, 1, 2, 3, 4, 5)
        assert plain.execute("SELECT ?", (naive,)).fetchone()[0] == "2026-01-02 03:04:05"
    finally:
        plain.close()


def test_kit_calls_do_not_touch_sqlite3_registries(sqlite_url: str) -> None:
    before = registries()
    with Pool(sqlite_url) as pool, pool.connection() as conn:
        conn.execute("CREATE TABLE v (d TEXT, ts TEXT, doc TEXT)")
        aware = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        conn.execute("INSERT INTO v VALUES (?, ?, ?)", (Decimal("1.5"), aware, {"a": 1}))
        assert conn.execute("SELECT d, ts, doc FROM v").fetchone() == (
            "1.5",
            "2026-01-02T03:04:05.000000+00:00",
            '{"a":1}',
        )
    assert registries() == before

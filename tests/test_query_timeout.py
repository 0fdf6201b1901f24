"""DB_QUERY_TIMEOUT: a statement over the limit is cancelled with QueryTimeout, and the
connection goes back to the pool usable."""

from __future__ import annotations

import pytest

from tradestore import Pool, QueryError, QueryTimeout, connect

SLOW = {
    # An endless recursive CTE: only the timeout stops it.
    "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
    "SELECT COUNT(*) FROM r",
    "postgresql": "SELECT pg_sleep(30)",
}


def test_slow_statement_raises_query_timeout_and_connection_survives(db_url: str) -> None:
    with Pool(db_url, min_size=1, max_size=1, query_timeout=0.2) as pool:
        with pool.connection() as conn, pytest.raises(QueryTimeout) as info:
            conn.execute(SLOW[pool.dialect]).fetchone()
        assert isinstance(info.value, QueryError)
        assert "DB_QUERY_TIMEOUT" in str(info.value)
        assert info.value.sqlstate in ("57014", "SQLITE_INTERRUPT")
        with pool.connection() as conn:  # the same (only) connection, usable again
            assert conn.execute("SELECT 1").fetchone()[0] == 1
        assert pool.stats().created == 1


def test_timeout_comes_from_environment(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_QUERY_TIMEOUT", "0.2")
    with connect(db_url, min_size=1) as pool:
        assert pool.backend.query_timeout == 0.2
        with pool.connection() as conn, pytest.raises(QueryTimeout):
            conn.execute(SLOW[pool.dialect]).fetchone()


def test_fast_statements_after_a_timeout_are_not_interrupted(sqlite_url: str) -> None:
    with Pool(sqlite_url, max_size=1, query_timeout=0.2) as pool:
        with pool.connection() as conn, pytest.raises(QueryTimeout):
            conn.execute(SLOW["sqlite"]).fetchone()
        with pool.connection() as conn:
            # A statement that takes many VM steps but less than the limit completes.
            n = conn.execute(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 200000) "
                "SELECT COUNT(*) FROM r"
            ).fetchone()[0]
        assert n == 200000

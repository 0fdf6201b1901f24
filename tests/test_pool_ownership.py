"""A pooled connection is one borrower's at a time, on real PostgreSQL and real SQLite.

A second return, a connection of another pool and any use of a returned `Connection` are
refused with a `PoolError` naming the pool, and change nothing. Whatever a borrower changed
in the session (autocommit, SET, PRAGMA, a temp table, an advisory lock, ...) is put back
before the next borrower gets the connection; a borrower that changed nothing costs no
round trip.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tradestore import Connection, Pool, PoolError, PoolTimeout, TradeStore, migrate
from tradestore.errors import QueryTimeout
from tradestore.queries.binding import _changes_session
from tradestore.queries.loader import Queries
from tradestore.trading.inputs import TradeSignal
from tradestore.trading.queries import load_queries

NOTES_SQL = """\
-- name: note_count :scalar
-- How many notes there are.
SELECT COUNT(*)
FROM notes;

-- name: add_note :exec
-- Store one note.
INSERT INTO notes (id, body)
VALUES (:id, :body);

-- name: notes :iter
-- Every note, streamed.
SELECT id, body
FROM notes;
"""
# A named statement that changes the session: the pool must notice it without a round trip.
SESSION_SQL = {
    "postgresql": "-- name: loosen_session :exec\n-- Leave.\nSET search_path TO public;\n",
    "sqlite": "-- name: loosen_session :exec\n-- Drop a kit PRAGMA.\nPRAGMA foreign_keys = OFF;\n",
}


@pytest.fixture
def q(tmp_path: Path) -> Queries:
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "notes.sql").write_text(NOTES_SQL)
    for dialect, text in SESSION_SQL.items():
        (folder / dialect).mkdir()
        (folder / dialect / "session.sql").write_text(text)
    return load_queries(folder, echo=False, slow_query_ms=None)


@pytest.fixture
def pool(db_url: str) -> Iterator[Pool]:
    """max_size=1: the next borrower is guaranteed the very connection the last one returned."""
    with Pool(db_url, min_size=1, max_size=1, timeout=5, name="owner") as p:
        with p.connection() as conn:
            conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        yield p


@pytest.fixture
def other_url(db_url: str, tmp_path: Path, postgres_base_url: str) -> Iterator[str]:
    """Another database of the same backend: a second SQLite file, or a second schema."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/other.db"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_base_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres_base_url}?schema={schema}"
    finally:
        with psycopg.connect(postgres_base_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sizes(pool: Pool) -> tuple[int, int, int]:
    s = pool.stats()
    return s.size, s.idle, s.in_use


# -- double return ---------------------------------------------------------------------------


def test_a_second_return_is_refused_and_changes_nothing(pool: Pool) -> None:
    conn = pool.getconn()
    pool.putconn(conn)
    with pytest.raises(PoolError, match=r"already returned to pool 'owner'"):
        pool.putconn(conn)
    assert sizes(pool) == (1, 1, 0)  # not idle 2 of max 1
    first = pool.getconn()
    # Before the fix the same connection went to a second borrower here.
    with pytest.raises(PoolTimeout):
        pool.getconn(timeout=0.2)
    pool.putconn(first)
    assert sizes(pool) == (1, 1, 0)


def test_a_return_inside_the_with_block_makes_the_block_end_refuse(pool: Pool) -> None:
    with (
        pytest.raises(PoolError, match=r"already returned to pool 'owner'"),
        pool.connection() as conn,
    ):
        pool.putconn(conn)
    assert sizes(pool) == (1, 1, 0)
    a = pool.getconn()
    with pytest.raises(PoolTimeout):
        pool.getconn(timeout=0.2)
    pool.putconn(a)


# -- foreign connections ---------------------------------------------------------------------


def test_a_connection_of_another_pool_is_refused_and_both_pools_stay_intact(
    pool: Pool, other_url: str
) -> None:
    with Pool(other_url, min_size=1, max_size=1, timeout=5, name="other") as other:
        with other.connection() as conn:
            conn.execute("CREATE TABLE elsewhere (id INTEGER PRIMARY KEY)")
        theirs = other.getconn()
        with pytest.raises(PoolError, match=r"pool 'owner'.* does not own.*pool 'other'"):
            pool.putconn(theirs)
        assert sizes(pool) == (1, 1, 0)
        assert sizes(other) == (1, 0, 1)
        # Still open and still its borrower's: the refusal closed nothing.
        assert theirs.execute("SELECT COUNT(*) FROM elsewhere").fetchone()[0] == 0
        # The owner serves its own database, not the other one.
        with pool.connection() as mine:
            assert mine.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 0
        other.putconn(theirs)
        assert sizes(other) == (1, 1, 0)
        # Exactly one connection out of a max_size=1 pool, not two.
        with pytest.raises(PoolTimeout), other.connection(), other.connection(timeout=0.2):
            pass


def test_postgresql_and_sqlite_connections_are_refused_by_each_others_pool(
    pg_url: str, sqlite_url: str
) -> None:
    with (
        Pool(pg_url, min_size=1, max_size=1, timeout=5, name="pg") as pg,
        Pool(sqlite_url, min_size=1, max_size=1, timeout=5, name="lite") as lite,
    ):
        pg_conn, lite_conn = pg.getconn(), lite.getconn()
        with pytest.raises(PoolError, match=r"pool 'lite'.* does not own.*pool 'pg'"):
            lite.putconn(pg_conn)
        with pytest.raises(PoolError, match=r"pool 'pg'.* does not own.*pool 'lite'"):
            pg.putconn(lite_conn)
        assert sizes(pg) == sizes(lite) == (1, 0, 1)
        assert pg_conn.execute("SELECT 1").fetchone()[0] == 1
        assert lite_conn.execute("SELECT 1").fetchone()[0] == 1
        pg.putconn(pg_conn)
        lite.putconn(lite_conn)
        assert sizes(pg) == sizes(lite) == (1, 1, 0)


def test_a_driver_connection_is_refused(pool: Pool) -> None:
    with pool.connection() as conn:
        raw = conn.raw
        with pytest.raises(PoolError, match=r"pool 'owner' does not own"):
            pool.putconn(raw)
    assert sizes(pool) == (1, 1, 0)


# -- use after return ------------------------------------------------------------------------


def _transaction(conn: Connection, q: Queries) -> None:
    with conn.transaction():
        pass


USES: dict[str, Callable[[Connection, Queries], Any]] = {
    "execute a stale BEGIN": lambda conn, q: conn.execute(conn.backend.begin_sql),
    "transaction": _transaction,
    "raw": lambda conn, q: conn.raw,
    "in_transaction": lambda conn, q: conn.in_transaction,
    "named :scalar": lambda conn, q: q.note_count(conn),
    "named :exec": lambda conn, q: q.add_note(conn, id=1, body="stale"),
    "named :iter": lambda conn, q: list(q.notes(conn)),
}


@pytest.mark.parametrize("use", list(USES))
def test_a_returned_connection_refuses_every_use(pool: Pool, q: Queries, use: str) -> None:
    with pool.connection() as conn:
        pass
    with pool.connection() as fresh:  # the next borrower holds the same pooled connection
        with pytest.raises(PoolError, match=r"returned to pool 'owner'"):
            USES[use](conn, q)
        assert not fresh.in_transaction  # a stale BEGIN did not reach it
        assert q.note_count(fresh) == 0  # nor a stale write
    assert "returned" in repr(conn)


def test_a_connection_from_getconn_refuses_use_after_putconn(pool: Pool, q: Queries) -> None:
    conn = pool.getconn()
    pool.putconn(conn)
    with pytest.raises(PoolError, match=r"returned to pool 'owner'"):
        conn.execute("SELECT 1")
    assert q.note_count(pool) == 0


# -- session state ---------------------------------------------------------------------------


T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)


def signal() -> TradeSignal:
    return TradeSignal.model_validate(
        {
            "symbol": "AAPL",
            "action": "BUY",
            "strategy_name": "momentum",
            "quantity": "10",
            "signal_price": "187.5",
            "signal_time": T0,
        }
    )


def test_autocommit_turned_off_by_a_borrower_does_not_lose_the_next_write(db_url: str) -> None:
    migrate(db_url)
    with TradeStore(db_url, min_size=1, max_size=1, timeout=5) as store:
        with store.pool.connection() as conn:
            if store.pool.dialect == "sqlite":
                conn.raw.isolation_level = "DEFERRED"  # sqlite3's implicit BEGIN before DML
            else:
                conn.raw.autocommit = False
        cid = store.log_trade(signal())
        assert cid is not None
    # A new pool, a new connection: it sees only what was committed.
    with TradeStore(db_url, min_size=0, max_size=1, timeout=5) as fresh:
        assert fresh.get_trade(cid) is not None


def assert_undone_for_the_next_borrower(pool: Pool, run: str, probe: str) -> None:
    """`run` changes what `probe` reads; the next borrower (same connection: max_size=1)
    must read what the first one read before running it."""
    with pool.connection() as conn:
        before = conn.execute(probe).fetchone()[0]
        conn.execute(run)
        assert conn.execute(probe).fetchone()[0] != before  # the change took
    with pool.connection() as conn:
        assert conn.execute(probe).fetchone()[0] == before


PG_CHANGES: dict[str, tuple[str, str]] = {
    # what a borrower runs: what the next borrower reads (must be the kit's value)
    "search_path": ("SET search_path TO public", "SHOW search_path"),
    "statement_timeout": ("SET statement_timeout = 1", "SHOW statement_timeout"),
    "timezone": ("SET TIME ZONE 'Asia/Tokyo'", "SHOW TimeZone"),
    "role": ("SET ROLE pg_read_all_data", "SELECT current_user"),
    "read only default": (
        "SET default_transaction_read_only = on",
        "SHOW default_transaction_read_only",
    ),
    "advisory lock": (
        "SELECT pg_advisory_lock(4242)",
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
    ),
    "temp table": (
        "CREATE TEMP TABLE scratch (a INT)",
        "SELECT COUNT(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()",
    ),
}


@pytest.mark.parametrize("change", list(PG_CHANGES))
def test_postgresql_session_changes_do_not_reach_the_next_borrower(
    pg_url: str, change: str
) -> None:
    with Pool(pg_url, min_size=1, max_size=1, timeout=5, query_timeout=30) as pool:
        assert_undone_for_the_next_borrower(pool, *PG_CHANGES[change])


@pytest.mark.parametrize("client_side", ["autocommit", "row_factory", "read_only"])
def test_postgresql_driver_settings_are_restored(pg_url: str, client_side: str) -> None:
    with Pool(pg_url, min_size=1, max_size=1, timeout=5) as pool:
        with pool.connection() as conn:
            pid = conn.raw.info.backend_pid
            if client_side == "autocommit":
                conn.raw.autocommit = False
            elif client_side == "row_factory":
                conn.raw.row_factory = dict_row
            else:
                conn.raw.read_only = True
        with pool.connection() as conn:
            assert conn.raw.info.backend_pid == pid  # restored, not replaced
            assert conn.raw.autocommit is True
            assert conn.raw.read_only is None
            assert conn.execute("SELECT 7").fetchone()[0] == 7  # tuple rows again
            assert not conn.in_transaction


def test_a_named_session_statement_is_undone_too(db_url: str, q: Queries) -> None:
    with Pool(db_url, min_size=1, max_size=1, timeout=5) as pool:
        kit_value: object
        if pool.dialect == "sqlite":
            probe, kit_value = "PRAGMA foreign_keys", 1
        else:
            probe, kit_value = "SHOW search_path", pool.url.schema
        q.loosen_session(pool)
        with pool.connection() as conn:
            assert conn.execute(probe).fetchone()[0] == kit_value


def activity(base_url: str, application_name: str) -> tuple[str, str]:
    """The state and the last statement of the one session of that name, seen from another."""
    with psycopg.connect(base_url, autocommit=True) as observer:
        row = observer.execute(
            "SELECT state, query FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _last_statement(base_url: str, application_name: str) -> str:
    return activity(base_url, application_name)[1]


def test_a_clean_return_costs_no_round_trip(
    pg_url: str, pg_schema: str, postgres_base_url: str, q: Queries
) -> None:
    with Pool(pg_url, min_size=1, max_size=1, timeout=5) as pool:
        with pool.connection() as conn:
            conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        assert _last_statement(postgres_base_url, pg_schema).startswith("CLOSE ALL")  # dirty
        for _ in range(7):  # past psycopg's prepare threshold
            assert q.note_count(pool) == 0
        assert "FROM notes" in _last_statement(postgres_base_url, pg_schema)
        with pool.connection() as conn:
            assert q.note_count(conn) == 0
            with conn.transaction():
                q.add_note(conn, id=1, body="kept")
        assert _last_statement(postgres_base_url, pg_schema) == "COMMIT"  # no reset after it
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        # The reset keeps psycopg's prepared statements (the kit's own query cache) valid.
        assert q.note_count(pool) == 1


SQLITE_CHANGES: dict[str, tuple[str, str]] = {
    "foreign_keys": ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys"),
    "query_only": ("PRAGMA query_only = ON", "PRAGMA query_only"),
    "busy_timeout": ("PRAGMA busy_timeout = 1", "PRAGMA busy_timeout"),
    "synchronous": ("PRAGMA synchronous = OFF", "PRAGMA synchronous"),
    "journal_mode": ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode"),
    "recursive_triggers": ("PRAGMA recursive_triggers = ON", "PRAGMA recursive_triggers"),
    "temp table": (
        "CREATE TEMP TABLE scratch (a INTEGER)",
        "SELECT COUNT(*) FROM temp.sqlite_master",
    ),
    "attached database": (
        "ATTACH DATABASE ':memory:' AS side",
        "SELECT COUNT(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp')",
    ),
}


@pytest.mark.parametrize("change", list(SQLITE_CHANGES))
def test_sqlite_session_changes_do_not_reach_the_next_borrower(
    sqlite_url: str, change: str
) -> None:
    with Pool(sqlite_url, min_size=1, max_size=1, timeout=5) as pool:
        assert_undone_for_the_next_borrower(pool, *SQLITE_CHANGES[change])


@pytest.mark.parametrize("attribute", ["isolation_level", "row_factory", "text_factory"])
def test_sqlite_driver_settings_are_restored(sqlite_url: str, attribute: str) -> None:
    with Pool(sqlite_url, min_size=1, max_size=1, timeout=5) as pool:
        with pool.connection() as conn:
            first = conn.raw
            changed = {"isolation_level": "DEFERRED", "row_factory": sqlite3.Row}
            setattr(conn.raw, attribute, changed.get(attribute, bytes))
        with pool.connection() as conn:
            assert conn.raw is first  # restored, not replaced
            assert conn.raw.isolation_level is None
            assert conn.raw.row_factory is None
            assert conn.raw.text_factory is str
            assert conn.execute("SELECT 'x'").fetchone() == ("x",)


def test_sqlite_query_timeout_survives_a_borrower_replacing_the_progress_handler(
    sqlite_url: str,
) -> None:
    with Pool(sqlite_url, min_size=1, max_size=1, timeout=5, query_timeout=0.2) as pool:
        with pool.connection() as conn:
            conn.raw.set_progress_handler(None, 0)
        with pool.connection() as conn, pytest.raises(QueryTimeout):
            conn.execute(
                # Seconds of work without the kit's progress handler; 0.2 s with it.
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
                " SELECT COUNT(*) FROM n"
            ).fetchone()


@pytest.mark.parametrize(
    ("dialect", "sql", "changes"),
    [
        ("postgresql", "SELECT id FROM notes WHERE id = %s", False),
        ("postgresql", "INSERT INTO notes (id, body) VALUES (%s, %s)", False),
        ("postgresql", "SET search_path TO public", True),
        ("postgresql", "reset all", True),
        ("postgresql", "SELECT set_config ('search_path', %s, false)", True),
        ("postgresql", "SELECT pg_advisory_lock(%s)", True),
        ("postgresql", "SELECT pg_advisory_xact_lock(%s)", False),  # ends with the transaction
        ("postgresql", "CREATE TEMP TABLE scratch (a INT)", True),
        ("sqlite", "SELECT id FROM notes WHERE id = ?", False),
        ("sqlite", "WITH n AS (SELECT 1) SELECT * FROM n", False),
        ("sqlite", "BEGIN IMMEDIATE", False),
        ("sqlite", "PRAGMA foreign_keys = OFF", True),
        ("sqlite", "ATTACH DATABASE ':memory:' AS side", True),
        ("sqlite", "CREATE TABLE temp.scratch (a INTEGER)", True),
        ("sqlite", "-- a comment first\nSELECT 1", True),  # not parsed: restored to be safe
    ],
)
def test_which_named_statements_mark_the_session(dialect: str, sql: str, changes: bool) -> None:
    assert _changes_session(sql, dialect) is changes

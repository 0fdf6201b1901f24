"""Enum arrays on real PostgreSQL (issue 14, item 8): ``status[]`` into ``list[str]`` and
``list[Status]`` works, also through connections opened before the enum existed, and check-sql
reports the arrays the kit cannot load (of a composite type).

PostgreSQL only: SQLite has no enum types (a list there is JSON text, see test_queries).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from test_queries import FIXTURES
from tradestore import Pool
from tradestore.cli import main
from tradestore.queries.checksql import check_queries
from tradestore.queries.loader import Queries
from tradestore.schema.introspect import list_tables
from tradestore.trading.queries import load_queries

ENUMS = FIXTURES / "enums"
SCHEMA = """
CREATE TYPE ticket_status AS ENUM ('open', 'closed', 'on hold');
CREATE TYPE leg AS (symbol text, qty numeric);
CREATE TABLE tickets (
    id bigint PRIMARY KEY,
    status ticket_status NOT NULL,
    history ticket_status[] NOT NULL,
    legs leg[]
);
INSERT INTO tickets (id, status, history, legs) VALUES
    (1, 'closed', '{open,"on hold",closed}', '{"(AAPL,1.5)"}'),
    (2, 'open', '{}', NULL);
"""


class Status(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ON_HOLD = "on hold"


class Ticket(BaseModel):
    id: int
    status: str
    history: list[str]


class TypedTicket(BaseModel):
    id: int
    status: Status
    history: list[Status]


class TicketLegs(BaseModel):
    id: int
    legs: list[str] | None


@pytest.fixture
def q() -> Queries:
    models: dict[str, type[BaseModel]] = {
        "Ticket": Ticket,
        "TypedTicket": TypedTicket,
        "TicketLegs": TicketLegs,
    }
    return load_queries(ENUMS, models=models, echo=False, slow_query_ms=None)


@pytest.fixture
def pool(pg_url: str) -> Iterator[Pool]:
    """Two connections, opened and used (reusable cursors made) BEFORE the enum exists."""
    with Pool(pg_url, min_size=2, max_size=2, timeout=10) as p:
        held = [p.getconn() for _ in range(2)]
        for conn in held:
            assert list_tables(conn) == []  # a named query: the connection's cursor exists
        for conn in held:
            p.putconn(conn)
        with p.connection() as conn:
            conn.execute(SCHEMA)
        yield p


def test_enum_arrays_load_as_lists_on_connections_older_than_the_enum(
    pool: Pool, q: Queries
) -> None:
    held = [pool.getconn() for _ in range(2)]  # both connections predate the enum
    try:
        for conn in held:
            assert q.ticket(conn, id=1) == Ticket(
                id=1, status="closed", history=["open", "on hold", "closed"]
            )
            assert [t.history for t in q.tickets(conn)] == [["open", "on hold", "closed"], []]
            assert q.ticket_history(conn, id=1) == ["open", "on hold", "closed"]
    finally:
        for conn in held:
            pool.putconn(conn)
    typed = list(q.stream_tickets(pool))
    assert typed[0] == TypedTicket(
        id=1, status=Status.CLOSED, history=[Status.OPEN, Status.ON_HOLD, Status.CLOSED]
    )


def test_an_enum_created_inside_a_transaction_loads_there(pool: Pool, q: Queries) -> None:
    # The first sight of a type inside a transaction asks the catalog under a savepoint: the
    # caller's transaction goes on and commits.
    with pool.transaction() as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('calm', 'wild')")
        conn.execute("CREATE TABLE moods (id int PRIMARY KEY, seen mood[] NOT NULL)")
        conn.execute("INSERT INTO moods VALUES (1, '{wild,calm}')")
        assert conn.execute("SELECT seen FROM moods").fetchone() == (["wild", "calm"],)
        assert conn.in_transaction
    with pool.connection() as conn:
        assert conn.execute("SELECT seen FROM moods").fetchone() == (["wild", "calm"],)


def test_other_unknown_types_still_arrive_as_text(pool: Pool) -> None:
    with pool.connection() as conn:
        row = conn.execute("SELECT status, legs FROM tickets WHERE id = 1").fetchone()
    assert row == ("closed", '{"(AAPL,1.5)"}')


def test_check_sql_passes_enum_arrays_and_names_composite_arrays(
    pool: Pool, q: Queries, pg_url: str
) -> None:
    problems = [str(p) for p in check_queries(q, pg_url)]
    assert len(problems) == 1, problems
    (problem,) = problems
    assert "query ticket_legs [postgresql]: field legs: column is leg[] but TicketLegs.legs" in (
        problem
    )
    assert "psycopg has no loader for leg[]: it arrives as text" in problem
    folder = str(ENUMS)
    assert main(["check-sql", folder, "--models", __name__, "--url", pg_url]) == 1


class Flat(BaseModel):
    history: str


def test_check_sql_judges_an_enum_array_into_a_scalar(
    pool: Pool, tmp_path: Path, pg_url: str
) -> None:
    (tmp_path / "flat.sql").write_text("-- name: flat :one Flat\nSELECT history\nFROM tickets;\n")
    flat = load_queries(tmp_path, models={"Flat": Flat}, echo=False, slow_query_ms=None)
    (problem,) = check_queries(flat, pg_url)
    assert "field history: column is ticket_status[] but Flat.history is str" in problem.message

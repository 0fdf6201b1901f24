"""Named queries on real PostgreSQL and real SQLite: every cardinality, errors, logging, timing."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tradestore import Pool
from tradestore.errors import IntegrityViolation, QueryError, SqlFileError
from tradestore.queries.fields import JsonObject, Money, UtcDatetime
from tradestore.queries.loader import Queries
from tradestore.trading.queries import load_queries

FIXTURES = Path(__file__).parent / "sql_fixtures"
T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


class Fill(BaseModel):
    id: int
    symbol: str
    qty: Money
    price: Money
    ts: UtcDatetime
    is_buy: bool
    meta: JsonObject


def create_schema(pool: Pool) -> None:
    """Apply the fixture DDL of this backend."""
    ddl = (FIXTURES / "schema" / f"{pool.dialect}.sql").read_text()
    with pool.connection() as conn:
        if pool.dialect == "sqlite":
            conn.raw.executescript(ddl)
        else:
            conn.raw.execute(ddl)


@pytest.fixture
def pool(db_url: str) -> Iterator[Pool]:
    with Pool(db_url, min_size=1, max_size=2, timeout=10) as p:
        create_schema(p)
        yield p


@pytest.fixture
def q() -> Queries:
    return load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)


def fill_params(symbol: str | None = "AAPL", qty: str = "1.5", **over: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "symbol": symbol,
        "qty": Decimal(qty),
        "price": Decimal("187.12345678"),
        "ts": T0,
        "is_buy": True,
        "meta": {"venue": "X", "n": 1},
    }
    params.update(over)
    return params


def test_one_returns_model_with_exact_types(pool: Pool, q: Queries) -> None:
    added = q.add_fill(pool, **fill_params())
    assert isinstance(added, Fill)
    got = q.get_fill(pool, id=added.id)
    assert got == added
    assert got.qty == Decimal("1.5")
    assert got.price == Decimal("187.12345678")
    assert got.ts == T0
    assert got.ts.tzinfo == dt.UTC
    assert got.is_buy is True
    assert got.meta == {"venue": "X", "n": 1}
    assert q.get_fill(pool, id=added.id + 1000) is None


def test_many_scalar_exec_execrows(pool: Pool, q: Queries) -> None:
    for symbol in ("AAPL", "MSFT", "AAPL"):
        q.add_fill(pool, **fill_params(symbol))
    assert [f.symbol for f in q.fills_for(pool, symbol=None)] == ["AAPL", "MSFT", "AAPL"]
    assert [f.id for f in q.fills_for(pool, symbol="AAPL")] == [1, 3]
    assert q.fills_for(pool, symbol="NONE") == []
    assert q.count_fills(pool, symbol="AAPL") == 2
    assert q.set_meta(pool, id=2, meta={"k": [1, 2]}) is None
    assert q.get_fill(pool, id=2).meta == {"k": [1, 2]}
    assert q.delete_symbol(pool, symbol="AAPL") == 2
    assert q.delete_symbol(pool, symbol="AAPL") == 0
    assert q.count_fills(pool, symbol="AAPL") == 0


def test_rows_without_model_are_dicts(pool: Pool, q: Queries) -> None:
    q.add_fill(pool, **fill_params("IBM"))
    assert q.fill_rows(pool) == [{"id": 1, "symbol": "IBM"}]


def test_literal_percent_survives(pool: Pool, q: Queries) -> None:
    q.add_fill(pool, **fill_params("BRK.B"))
    q.add_fill(pool, **fill_params("BRK.A"))
    assert q.symbols_ending(pool, suffix=".B") == [{"symbol": "BRK.B"}]


def test_dialect_override_for_lists(pool: Pool, q: Queries) -> None:
    for symbol in ("A", "B", "C"):
        q.add_fill(pool, **fill_params(symbol))
    assert [f.symbol for f in q.fills_by_ids(pool, ids=[1, 3])] == ["A", "C"]


def test_iter_streams_and_releases_connection(pool: Pool, q: Queries) -> None:
    rows = [fill_params(f"S{i}") for i in range(2500)]
    assert q.load_fills(pool, rows) == 2500
    seen = [f.symbol for f in q.stream_fills(pool)]
    assert seen == [f"S{i}" for i in range(2500)]
    assert pool.stats().in_use == 0
    # Stopping early with contextlib.closing gives the connection back at once.
    with contextlib.closing(q.stream_fills(pool)) as stream:
        first = next(stream)
        assert pool.stats().in_use == 1
    assert first.symbol == "S0"
    assert pool.stats().in_use == 0


def test_iter_inside_callers_transaction(pool: Pool, q: Queries) -> None:
    with pool.transaction() as conn:
        q.add_fill(conn, **fill_params("TX"))
        assert [f.symbol for f in q.stream_fills(conn)] == ["TX"]
        assert conn.in_transaction


def test_copyfrom_accepts_models_and_mappings(pool: Pool, q: Queries) -> None:
    added = q.add_fill(pool, **fill_params("SEED"))
    copied = q.load_fills(pool, [added, fill_params("MAP")])
    assert copied == 2
    assert [f.symbol for f in q.fills_for(pool, symbol=None)] == ["SEED", "SEED", "MAP"]


def test_copyfrom_is_all_or_nothing(pool: Pool, q: Queries) -> None:
    rows = [fill_params("OK"), fill_params(None)]
    with pytest.raises(IntegrityViolation) as info:
        q.load_fills(pool, rows)
    assert "load_fills" in str(info.value)
    assert "fills.sql:" in str(info.value)
    assert q.count_fills(pool, symbol="OK") == 0


def test_copyfrom_row_missing_a_parameter(pool: Pool, q: Queries) -> None:
    row = fill_params("X")
    del row["price"]
    with pytest.raises(
        QueryError, match=r"load_fills .*fills\.sql:\d+.*row 1 lacks parameter price"
    ):
        q.load_fills(pool, [row])


def test_copyfrom_names_the_bad_row_past_the_first_chunk(pool: Pool, q: Queries) -> None:
    # Rows are converted a chunk at a time; the row number must still count from the start.
    rows = [fill_params(f"C{i}") for i in range(1, 1501)]
    del rows[1202]["price"]
    with pytest.raises(QueryError, match=r"load_fills .*row 1203 lacks parameter price"):
        q.load_fills(pool, rows)
    assert q.count_fills(pool, symbol="C1") == 0


def test_connection_joins_callers_transaction(pool: Pool, q: Queries) -> None:
    with pytest.raises(RuntimeError), pool.transaction() as conn:
        q.add_fill(conn, **fill_params("GONE"))
        assert q.count_fills(conn, symbol="GONE") == 1
        raise RuntimeError("roll back")
    assert q.count_fills(pool, symbol="GONE") == 0


def test_missing_and_unexpected_parameters(pool: Pool, q: Queries) -> None:
    with pytest.raises(QueryError, match=r"get_fill \(.*fills\.sql:9\): missing parameter id"):
        q.get_fill(pool)
    with pytest.raises(QueryError, match=r"get_fill .*unexpected parameter idd"):
        q.get_fill(pool, id=1, idd=2)


def test_driver_error_names_query_file_line_and_sqlstate(
    pool: Pool, q: Queries, tmp_path: Path
) -> None:
    (tmp_path / "bad.sql").write_text(
        "-- name: broken :many\nSELECT nope\nFROM fills\nWHERE id = :id;\n"
    )
    bad = load_queries(tmp_path, echo=False, slow_query_ms=None)
    with pytest.raises(QueryError) as info:
        bad.broken(pool, id=1)
    message = str(info.value)
    assert "query broken (" in message
    assert "bad.sql:1)" in message
    assert info.value.query == "broken"
    assert info.value.sqlstate in ("42703", "SQLITE_ERROR")
    assert info.value.__cause__ is not None
    # The connection is still usable afterwards.
    assert q.count_fills(pool, symbol="X") == 0


def test_values_never_echoed_in_errors(pool: Pool, q: Queries) -> None:
    secret = "s3cr3t-value"
    with pytest.raises(QueryError) as info:
        q.add_fill(pool, **fill_params(secret, is_buy=None))
    assert secret not in str(info.value)


def test_metrics_and_logging(pool: Pool, caplog: pytest.LogCaptureFixture) -> None:
    loud = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=True, slow_query_ms=0.0001)
    with caplog.at_level(logging.INFO, logger="tradestore.queries"):
        loud.count_fills(pool, symbol="AAPL-SECRET")
    timing = pool.metrics.snapshot()["count_fills"]
    assert timing.count == 1
    assert timing.errors == 0
    assert timing.max_ms > 0
    assert any("slow query count_fills" in r.getMessage() for r in caplog.records)
    assert all("AAPL-SECRET" not in r.getMessage() for r in caplog.records)


def test_echo_logs_every_call(pool: Pool, caplog: pytest.LogCaptureFixture) -> None:
    loud = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=True, slow_query_ms=None)
    with caplog.at_level(logging.INFO, logger="tradestore.queries"):
        loud.count_fills(pool, symbol="Z")
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "query count_fills (" + str(FIXTURES / "basic" / "fills.sql")
    ]


def test_unknown_model_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("-- name: x :one Nope\nSELECT 1 AS a;\n")
    with pytest.raises(SqlFileError, match=r"a\.sql:1: query x: unknown model 'Nope'"):
        load_queries(tmp_path, echo=False, slow_query_ms=None)


def test_duplicate_across_files_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("-- name: x :scalar\nSELECT 1;\n")
    (tmp_path / "b.sql").write_text("\n-- name: x :scalar\nSELECT 2;\n")
    with pytest.raises(
        SqlFileError, match=r"b\.sql:2: duplicate query name 'x' \(first at .*a\.sql:1\)"
    ):
        load_queries(tmp_path, echo=False, slow_query_ms=None)


def test_override_must_keep_signature(tmp_path: Path) -> None:
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "a.sql").write_text("-- name: x :scalar\nSELECT :a;\n")
    (tmp_path / "sqlite" / "a.sql").write_text("-- name: x :scalar\nSELECT :b;\n")
    with pytest.raises(SqlFileError, match=r"sqlite/a\.sql:1: dialect override of x"):
        load_queries(tmp_path, echo=False, slow_query_ms=None)


def test_dialect_only_query(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "postgresql").mkdir()
    (tmp_path / "postgresql" / "a.sql").write_text("-- name: pg_only :scalar\nSELECT 1;\n")
    only = load_queries(tmp_path, echo=False, slow_query_ms=None)
    with Pool(sqlite_url) as p, pytest.raises(QueryError, match="no statement for sqlite"):
        only.pg_only(p)


def test_namespace_behaviour(q: Queries) -> None:
    assert "get_fill" in q
    assert q["get_fill"] is q.get_fill
    assert q.get_fill.__doc__ == "One fill by id."
    assert len(q) == len(list(q))
    with pytest.raises(AttributeError, match="no query named 'nope'"):
        _ = q.nope


def test_builtin_queries_load() -> None:
    builtin = load_queries(echo=False, slow_query_ms=None)
    assert isinstance(builtin, Queries)


def test_positional_parameters_are_refused(pool: Pool, q: Queries) -> None:
    with pytest.raises(QueryError, match=r"get_fill .* takes keyword parameters only"):
        q.get_fill(pool, 1)
    with pytest.raises(QueryError, match=r"load_fills .* is :copyfrom: call it as"):
        q.load_fills(pool, [], symbol="X")


# -- columns that share a name (issue 14, item 1) ------------------------------------------

FILL_COLUMNS = "id, symbol, qty, price, ts, is_buy, meta"


@pytest.mark.parametrize(
    ("spec", "statement", "params", "names"),
    [
        (":one", "SELECT 1 AS a, 2 AS a;", {}, "a"),
        (":many", "SELECT 1 AS a, 2 AS a;", {}, "a"),
        (":iter", "SELECT 1 AS a, 2 AS a;", {}, "a"),
        (":one", "SELECT :x, :y;", {"x": 1, "y": 2}, r"(\?column\?|\?)"),
        (":many", "SELECT id, symbol AS id\nFROM fills;", {}, "id"),
        # With a model the loss is the same: the model would see one of the two.
        (":one Fill", f"SELECT {FILL_COLUMNS}, 'x' AS symbol\nFROM fills;", {}, "symbol"),
        (":many Fill", f"SELECT {FILL_COLUMNS}, id AS qty\nFROM fills;", {}, "qty"),
    ],
)
def test_columns_sharing_a_name_are_refused(
    pool: Pool, tmp_path: Path, spec: str, statement: str, params: dict[str, Any], names: str
) -> None:
    q0 = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    q0.add_fill(pool, **fill_params())
    (tmp_path / "dup.sql").write_text(
        f"-- Two columns, one name.\n\n-- name: dup {spec}\n{statement}\n"
    )
    dup = load_queries(tmp_path, models={"Fill": Fill}, echo=False, slow_query_ms=None)
    with pytest.raises(QueryError) as info:
        result = dup.dup(pool, **params)
        list(result)  # an :iter runs when iterated
    message = str(info.value)
    assert re.search(
        rf"query dup \(.*dup\.sql:3\): the result has several columns named {names};", message
    ), message
    assert "give each column its own name with AS" in message
    assert "did run" not in message  # a SELECT changed nothing
    assert pool.stats().in_use == 0


def test_columns_sharing_a_name_after_a_write_say_it_ran(pool: Pool, tmp_path: Path) -> None:
    (tmp_path / "dup.sql").write_text(
        "-- name: add :one\nINSERT INTO fills (symbol, qty, price, ts, is_buy, meta)\n"
        "VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta)\nRETURNING id, symbol AS id;\n"
    )
    dup = load_queries(tmp_path, echo=False, slow_query_ms=None)
    with pytest.raises(QueryError, match=r"several columns named id; .*\(the statement did run\)"):
        dup.add(pool, **fill_params())


def test_batch_rows_sharing_a_name_are_refused(pool: Pool, tmp_path: Path) -> None:
    (tmp_path / "dup.sql").write_text(
        "-- name: one_each :batchone\nSELECT :a AS v, :b AS v;\n\n"
        "-- name: many_each :batchmany\nSELECT :a AS v, :b AS v;\n"
    )
    dup = load_queries(tmp_path, echo=False, slow_query_ms=None)
    for query in (dup.one_each, dup.many_each):
        with pytest.raises(QueryError, match=r"several columns named v"):
            query(pool, [{"a": 1, "b": 2}])


# -- :execlastid (issue 14, item 4) ----------------------------------------------------------


def test_execlastid_gives_the_new_rows_id(pool: Pool, q: Queries) -> None:
    first = q.add_fill_id(pool, **fill_params("A"))
    second = q.add_fill_id(pool, **fill_params("B"))
    assert (first, second) == (1, 2)
    assert q.get_fill(pool, id=second).symbol == "B"
    with pool.transaction() as tx:
        assert q.add_fill_id(tx, **fill_params("C")) == 3


def test_execlastid_is_none_when_no_row_was_inserted(pool: Pool, q: Queries) -> None:
    # SQLite's lastrowid would still hold the connection's previous insert (id 7 here).
    with pool.connection() as conn:
        assert q.add_fill_if_new(conn, id=7, **fill_params("NEW")) == 7
        assert q.add_fill_if_new(conn, id=7, **fill_params("AGAIN")) is None
    assert q.count_fills(pool, symbol="AGAIN") == 0


def test_execlastid_returning_works_on_both_backends(pool: Pool, tmp_path: Path) -> None:
    (tmp_path / "ids.sql").write_text(
        "-- name: add :execlastid\nINSERT INTO fills (symbol, qty, price, ts, is_buy, meta)\n"
        "VALUES (:symbol, :qty, :price, :ts, :is_buy, :meta)\nRETURNING id;\n"
    )
    ids = load_queries(tmp_path, echo=False, slow_query_ms=None)
    assert [ids.add(pool, **fill_params(s)) for s in "AB"] == [1, 2]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "INSERT INTO t (a)\nVALUES (:a);",
            r"ids\.sql:1: query add :execlastid: PostgreSQL has no last-insert id; end the "
            r"statement with RETURNING id .*override it in postgresql/",
        ),
        (
            "UPDATE t\nSET a = :a\nRETURNING id;",
            r"ids\.sql:1: query add :execlastid gives the id of an inserted row, but the "
            r"statement is UPDATE: use :execrows or :exec",
        ),
    ],
)
def test_execlastid_refused_at_load_where_it_cannot_work(
    tmp_path: Path, statement: str, message: str
) -> None:
    (tmp_path / "ids.sql").write_text(f"-- name: add :execlastid\n{statement}\n")
    with pytest.raises(SqlFileError, match=message):
        load_queries(tmp_path, echo=False, slow_query_ms=None)


def test_execlastid_upsert_needs_returning_on_sqlite(tmp_path: Path) -> None:
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "sqlite" / "ids.sql").write_text(
        "-- name: put :execlastid\nINSERT INTO t (k, v)\nVALUES (:k, :v)\n"
        "ON CONFLICT (k) DO UPDATE SET v = excluded.v;\n"
    )
    with pytest.raises(SqlFileError, match=r"sqlite/ids\.sql:1: .*upsert .*RETURNING id"):
        load_queries(tmp_path, echo=False, slow_query_ms=None)

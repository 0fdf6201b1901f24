"""SQLite value conversion per call (issue 14): the same text as the adapters it replaced, on
every path a value takes to sqlite3, and refusals that name the query and parameter."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_queries import FIXTURES, T0, Fill, create_schema, fill_params
from tradestore import Pool
from tradestore.db.backends.sqlite_values import (
    UNROLL_MAX,
    datetime_text,
    decimal_text,
    json_text,
    picker,
)
from tradestore.queries.loader import Queries

# -- the conversions: exactly the texts of the adapters they replaced ---------------------
from tradestore.trading.queries import load_queries

# -- the conversions: exactly the texts of the adapters they replaced ---------------------


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_text_is_plain_text(value: Decimal) -> None:
    assert decimal_text(value) == format(value, "f")


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_non_finite_decimals_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        decimal_text(Decimal(text))


OFFSETS = st.builds(
    dt.timezone, st.integers(-23 * 60, 23 * 60).map(lambda m: dt.timedelta(minutes=m))
)


@given(st.datetimes(timezones=st.one_of(st.just(dt.UTC), OFFSETS, st.timezones())))
def test_datetime_text_is_fixed_width_utc(value: dt.datetime) -> None:
    try:
        expected = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    except OverflowError:
        with pytest.raises(OverflowError):
            datetime_text(value)
        return
    assert datetime_text(value) == expected
    assert len(expected) == len("2026-01-02T03:04:05.000006+00:00")


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime 2026-01-01T00:00:00 refused"):
        datetime_text(dt.datetime(2026, 1, 1))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON | st.dictionaries(st.text(), st.decimals(allow_nan=False) | st.datetimes()))
def test_json_text_is_compact_json(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    assert json_text(value) == expected


@pytest.mark.parametrize("arity", [1, 2, 5, UNROLL_MAX, UNROLL_MAX + 1, 40])
def test_pickers_of_every_arity(arity: int) -> None:
    order = (*(f"p{i}" for i in range(arity)), "p0")  # a name used twice, as in SQL
    pick = picker(order, "query q (q.sql:1)")
    plain = {f"p{i}": i for i in range(arity)}
    assert pick(plain) == (*range(arity), 0)
    last = f"p{arity - 1}"
    assert pick({**plain, last: Decimal("1E+1")})[arity - 1] == "10"
    with pytest.raises(ValueError, match=rf"query q \(q\.sql:1\): parameter :{last}: naive"):
        pick({**plain, last: dt.datetime(2026, 1, 1)})
    with pytest.raises(KeyError):
        pick({})


# -- every path to sqlite3 converts the same way ------------------------------------------

NY = dt.timezone(dt.timedelta(hours=-5))


class Side(enum.StrEnum):
    BUY = "BUY"


@pytest.fixture
def pool(sqlite_url: str) -> Iterator[Pool]:
    with Pool(sqlite_url, min_size=1, max_size=2) as p:
        create_schema(p)
        yield p


@pytest.fixture
def q() -> Queries:
    return load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)


def stored(pool: Pool) -> list[tuple[Any, ...]]:
    with pool.connection() as conn:
        rows: list[tuple[Any, ...]] = conn.raw.execute(
            "SELECT symbol, qty, price, ts, is_buy, meta FROM fills ORDER BY id"
        ).fetchall()
    return rows


def test_every_path_stores_the_same_text(pool: Pool, q: Queries) -> None:
    params = fill_params(
        "AAPL", qty="1E+3", ts=T0.astimezone(NY), meta={"venue": "X", "legs": [1, 2]}
    )
    q.add_fill(pool, **params)
    q.load_fills(pool, [params])
    columns = ("symbol", "qty", "price", "ts", "is_buy", "meta")
    insert = "INSERT INTO fills (symbol, qty, price, ts, is_buy, meta) VALUES "
    with pool.connection() as conn:
        conn.execute(insert + "(?, ?, ?, ?, ?, ?)", [params[c] for c in columns])
        conn.execute(insert + "(:symbol, :qty, :price, :ts, :is_buy, :meta)", params)
    rows = stored(pool)
    assert (
        rows
        == [("AAPL", "1000", "187.12345678", T0.isoformat(), 1, '{"venue":"X","legs":[1,2]}')] * 4
    )


def test_other_types_reach_sqlite3_untouched(pool: Pool, q: Queries) -> None:
    # A str enum, a bool and a float pass as sqlite3 itself binds them.
    q.add_fill(pool, **fill_params(Side.BUY, is_buy=True))
    with pool.connection() as conn:
        assert conn.execute("SELECT ?, ?, ?", (Side.BUY, True, 1.5)).fetchone() == ("BUY", 1, 1.5)
    assert stored(pool)[0][4] == 1


def test_a_naive_datetime_is_refused_naming_query_and_parameter(pool: Pool, q: Queries) -> None:
    naive = dt.datetime(2026, 1, 1)
    with pytest.raises(
        ValueError, match=r"query add_fill \(.*fills\.sql:\d+\): parameter :ts: naive datetime"
    ):
        q.add_fill(pool, **fill_params(ts=naive))
    with pytest.raises(ValueError, match=r"query get_fill \(.*\): parameter :id: naive datetime"):
        q.get_fill(pool, id=naive)
    with (
        pytest.raises(ValueError, match="statement: parameter 2: naive datetime"),
        pool.connection() as conn,
    ):
        conn.execute("SELECT ?, ?", (1, naive))
    assert stored(pool) == []


def test_a_non_finite_decimal_is_refused(pool: Pool, q: Queries) -> None:
    with pytest.raises(ValueError, match=r"parameter :price: cannot store non-finite Decimal"):
        q.add_fill(pool, **fill_params(price=Decimal("NaN")))
    with (
        pytest.raises(ValueError, match=r"statement: parameter :v: cannot store non-finite"),
        pool.connection() as conn,
    ):
        conn.execute("SELECT :v", {"v": Decimal("-Infinity")})


def test_copyfrom_names_the_row_it_refuses_and_stores_nothing(pool: Pool, q: Queries) -> None:
    rows = [fill_params(f"C{i}") for i in range(1, 1501)]
    rows[1202]["ts"] = dt.datetime(2026, 1, 1)
    with pytest.raises(
        ValueError, match=r"query load_fills \(.*\): row 1203: parameter :ts: naive datetime"
    ):
        q.load_fills(pool, rows)
    assert stored(pool) == []


def test_copyfrom_converts_columns_mixing_types_and_none(pool: Pool, q: Queries) -> None:
    rows = [fill_params("A"), fill_params("B", meta=[1]), fill_params("C", qty="2")]
    rows[1]["price"] = 3  # an int among Decimals
    assert q.load_fills(pool, rows) == 3
    assert [(r[0], r[1], r[2], r[5]) for r in stored(pool)] == [
        ("A", "1.5", "187.12345678", '{"venue":"X","n":1}'),
        ("B", "1.5", "3", "[1]"),
        ("C", "2", "187.12345678", '{"venue":"X","n":1}'),
    ]

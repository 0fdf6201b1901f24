"""check-sql against real databases: good queries pass, each kind of drift is named."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any, Generic, NewType, TypeVar

import pytest
from pydantic import BaseModel, Field

from test_queries import FIXTURES, Fill, create_schema, fill_params
from tradestore import Pool
from tradestore.cli import main
from tradestore.queries.checksql import check_queries, expected_type
from tradestore.queries.fields import JsonObject, Money, UtcDatetime
from tradestore.trading.queries import load_queries

T = TypeVar("T")
UserId = NewType("UserId", int)


class PlainSide(enum.Enum):
    """A plain Enum (not a str subclass) whose values are text: pydantic takes 'BUY'."""

    BUY = "BUY"
    SELL = "SELL"


class Mixed(enum.Enum):
    ONE = 1
    TWO = "two"


class Level(enum.IntEnum):
    LOW = 1


class LooseFill(BaseModel, Generic[T]):
    """Fields that take any value: none may be reported as a type mismatch (issue 14, 7)."""

    id: Any
    symbol: object
    qty: Any | None
    ts: Any | int
    meta: T
    is_buy: Annotated[Any, "anything"]
    side: PlainSide


BROKEN = FIXTURES / "broken" / "broken.sql"


def schema_url(url: str) -> str:
    with Pool(url) as pool:
        create_schema(pool)
    return url


def line_of(name: str) -> int:
    for number, line in enumerate(BROKEN.read_text().splitlines(), start=1):
        if line.startswith(f"-- name: {name} "):
            return number
    raise AssertionError(name)


def test_good_queries_pass_on_both_backends(db_url: str) -> None:
    q = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    assert check_queries(q, schema_url(db_url)) == []


def test_each_problem_names_file_line_and_field(db_url: str) -> None:
    q = load_queries(FIXTURES / "broken", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    problems = check_queries(q, schema_url(db_url))
    dialect = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    text = "\n".join(str(p) for p in problems)
    prefix = f"{BROKEN}:"

    def has(name: str, fragment: str) -> bool:
        start = f"{prefix}{line_of(name)}: query {name} [{dialect}]: "
        return any(s.startswith(start) and fragment in s for s in text.splitlines())

    assert has("missing_field", "field meta of Fill is missing from the result"), text
    assert has("extra_column", "column bonus is not a field of Fill"), text
    assert has("bad_syntax", "does not compile"), text
    assert has("unknown_column", "does not compile"), text
    # Columns sharing a name: a row (dict or model) keeps one, so the call is refused.
    assert has("same_names", "several result columns are named a: a row keeps one"), text
    assert has("same_names_model", "several result columns are named qty"), text
    if dialect == "postgresql":
        assert has("mistyped_field", "field qty: column is text but Fill.qty is Decimal"), text
        assert has("batch_mistyped", "field qty: column is text but Fill.qty is Decimal"), text
        assert has("text_last_id", ":execlastid returns text, not an integer id"), text
        assert has("two_columns", ":scalar must return exactly one column, returns 2"), text
        assert has("unknown_column", "[42703]"), text
    assert {p.query for p in problems} >= {"missing_field", "extra_column", "bad_syntax"}


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (Money, "Decimal"),
        (UtcDatetime, "datetime"),
        (JsonObject, "dict"),
        (int | None, "int"),
        (PlainSide, "str"),
        (Level, "int"),
        (UserId, "int"),
        (tuple[str, ...], "tuple"),
        (list[PlainSide], "list"),
    ],
)
def test_expected_type(annotation: object, expected: str) -> None:
    found = expected_type(annotation)
    assert found is not None
    assert found.__name__ == expected


@pytest.mark.parametrize(
    "annotation",
    [Any, object, Any | None, Any | int, T, Annotated[Any, "x"], Mixed, int | str],
    ids=repr,
)
def test_any_value_fields_want_no_particular_type(annotation: object) -> None:
    assert expected_type(annotation) is None


def test_fields_taking_any_value_are_not_judged(db_url: str) -> None:
    url = schema_url(db_url)
    loose = load_queries(
        FIXTURES / "loose", models={"LooseFill": LooseFill}, echo=False, slow_query_ms=None
    )
    assert check_queries(loose, url) == []
    # ... and the call they vouch for works.
    basic = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    with Pool(url) as pool:
        added = basic.add_fill(pool, **fill_params())
        row = loose.loose_fill(pool, id=added.id)
    assert isinstance(row, LooseFill)
    assert (row.id, row.symbol, row.side) == (added.id, "AAPL", PlainSide.BUY)
    assert main(["check-sql", str(FIXTURES / "loose"), "--models", __name__, "--url", url]) == 0


def test_cli_check_sql_exit_codes(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = schema_url(sqlite_url)
    good = [str(FIXTURES / "basic"), "--models", "test_queries", "--url", url]
    assert main(["check-sql", *good]) == 0
    bad = [str(FIXTURES / "broken"), "--models", "test_queries", "--url", url]
    assert main(["check-sql", *bad]) == 1
    assert "missing_field" in capsys.readouterr().err


class NotedFill(BaseModel):
    """A row model whose last two fields have defaults: one plain, one from a factory."""

    id: int
    symbol: str
    note: str | None = None
    meta: JsonObject = Field(default_factory=dict)


def test_a_field_with_a_default_missing_from_the_select_is_reported(
    db_url: str, tmp_path: Path
) -> None:
    # A default must not excuse a column the SELECT lost (a DBA's rename would turn into a
    # silent None for every row): each defaulted field is named, on both backends.
    (tmp_path / "noted.sql").write_text(
        "-- name: noted_fill :one NotedFill\n"
        "-- A fill without its note and meta columns.\n"
        "SELECT id, symbol\n"
        "FROM fills\n"
        "WHERE id = :id;\n"
    )
    q = load_queries(tmp_path, models={"NotedFill": NotedFill}, echo=False, slow_query_ms=None)
    problems = check_queries(q, schema_url(db_url))
    assert sorted(p.message for p in problems) == [
        "field meta of NotedFill is missing from the result",
        "field note of NotedFill is missing from the result",
    ], problems
    assert {(p.query, p.where) for p in problems} == {("noted_fill", f"{tmp_path / 'noted.sql'}:1")}

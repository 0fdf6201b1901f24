"""`check-sql`: every named query against a migrated database, before a bot finds out.

For each query and each backend it has a statement for: the statement compiles; on
PostgreSQL every parameter gets a type; a :scalar returns one column, an :execlastid one
integer column; no two result columns of a row query share a name (a row keeps one value per
name); a row model's fields and the result columns match by name (missing or extra is an
error) and, on PostgreSQL, by type (``numeric`` for Decimal, ``timestamptz`` for datetime,
...). A field that takes any value (``Any``, ``object``, a bare TypeVar, a union of several
types) is not judged by type. A column of a type psycopg has no loader for is judged as what
the kit's connections hand back: a list of str for an array of an enum, text for anything
else (an array of a composite type too). The :batch family is checked like the single-call
cardinalities. Every problem names file:line, the query, the backend and the field or
parameter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import AwareDatetime, BaseModel, NaiveDatetime

from tradestore.db.pool import Pool
from tradestore.queries.columns import repeated
from tradestore.queries.describe import (
    PG_ARRAYS,
    PG_TYPES,
    PG_UNKNOWN,
    Description,
    PgType,
    describe_pg,
    describe_pg_types,
    describe_sqlite,
    pg_type_name,
)
from tradestore.queries.loader import Queries
from tradestore.queries.query import Query
from tradestore.queries.sqlfile import ROW_CARDINALITIES, Cardinality

#: PostgreSQL integer types: what an :execlastid's RETURNING column must be.
_PG_INTEGERS = frozenset({20, 21, 23})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one query on one backend."""

    where: str
    query: str
    dialect: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: query {self.query} [{self.dialect}]: {self.message}"


def expected_type(annotation: Any) -> type[Any] | None:
    """The plain Python type a field wants, or None when any column type may do."""
    if annotation is Any or annotation is object:
        return None  # (on Python 3.11 typing.Any is a class: the check below would take it)
    if isinstance(annotation, typing.NewType):
        return expected_type(annotation.__supertype__)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return expected_type(args[0]) if len(args) == 1 else None
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return type(values[0]) if values else None
    if origin is typing.Annotated:
        return expected_type(typing.get_args(annotation)[0])
    if origin in (dict, list, tuple):
        return typing.cast(type[Any], origin)
    if annotation in (AwareDatetime, NaiveDatetime):
        return dt.datetime
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return _enum_value_type(annotation)
        if issubclass(annotation, BaseModel):
            return dict
        return annotation
    return None


def _enum_value_type(cls: type[enum.Enum]) -> type[Any] | None:
    """What a column must hold for pydantic to find the member: its values' type (str for a
    str enum, int for an IntEnum, the values' one type for a plain Enum; None if mixed)."""
    for base in (str, int):
        if issubclass(cls, base):
            return base
    kinds = {type(member.value) for member in cls}
    return kinds.pop() if len(kinds) == 1 else None


def _compatible(want: type[Any], oid: int, types: typing.Mapping[int, PgType]) -> str | None:
    """None when a column of type `oid` validates into `want`, else why not."""
    if oid in PG_ARRAYS:
        return None if want in (list, tuple) else "an array"
    known = PG_TYPES.get(oid)
    if known is None:
        return _compatible_other(want, types.get(oid))
    name, got = known
    if oid == 1114 and want is dt.datetime:
        return "timestamp without time zone (use timestamptz: the kit only returns aware UTC)"
    if want is list and got is dict:
        return None  # json(b) may hold an array
    if want is decimal.Decimal and got in (decimal.Decimal, int):
        return None
    if want is float and got in (float, int, decimal.Decimal):
        return None
    if want is got or (want is not bool and issubclass(got, want)):
        return None
    return name


def _compatible_other(want: type[Any], other: PgType | None) -> str | None:
    """The same verdict for a type outside PG_TYPES/PG_ARRAYS (see `describe_pg_types`)."""
    if other is None or other.loads_as is None:
        return None  # psycopg has a loader of its own (a range, inet, ...): not judged
    if other.loads_as is list:
        return None if want in (list, tuple) else "an array of an enum: a list of str"
    if want is str:
        return None
    reason = f"psycopg has no loader for {other.name}: it arrives as text"
    if other.name.endswith("[]"):
        reason += "; the kit loads arrays of enums and of built-in types only"
    return reason


def _check_model(
    query: Query, model: type[BaseModel], desc: Description, dialect: str
) -> list[str]:
    messages: list[str] = []
    fields = model.model_fields
    seen: set[str] = set()
    for column, oid in desc.columns:
        seen.add(column)
        field = fields.get(column)
        if field is None:
            messages.append(f"column {column} is not a field of {model.__name__}")
            continue
        want = expected_type(field.annotation)
        if dialect == "postgresql" and want is not None:
            why = _compatible(want, oid, desc.types)
            if why is not None:
                column_type = pg_type_name(oid, desc.types)
                messages.append(
                    f"field {column}: column is {column_type} but "
                    f"{model.__name__}.{column} is {want.__name__}"
                    + ("" if why == column_type else f" ({why})")
                )
    # Strict even for fields with defaults: a renamed column must not turn into a silent None.
    for name in fields:
        if name not in seen:
            messages.append(f"field {name} of {model.__name__} is missing from the result")
    return messages


def check_description(query: Query, desc: Description, dialect: str) -> list[str]:
    """Problems of one described statement (messages without the file:line prefix)."""
    if desc.error is not None:
        return [desc.error]
    messages: list[str] = []
    if dialect == "postgresql":
        for name, oid in desc.params.items():
            if oid in (0, PG_UNKNOWN):
                messages.append(
                    f"parameter :{name} has no type on PostgreSQL; write CAST(:{name} AS type)"
                )
    card = query.cardinality
    columns = desc.columns
    if card in (Cardinality.SCALAR, Cardinality.EXECLASTID) and dialect == "postgresql":
        if len(columns) != 1:
            messages.append(f":{card.value} must return exactly one column, returns {len(columns)}")
        elif card is Cardinality.EXECLASTID and columns[0][1] not in _PG_INTEGERS:
            messages.append(
                f":execlastid returns {pg_type_name(columns[0][1])}, not an integer id; "
                "use :scalar for other keys"
            )
    if card in ROW_CARDINALITIES:
        twice = repeated([name for name, _ in columns])
        if twice:
            messages.append(
                f"several result columns are named {', '.join(twice)}: a row keeps one value "
                "per name (the call is refused); give each its own name with AS"
            )
    rows_known = dialect == "postgresql" or bool(columns)
    if query.model is not None and rows_known:
        messages.extend(_check_model(query, query.model, desc, dialect))
    return messages


def check_queries(queries: Queries, url: str) -> list[Problem]:
    """Check every query that has a statement for `url`'s backend against that database."""
    problems: list[Problem] = []
    with Pool(url, min_size=1, max_size=1) as pool, pool.connection() as conn:
        dialect = pool.dialect
        for query in queries:
            variant = query.variants.get(dialect)
            if variant is None:
                continue
            block = variant.block
            if dialect == "postgresql":
                desc = describe_pg(conn.raw.pgconn, block)
                types = describe_pg_types(conn.raw, (oid for _, oid in desc.columns))
                desc = dataclasses.replace(desc, types=types)
            else:
                desc = describe_sqlite(conn.raw, block)
            problems.extend(
                Problem(block.where, query.name, dialect, message)
                for message in check_description(query, desc, dialect)
            )
    return problems

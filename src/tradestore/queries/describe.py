"""Ask the databases what a named statement means, without running it.

PostgreSQL: libpq ``PQprepare`` + ``PQdescribePrepared`` (through psycopg's `pgconn`) give the
parameter and result column type OIDs. SQLite: ``EXPLAIN`` compiles the statement; result
column names come from running a SELECT inside a transaction that is rolled back.
Used by `check-sql` and by the stub generator; the query layer never imports this.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tradestore.queries.sqlfile import SqlBlock, render

#: PostgreSQL type OID -> (type name, Python type the driver returns).
PG_TYPES: dict[int, tuple[str, type[Any]]] = {
    16: ("boolean", bool),
    17: ("bytea", bytes),
    19: ("name", str),
    20: ("bigint", int),
    21: ("smallint", int),
    23: ("integer", int),
    25: ("text", str),
    114: ("json", dict),
    700: ("real", float),
    701: ("double precision", float),
    1042: ("character", str),
    1043: ("character varying", str),
    1082: ("date", dt.date),
    1083: ("time", dt.time),
    1114: ("timestamp", dt.datetime),
    1184: ("timestamptz", dt.datetime),
    1186: ("interval", dt.timedelta),
    1700: ("numeric", decimal.Decimal),
    2950: ("uuid", uuid.UUID),
    3802: ("jsonb", dict),
}
#: Array OIDs -> element OID.
PG_ARRAYS: dict[int, int] = {
    1000: 16,
    1005: 21,
    1007: 23,
    1009: 25,
    1015: 1043,
    1016: 20,
    1021: 700,
    1022: 701,
    1185: 1184,
    1231: 1700,
    2951: 2950,
}
PG_UNKNOWN = 705


def pg_type_name(oid: int, types: Mapping[int, PgType] | None = None) -> str:
    if oid in PG_ARRAYS:
        return pg_type_name(PG_ARRAYS[oid]) + "[]"
    known = PG_TYPES.get(oid)
    if known is not None:
        return known[0]
    other = types.get(oid) if types else None
    return other.name if other is not None else f"oid {oid}"


@dataclass(frozen=True)
class PgType:
    """A result type outside `PG_TYPES`/`PG_ARRAYS`, as the kit's connections load it.

    `loads_as` is ``list`` for an array of an enum (the kit loads it as a list of str), ``str``
    for a type psycopg has no loader for (an enum: its label; an array of a composite type:
    the array literal), None when psycopg has a loader of its own (not judged).
    """

    name: str
    loads_as: type[Any] | None


@dataclass(frozen=True)
class Description:
    """What a database says about one statement; `error` set when it does not compile."""

    params: dict[str, int]
    columns: tuple[tuple[str, int], ...]
    error: str | None = None
    #: Result column types outside PG_TYPES/PG_ARRAYS (see `describe_pg_types`).
    types: Mapping[int, PgType] = field(default_factory=dict)


def numbered(block: SqlBlock) -> tuple[str, list[str]]:
    """The statement with ``$1..$n`` (one number per distinct name), and the names in order."""
    out: list[str] = []
    order: list[str] = []
    pos = 0
    for p in block.params:
        if p.name not in order:
            order.append(p.name)
        out.append(block.sql[pos : p.start])
        out.append(f"${order.index(p.name) + 1}")
        pos = p.end
    out.append(block.sql[pos:])
    return "".join(out), order


def describe_pg(pgconn: Any, block: SqlBlock) -> Description:
    """Prepare `block` (unnamed statement) on a psycopg `pgconn` and describe it."""
    from psycopg import pq  # noqa: PLC0415  (only tooling needs libpq directly)

    text, order = numbered(block)
    result = pgconn.prepare(b"", text.encode())
    if result.status != pq.ExecStatus.COMMAND_OK:
        message = result.error_message.decode(errors="replace").strip()
        code = result.error_field(pq.DiagnosticField.SQLSTATE)
        state = f" [{code.decode()}]" if code else ""
        return Description({}, (), f"does not compile{state}: {message}")
    desc = pgconn.describe_prepared(b"")
    params = {order[i]: desc.param_type(i) for i in range(desc.nparams)}
    columns = tuple((desc.fname(i).decode(), desc.ftype(i)) for i in range(desc.nfields))
    return Description(params, columns)


_TYPE_FACTS = (
    b"SELECT a.oid, format_type(a.oid, NULL), e.typtype = 'e' "
    b"FROM pg_catalog.pg_type AS a "
    b"LEFT JOIN pg_catalog.pg_type AS e ON e.typarray = a.oid "
    b"WHERE a.oid = ANY($1::oid[])"
)


def describe_pg_types(raw: Any, oids: Iterable[int]) -> dict[int, PgType]:
    """How a kit connection `raw` (psycopg) loads each of `oids` outside PG_TYPES/PG_ARRAYS."""
    from psycopg import pq  # noqa: PLC0415

    unknown = sorted({oid for oid in oids if oid not in PG_TYPES and oid not in PG_ARRAYS})
    if not unknown:
        return {}
    literal = "{" + ",".join(map(str, unknown)) + "}"
    result = raw.pgconn.exec_params(_TYPE_FACTS, [literal.encode()])
    if result.status != pq.ExecStatus.TUPLES_OK:
        return {}
    found: dict[int, PgType] = {}
    for row in range(result.ntuples):
        oid = int(result.get_value(row, 0))
        name = result.get_value(row, 1).decode()
        own_loader = raw.adapters.get_loader(oid, pq.Format.TEXT) is not None
        loads_as = None if own_loader else (list if result.get_value(row, 2) == b"t" else str)
        found[oid] = PgType(name, loads_as)
    return found


def describe_sqlite(raw: Any, block: SqlBlock) -> Description:
    """Compile `block` on a sqlite3 connection; SELECT/WITH column names by a rolled-back run."""
    import sqlite3  # noqa: PLC0415

    sql = render(block.sql, block.params, "?", escape_percent=False)
    nulls = (None,) * len(block.params)
    try:
        raw.execute("EXPLAIN " + sql, nulls).fetchall()
    except sqlite3.Error as exc:
        return Description({}, (), f"does not compile: {exc}")
    columns: tuple[tuple[str, int], ...] = ()
    if block.sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH", "VALUES"):
        # NULL suits most parameters; LIMIT/OFFSET need a number. The run is rolled back.
        for values in (nulls, (0,) * len(block.params)):
            raw.execute("BEGIN")
            try:
                cur = raw.execute(sql, values)
                columns = tuple((d[0], 0) for d in cur.description or ())
                cur.close()
                break
            except sqlite3.Error:
                continue  # compiled fine (EXPLAIN); names stay unknown if no guess runs
            finally:
                raw.execute("ROLLBACK")
    return Description(dict.fromkeys(block.param_names, 0), columns)

"""Result types psycopg has no loader for: arrays of enums come back as ``list[str]``.

psycopg loads a column of a type it does not know as text. For an enum that is right (the
label, a str, which a pydantic ``str`` or enum field takes); for an array of an enum
(``status[]``) it is the array literal ``'{open,closed}'``, which a ``list[str]`` field
refuses. Registering the enums when a connection opens (psycopg's ``TypeInfo`` /
``register_enum``) would cost a catalog query per connection and still miss every type created
after it: a pool commonly connects before the migration that creates them, and another
process may migrate while the bot runs.

So each kit connection gets, in place of psycopg's loader of unknown types, `UnknownTypes`:
psycopg calls it once per unknown result column of each statement, and it answers from a cache
of the pool's database; the first time a type shows up, one catalog query (outside any
transaction, or inside a savepoint) says whether it is an array of an enum, and that answer is
kept for the pool's life. An enum array is loaded by psycopg's own ``text[]`` loader, anything
else by its text loader, exactly as before. Calls whose results hold only known types never
reach this code. check-sql reports the unknown types this cannot load (an array of a composite
type, say) when a model expects a list.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.abc import AdaptContext
from psycopg.adapt import Loader
from psycopg.pq import ExecStatus, Format, PipelineStatus, TransactionStatus

_INVALID_OID = 0  # psycopg's key for "the loader of a type without one of its own"
_TEXT_ARRAY_OID = 1009
_OID_OID = 26
_ENUM_ARRAY = (
    b"SELECT 1 FROM pg_catalog.pg_type AS a "
    b"JOIN pg_catalog.pg_type AS e ON e.typarray = a.oid AND e.typtype = 'e' "
    b"WHERE a.oid = $1"
)
_SAVEPOINT = b"SAVEPOINT tradestore_type_lookup"
_RELEASE = b"RELEASE SAVEPOINT tradestore_type_lookup"
_ROLLBACK = b"ROLLBACK TO SAVEPOINT tradestore_type_lookup"


def _ask_enum_array(pgconn: Any, oid: int) -> bool | None:
    """Whether `oid` is an array of an enum; None when the catalog could not be asked now."""
    try:
        result = pgconn.exec_params(_ENUM_ARRAY, [b"%d" % oid], [_OID_OID])
    except psycopg.Error:
        return None
    if result.status != ExecStatus.TUPLES_OK:
        return None
    return bool(result.ntuples)


def is_enum_array(pgconn: Any, oid: int) -> bool | None:
    """Ask the catalog on `pgconn` whether `oid` is an array of an enum, leaving the session as
    it was; None when it cannot be asked now (a statement or COPY in progress, pipeline mode,
    a failed transaction): the caller loads the column as text and asks again next time."""
    if pgconn.pipeline_status != PipelineStatus.OFF:
        return None
    status = pgconn.transaction_status
    if status == TransactionStatus.IDLE:
        return _ask_enum_array(pgconn, oid)
    if status != TransactionStatus.INTRANS:
        return None
    # Inside the caller's transaction: a savepoint keeps a failed lookup from aborting it.
    if pgconn.exec_(_SAVEPOINT).status != ExecStatus.COMMAND_OK:
        return None
    answer = _ask_enum_array(pgconn, oid)
    if answer is None:
        pgconn.exec_(_ROLLBACK)
    pgconn.exec_(_RELEASE)
    return answer


def unknown_types_loader(known: dict[int, bool]) -> type[Loader]:
    """The loader class for one pool's connections; `known` caches the catalog's answers
    (oid -> is an array of an enum) for the pool's database (OIDs are per database)."""
    text: Any = psycopg.adapters.get_loader(_INVALID_OID, Format.TEXT)
    text_array: Any = psycopg.adapters.get_loader(_TEXT_ARRAY_OID, Format.TEXT)

    class UnknownTypes(Loader):
        """Not a loader itself: hands psycopg the one that fits the column's type."""

        def __new__(cls, oid: int, context: AdaptContext | None = None) -> Any:
            enum_array = known.get(oid)
            if enum_array is None:
                connection = context.connection if context is not None else None
                if connection is not None:
                    enum_array = is_enum_array(connection.pgconn, oid)
                    if enum_array is not None:
                        known[oid] = enum_array
            return (text_array if enum_array else text)(oid, context)

    return UnknownTypes


def install_unknown_types(
    raw: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], loader: type[Loader]
) -> None:
    """Give one connection the pool's loader of unknown types (text results)."""
    raw.adapters.register_loader(_INVALID_OID, loader)

"""How the kit's Python values reach sqlite3: converted per call, never through sqlite3's registry.

sqlite3's adapters (``sqlite3.register_adapter``) are process-global: registering the kit's
there changed every other sqlite3 connection of the host process, another library's
included. So the kit converts its values itself, on the way of each call's values to its own
connections, and leaves sqlite3's registries as it found them:

- named queries: `picker` builds, once per query at load, the function that takes a call's
  values in placeholder order and converts what needs it (every cardinality goes through it);
- :copyfrom: `convert_rows`, column by column over a chunk of rows;
- `Connection.execute` (ad hoc SQL): `convert_params`.

What is converted, chosen by exact type as sqlite3's own adapter lookup does (a subclass goes
to sqlite3 unchanged, as before):

- ``Decimal`` -> plain decimal text (``'1234.50000000'``, never ``'1.2345E+3'``): an exact
  round trip; NaN and infinities are refused.
- ``datetime`` -> fixed-width UTC text with microseconds (``'2026-01-02T03:04:05.000006+00:00'``),
  so text order is time order; naive datetimes are refused.
- ``date`` -> ``'YYYY-MM-DD'``.
- ``dict``, ``list`` -> compact JSON text (a list parameter works with ``json_each``).

Everything else (int, float, str, bytes, None, bool, str enums, ...) reaches sqlite3 untouched;
for those the check costs one set lookup per value (see benchmarks/sqlite_values.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

UTC = dt.UTC
Picker = Callable[[Mapping[str, Any]], tuple[Any, ...]]

# %-formatting the fields is faster than datetime.isoformat() (which also drops the
# microseconds when they are zero: the text would no longer be fixed-width).
_UTC_TEXT = "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00"


def decimal_text(value: Decimal) -> str:
    """Plain (never scientific) text of a finite Decimal."""
    if not value.is_finite():
        raise ValueError(f"cannot store non-finite Decimal {value} (NaN or infinity)")
    text = str(value)  # three times faster than format(value, "f"), and the same text ...
    if "E" in text or "e" in text:  # ... unless str() chose an exponent
        return format(value, "f")
    return text


def datetime_text(value: dt.datetime) -> str:
    """Fixed-width UTC text of an aware datetime; naive datetimes are refused."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: pass a timezone-aware datetime "
                "(e.g. datetime.now(UTC)) so the stored time is unambiguous"
            )
        value = value.astimezone(UTC)
    return _UTC_TEXT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


# The same text as json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str),
# without building a new encoder per call (json.dumps does when given any option).
json_text: Callable[[Any], str] = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, default=str
).encode

#: Exact type -> what the kit sends to sqlite3 instead.
CONVERTERS: dict[type[Any], Callable[[Any], Any]] = {
    Decimal: decimal_text,
    dt.datetime: datetime_text,
    dt.date: dt.date.isoformat,
    dict: json_text,
    list: json_text,
}
_CONVERTED = frozenset(CONVERTERS)


def to_sqlite(value: Any) -> Any:
    """One value as the kit sends it to sqlite3."""
    convert = CONVERTERS.get(type(value))
    return value if convert is None else convert(value)


def _no_values(params: Mapping[str, Any]) -> tuple[Any, ...]:
    return ()


#: Up to this many placeholders a picker is unrolled code (see `_unrolled`).
UNROLL_MAX = 16


@functools.cache
def _unrolled(arity: int) -> Callable[..., Picker]:
    """A factory of pickers for `arity` placeholders, as straight-line code.

    Reading each value into a local and testing ``type(v) in converters`` costs less than
    ``itemgetter`` + ``isdisjoint(map(type, ...))``, and converting in the same frame saves two
    calls a value over a generic loop (measured in benchmarks/sqlite_values.py). The source is
    the same for every query of one arity: the keys are arguments of the factory, so no name
    from a SQL file is ever part of generated code.
    """
    slots = range(arity)
    keys = ", ".join(f"k{i}" for i in slots)
    values = "".join(f"v{i}, " for i in slots)
    converted = "".join(f"c[type(v{i})](v{i}) if type(v{i}) in c else v{i}, " for i in slots)
    source = "\n".join(
        [
            f"def make({keys}, c, refuse):",
            "    def pick(params):",
            *(f"        v{i} = params[k{i}]" for i in slots),
            "        if " + " or ".join(f"type(v{i}) in c" for i in slots) + ":",
            "            try:",
            f"                return ({converted})",
            "            except ValueError:",
            f"                raise refuse(({values})) from None",
            f"        return ({values})",
            "    return pick",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<tradestore sqlite picker of {arity}>", "exec"), namespace)  # noqa: S102
    make: Callable[..., Picker] = namespace["make"]
    return make


def picker(order: tuple[str, ...], what: str) -> Picker:
    """A call's values in placeholder order, converted for sqlite3; `what` names the query in
    the message of a value that cannot be stored (naive datetime, non-finite Decimal)."""
    if not order:
        return _no_values
    labels = [f":{name}" for name in order]

    def refuse(values: tuple[Any, ...]) -> ValueError:
        return _refusal(what, labels, values)

    if len(order) <= UNROLL_MAX:
        return _unrolled(len(order))(*order, CONVERTERS, refuse)
    getter: Callable[[Mapping[str, Any]], tuple[Any, ...]] = itemgetter(*order)
    converted = _CONVERTED

    def pick(params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = getter(params)
        if converted.isdisjoint(map(type, values)):  # in C: no Python loop when none converts
            return values
        try:
            return tuple(map(to_sqlite, values))
        except ValueError:
            raise refuse(values) from None

    return pick


def _refusal(what: str, labels: Sequence[str], values: Iterable[Any]) -> ValueError:
    """The refusal of the first value that cannot be converted, naming its parameter."""
    for label, value in zip(labels, values, strict=True):
        try:
            to_sqlite(value)
        except ValueError as exc:
            return ValueError(f"{what}: parameter {label}: {exc}")
    return ValueError(f"{what}: a parameter cannot be stored")  # pragma: no cover


def convert_params(params: Sequence[Any] | Mapping[str, Any]) -> Any:
    """Ad hoc statement parameters (a sequence for ``?``, a mapping for ``:name``), converted."""
    values: Sequence[Any]
    if isinstance(params, Mapping):
        values = list(params.values())
        if _CONVERTED.isdisjoint(map(type, values)):
            return params
    else:
        values = params if isinstance(params, tuple | list) else list(params)
        if _CONVERTED.isdisjoint(map(type, values)):
            return values
    try:
        converted = list(map(to_sqlite, values))
    except ValueError:
        labels = (
            [f":{name}" for name in params]
            if isinstance(params, Mapping)
            else [str(number) for number in range(1, len(values) + 1)]
        )
        raise _refusal("statement", labels, values) from None
    if isinstance(params, Mapping):
        return dict(zip(params, converted, strict=True))
    return converted


def convert_rows(
    rows: list[tuple[Any, ...]], names: Sequence[str], what: str, first: int = 1
) -> list[tuple[Any, ...]]:
    """A chunk of value tuples for ``executemany``, converted column by column; `names` are
    the columns' parameters and `first` the number of the chunk's first row (for messages).

    A column without a value to convert costs one pass of ``map(type, ...)`` in C; a column of
    one convertible type (all Decimal, say) maps its converter directly, with no dispatch.
    """
    if not rows:
        return rows
    columns: list[Iterable[Any]] = list(zip(*rows, strict=True))
    changed = False
    for index, column in enumerate(columns):
        kinds = set(map(type, column))
        if kinds.isdisjoint(_CONVERTED):
            continue
        changed = True
        convert = CONVERTERS.get(kinds.pop()) if len(kinds) == 1 else None
        columns[index] = map(convert or to_sqlite, column)
    if not changed:
        return rows
    try:
        return list(zip(*columns, strict=True))
    except ValueError:
        labels = [f":{name}" for name in names]
        for number, row in enumerate(rows, start=first):
            if not _CONVERTED.isdisjoint(map(type, row)):
                try:
                    list(map(to_sqlite, row))
                except ValueError:
                    raise _refusal(f"{what}: row {number}", labels, row) from None
        raise  # pragma: no cover  (the failing row is always found above)

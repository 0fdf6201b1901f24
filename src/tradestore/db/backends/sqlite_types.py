"""Exact decimal arithmetic and order inside SQLite: functions and a collation per connection.

SQLite has no decimal type and a REAL column would round money, so ``Decimal`` is stored as
its plain decimal text (``'1234.50000000'``, see `sqlite_values`) in columns declared ``TEXT``
(TEXT affinity keeps the text untouched). Numeric comparison, ordering and arithmetic in SQL
go through the functions and collation `install_functions` gives each kit connection. They
carry the names and meaning of SQLite's own ``decimal`` extension (``decimal_add``,
``decimal_sub``, ``decimal_mul``, ``decimal_sum``, ``decimal_cmp``, collation ``decimal``), so
a DBA's sqlite3 shell, which bundles that extension, runs the same views and reports.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from tradestore.db.backends.sqlite_values import decimal_text


def _dec(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None


def _binary(op: str) -> Any:
    def apply(a: object, b: object) -> str | None:
        x, y = _dec(a), _dec(b)
        if x is None or y is None:
            return None
        if op == "+":
            return decimal_text(x + y)
        if op == "-":
            return decimal_text(x - y)
        return decimal_text(x * y)

    return apply


def decimal_cmp(a: object, b: object) -> int | None:
    x, y = _dec(a), _dec(b)
    if x is None or y is None:
        return None
    return (x > y) - (x < y)


def _collate(a: str, b: str) -> int:
    return decimal_cmp(a, b) or 0


class _DecimalSum:
    """Exact SUM over decimal text; NULL when every input is NULL, like SQL SUM."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: object) -> None:
        x = _dec(value)
        if x is not None:
            self.total = x if self.total is None else self.total + x

    def finalize(self) -> str | None:
        return None if self.total is None else decimal_text(self.total)


def install_functions(conn: sqlite3.Connection) -> None:
    """Give one connection the decimal functions and collation (deterministic: usable in
    indexes, views and CHECK constraints)."""
    conn.create_function(
        "decimal",
        1,
        lambda v: None if v is None else decimal_text(_dec(v)),  # type: ignore[arg-type]
        deterministic=True,
    )
    conn.create_function("decimal_add", 2, _binary("+"), deterministic=True)
    conn.create_function("decimal_sub", 2, _binary("-"), deterministic=True)
    conn.create_function("decimal_mul", 2, _binary("*"), deterministic=True)
    conn.create_function("decimal_cmp", 2, decimal_cmp, deterministic=True)
    conn.create_aggregate("decimal_sum", 1, cast("Any", _DecimalSum))
    conn.create_collation("decimal", _collate)

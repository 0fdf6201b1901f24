"""Result columns that share a name: refused, because a row dict (or model) keeps only one.

``SELECT 1 AS a, 2 AS a`` or ``SELECT :x, :y`` (both named ``?column?`` on PostgreSQL) would
build ``{"a": 2}``: one value silently gone. The runners check where the column names are
read, once per result; a single-row result is checked by comparing the row dict's length with
the row's (the dict is built anyway), so a point select pays one length comparison.
`check-sql` reports the same problem without running the query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tradestore.errors import QueryError
from tradestore.queries.sqlfile import SqlBlock


def repeated(names: Sequence[str]) -> list[str]:
    """The names that occur more than once, in order of first occurrence."""
    return [name for name, count in Counter(names).items() if count > 1]


def duplicate_columns(block: SqlBlock, names: Sequence[str]) -> QueryError:
    """The error for a result whose column `names` repeat: which ones, and the fix."""
    twice = ", ".join(repeated(names))
    # Found once the result is back: a write has happened by then, so say so.
    ran = "" if block.sql.lstrip().upper().startswith("SELECT") else " (the statement did run)"
    return QueryError(
        f"query {block.name} ({block.where}): the result has several columns named {twice}; "
        f"a row keeps one value per name, so give each column its own name with AS{ran}",
        query=block.name,
    )


def unique(block: SqlBlock, names: list[str]) -> list[str]:
    """`names` when no two are equal, else the `duplicate_columns` error (once per result)."""
    if len(set(names)) != len(names):
        raise duplicate_columns(block, names)
    return names

""":execlastid (sqlc's word): the id of the row an INSERT just added, or None when it added none.

SQLite has ``cursor.lastrowid``. PostgreSQL has no such thing (psycopg's cursor has no
lastrowid), so there the statement must name its id with ``RETURNING id``: a PostgreSQL
statement without RETURNING is refused at load time with that fix. A statement with
RETURNING gives its first column on both backends, so ``INSERT ... RETURNING id`` is the
portable form; SQLite's lastrowid serves statements without one.

SQLite's last insert id is per connection and is left unchanged by an INSERT that inserts
nothing (``OR IGNORE``, ``ON CONFLICT DO NOTHING``) or that turns into an update (``ON
CONFLICT DO UPDATE``): the first case is caught at run time (no row changed: None), the
second at load time (an upsert must say RETURNING id).

This module holds the load-time checks; SQLite's runner is `runners_sqlite._lite_lastid`
(binding imports this module, so it must not import binding's run-time types back).
"""

from __future__ import annotations

import re

from tradestore.errors import SqlFileError
from tradestore.queries.sqlfile import SqlBlock

# Leading blanks and comments, then the first keyword of the statement.
_FIRST_WORD = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*(?P<word>\w+)", re.DOTALL)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_UPSERT = re.compile(r"\bON\s+CONFLICT\b.*\bDO\s+UPDATE\b", re.IGNORECASE | re.DOTALL)
_INSERTING = frozenset({"INSERT", "REPLACE", "WITH"})


def has_returning(sql: str) -> bool:
    """Whether the statement may return rows through RETURNING (never a false negative:
    the word in a string or comment counts too, which only picks a slower, still exact path)."""
    return _RETURNING.search(sql) is not None


def check_lastid(block: SqlBlock, dialect: str) -> None:
    """Refuse, at load time, an :execlastid statement that cannot give the new row's id."""
    first = _FIRST_WORD.match(block.sql)
    word = first["word"].upper() if first else ""
    head = f"{block.where}: query {block.name} :execlastid"
    if word not in _INSERTING:
        raise SqlFileError(
            f"{head} gives the id of an inserted row, but the statement is {word or 'empty'}: "
            "use :execrows or :exec"
        )
    returning = has_returning(block.sql)
    if dialect == "postgresql" and not returning:
        raise SqlFileError(
            f"{head}: PostgreSQL has no last-insert id; end the statement with RETURNING id "
            "(portable: SQLite reads it too), or keep this block for SQLite and override it in "
            f"postgresql/ with '... RETURNING id;' (or use :scalar with RETURNING id)"
        )
    if dialect == "sqlite" and not returning and _UPSERT.search(block.sql):
        raise SqlFileError(
            f"{head}: an upsert that updates leaves SQLite's last insert id at an older row's; "
            "end the statement with RETURNING id"
        )

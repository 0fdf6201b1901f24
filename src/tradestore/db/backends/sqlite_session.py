"""What a borrower may change on a SQLite connection, and how the pool puts it back.

SQLite has no ``RESET ALL``. In SQL, a session outlives its statements only through PRAGMAs,
temp objects and attached databases (no SET, no session functions), so only a statement
outside a short list of plain ones marks the connection for a restore (`changes_session`).
`raw` access marks it too; the backend then also puts sqlite3's attributes and callbacks
back. A `SessionBaseline` holds the PRAGMA values of a fresh kit connection: restoring reads
each back and sets only the ones that differ. A temp object or an attached database is not
undone in place: that connection is discarded (a new one opens in about 0.1 ms).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

# Statements that cannot leave anything behind on the connection but a transaction, which
# reset() rolls back. Anything else (a PRAGMA, ATTACH, CREATE TEMP, or a leading comment we
# do not parse) marks the connection for a restore.
_PLAIN_STATEMENTS = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "REPLACE",
        "WITH",
        "VALUES",
        "BEGIN",
        "COMMIT",
        "END",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
    }
)

# Per-connection PRAGMAs a borrower can set; the first four are the kit's own settings.
# Left out: the database's own values (user_version, page_size, auto_vacuum: data, not
# session) and the ones a build cannot read back (case_sensitive_like): see `take`.
SESSION_PRAGMAS = (
    "busy_timeout",
    "foreign_keys",
    "synchronous",
    "journal_mode",
    "analysis_limit",
    "automatic_index",
    "cache_size",
    "cache_spill",
    "cell_size_check",
    "checkpoint_fullfsync",
    "count_changes",
    "defer_foreign_keys",
    "empty_result_callbacks",
    "full_column_names",
    "fullfsync",
    "ignore_check_constraints",
    "journal_size_limit",
    "legacy_alter_table",
    "locking_mode",
    "mmap_size",
    "query_only",
    "read_uncommitted",
    "recursive_triggers",
    "reverse_unordered_selects",
    "secure_delete",
    "short_column_names",
    "temp_store",
    "threads",
    "trusted_schema",
    "wal_autocheckpoint",
    "writable_schema",
)


def changes_session(sql: str) -> bool:
    """Whether ad-hoc `sql` may leave session state behind (checked without touching SQLite)."""
    first = sql.split(None, 1)[:1]
    return not first or first[0].upper() not in _PLAIN_STATEMENTS


def _read(raw: sqlite3.Connection, statement: str) -> Any:
    row = raw.execute(statement).fetchone()
    return None if row is None else row[0]


def _has_residue(raw: sqlite3.Connection) -> bool:
    """A temp object or an attached database: what no PRAGMA takes back."""
    attached = [row[1] for row in raw.execute("PRAGMA database_list")]
    if any(name not in ("main", "temp") for name in attached):
        return True
    return bool(_read(raw, "SELECT COUNT(*) FROM temp.sqlite_master"))


@dataclass(frozen=True)
class SessionBaseline:
    """The PRAGMA values a kit connection starts with: (name, read statement, value)."""

    pragmas: tuple[tuple[str, str, Any], ...]

    @classmethod
    def take(cls, fresh: sqlite3.Connection) -> SessionBaseline:
        """Read the baseline from a connection nobody has borrowed yet."""
        pragmas: list[tuple[str, str, Any]] = []
        for name in SESSION_PRAGMAS:
            statement = f"PRAGMA {name}"  # from the constant names above, never user data
            try:
                value = _read(fresh, statement)
            except sqlite3.Error:  # omitted from this build (SQLITE_OMIT_DEPRECATED)
                continue
            if value is not None:  # write-only here: nothing to compare with
                pragmas.append((name, statement, value))
        return cls(tuple(pragmas))

    def restore(self, raw: sqlite3.Connection) -> bool:
        """Put the PRAGMAs back; False when the connection must be discarded instead."""
        if _has_residue(raw):
            return False
        stale = [
            (name, read, want) for name, read, want in self.pragmas if _read(raw, read) != want
        ]
        for name, _, want in stale:
            # `want` is SQLite's own answer (a number, or a keyword such as wal).
            raw.execute(f"PRAGMA {name} = {want}")
        # Some PRAGMAs refuse quietly (journal_mode with a statement still active): check.
        return all(_read(raw, read) == want for _, read, want in stale)

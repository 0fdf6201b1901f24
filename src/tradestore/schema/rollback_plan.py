"""What a rollback would undo, and what it would destroy: the migrations and the non-empty tables
their rollback SQL drops.

The `tradestore rollback` command asks before it rolls back more than one migration, or any
migration whose rollback drops a table that holds rows (trade history goes with its table); a
rollback of one migration that drops nothing, or only empty tables, runs without a question.

How a dropped table is found: each migration's ``.rollback.sql`` is split into statements
(sqlparse, the splitter yoyo itself uses) with comments stripped, and every ``DROP TABLE
[IF EXISTS] a, b [CASCADE]`` names its tables. Unquoted names are folded to lower case, as
both databases do. A table that does not exist is skipped; one that cannot be counted counts as
holding rows (the safe side). A Python migration's rollback is code: what it drops cannot be
read, so it always asks. Rows are counted up to `ROW_COUNT_CAP` (enough to say "there is data
here" without scanning a large trade history).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlparse

from tradestore.db.url import DatabaseURL

ROW_COUNT_CAP = 10_000
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QUALIFIED = re.compile(rf"{_IDENT}(?:\s*\.\s*{_IDENT})*")
_DROP_TABLE = re.compile(
    r"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<names>.*?)\s*(?:\b(?:CASCADE|RESTRICT)\b)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_PART = re.compile(_IDENT)


@dataclass(frozen=True, slots=True)
class DroppedTable:
    """A table a rollback drops, and its rows (None: could not be counted; counted as rows)."""

    name: str
    rows: int | None

    @property
    def holds_rows(self) -> bool:
        return self.rows is None or self.rows > 0

    def __str__(self) -> str:
        if self.rows is None:
            return f"{self.name} (rows could not be counted)"
        if self.rows >= ROW_COUNT_CAP:
            return f"{self.name} ({ROW_COUNT_CAP:,}+ rows)"
        return f"{self.name} ({self.rows:,} row{'s' if self.rows != 1 else ''})"


@dataclass(frozen=True, slots=True)
class RollbackStep:
    """One migration to roll back: its id, its files and the tables its rollback drops."""

    id: str
    path: Path
    drops: tuple[DroppedTable, ...]
    #: True for a Python migration: its rollback is code, what it drops is unknown.
    opaque: bool = False


@dataclass(frozen=True, slots=True)
class RollbackPlan:
    """The migrations a rollback would undo, newest first, on `database` (redacted)."""

    database: str
    steps: tuple[RollbackStep, ...]

    @property
    def ids(self) -> list[str]:
        return [step.id for step in self.steps]

    @property
    def tables_with_rows(self) -> list[DroppedTable]:
        return [table for step in self.steps for table in step.drops if table.holds_rows]

    @property
    def needs_confirmation(self) -> bool:
        """More than one migration, a non-empty table dropped, or a rollback that is code."""
        return (
            len(self.steps) > 1
            or bool(self.tables_with_rows)
            or any(step.opaque for step in self.steps)
        )

    def same_stakes(self, other: RollbackPlan) -> bool:
        """Whether `other` undoes the same migrations and drops the same non-empty tables: what
        a confirmation covers (row counts move while bots run; which tables hold data does not)."""
        return self.ids == other.ids and {t.name for t in self.tables_with_rows} == {
            t.name for t in other.tables_with_rows
        }

    def describe(self) -> str:
        """One sentence for a prompt or a refusal."""
        if not self.steps:
            return f"nothing to roll back on {self.database}"
        count = len(self.steps)
        text = (
            f"roll back {count} migration{'s' if count > 1 else ''} on {self.database} "
            f"({', '.join(self.ids)})"
        )
        lost = self.tables_with_rows
        if lost:
            text += f", dropping {', '.join(map(str, lost))}"
        opaque = [step.id for step in self.steps if step.opaque]
        if opaque:
            text += f"; the rollback of {', '.join(opaque)} is Python code that may drop more"
        return text


def dropped_table_names(sql: str) -> list[str]:
    """The tables every ``DROP TABLE`` statement of `sql` names, in order (quotes kept)."""
    names: list[str] = []
    for statement in sqlparse.split(sql):
        code = sqlparse.format(statement, strip_comments=True)
        match = _DROP_TABLE.match(code)
        if match:
            names.extend(m.group(0) for m in _QUALIFIED.finditer(match["names"]))
    return names


def _identifier_parts(name: str) -> list[str]:
    """``public."Trades"`` → ["public", "Trades"]; unquoted parts folded to lower case."""
    parts = []
    for part in _PART.findall(name):
        quoted = part.startswith('"')
        parts.append(part[1:-1].replace('""', '"') if quoted else part.lower())
    return parts


def _count_rows(backend: Any, dialect: str, name: str) -> int | None:
    """Rows of table `name` up to the cap; -1 when it does not exist; None when uncountable."""
    parts = _identifier_parts(name)
    # The name is a migration file's (reviewed DDL, not user data), quoted part by part.
    quoted = ".".join(backend.quote_identifier(part) for part in parts)
    try:
        if dialect == "postgresql":
            exists = backend.execute("SELECT to_regclass(:name)", {"name": quoted}).fetchone()[0]
        else:
            exists = backend.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name COLLATE NOCASE",
                {"name": parts[-1]},
            ).fetchone()
        if not exists:
            return -1
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {quoted} LIMIT :cap) AS capped"
        return int(backend.execute(sql, {"cap": ROW_COUNT_CAP}).fetchone()[0])
    except backend.DatabaseError:
        return None


def _rollback_sql(migration: Any) -> str | None:
    """The rollback SQL of a SQL migration; None for a Python one."""
    path = Path(migration.path)
    if path.suffix != ".sql":
        return None
    rollback = path.with_name(path.stem + ".rollback.sql")
    return rollback.read_text(encoding="utf-8") if rollback.is_file() else ""


def plan_rollback(backend: Any, db: DatabaseURL, migrations: list[Any]) -> RollbackPlan:
    """The plan for rolling back `migrations` (newest first) on `backend`'s database."""
    steps = []
    for migration in migrations:
        sql = _rollback_sql(migration)
        drops = []
        for name in dropped_table_names(sql or ""):
            rows = _count_rows(backend, db.dialect, name)
            if rows != -1:
                drops.append(DroppedTable(name=name, rows=rows))
        steps.append(
            RollbackStep(
                id=migration.id, path=Path(migration.path), drops=tuple(drops), opaque=sql is None
            )
        )
    return RollbackPlan(database=db.redacted, steps=tuple(steps))


__all__ = [
    "ROW_COUNT_CAP",
    "DroppedTable",
    "RollbackPlan",
    "RollbackStep",
    "dropped_table_names",
    "plan_rollback",
]

"""The migration folders: where the built-in ones are, which folder of a user's serves a
dialect, and new pairs of files for a change.

A migrations folder has one of two layouts. Per dialect, like the built-in one: a folder for
each dialect (``migrations/postgresql``, ``migrations/sqlite``) with the same ids. Flat: the
migrations themselves, serving every dialect (portable DDL, or a project on one database).
Either way every ``NNNN_name.sql`` has its ``NNNN_name.rollback.sql``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from tradestore.db.url import Dialect
from tradestore.errors import MigrationError
from tradestore.resources import builtin_migrations_dir

_MIGRATION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)


def migrations_source(dialect: Dialect) -> Path:
    """The folder of built-in migrations for `dialect`.

    An installed wheel ships them inside the package (``tradestore/migrations/<dialect>``,
    pyproject's force-include); a source checkout (editable install) has them at the top of
    the repository.
    """
    folder = builtin_migrations_dir() / dialect
    if folder.is_dir():
        return folder
    raise MigrationError(f"no {dialect} migrations found: looked in {folder}")


def dialect_folders(source: str | Path) -> tuple[Dialect, ...]:
    """The dialects `source` has a folder for; empty for a flat folder (it serves them all).

    A folder holding both migrations and dialect folders is refused: which of them would
    apply to a database is a guess nobody should have to make.
    """
    root = Path(source)
    if not root.is_dir():
        raise MigrationError(f"migrations folder {root} does not exist")
    present = tuple(dialect for dialect in DIALECTS if (root / dialect).is_dir())
    if present and any(root.glob("*.sql")):
        raise MigrationError(
            f"migrations folder {root} holds both migrations and {'/, '.join(present)}/ "
            "folders: keep one layout (a folder per dialect, or flat)"
        )
    return present


def served_dialects(source: str | Path | None) -> tuple[Dialect, ...]:
    """The dialects `source` (None: the built-in folder) has migrations for."""
    if source is None:
        return DIALECTS
    return dialect_folders(source) or DIALECTS


def migrations_folder(source: str | Path | None, dialect: Dialect) -> Path:
    """The folder of `dialect`'s migrations: the built-in one when `source` is None, else
    ``source/<dialect>`` when `source` has dialect folders, else `source` itself (flat)."""
    if source is None:
        return migrations_source(dialect)
    present = dialect_folders(source)
    if not present:
        return Path(source)
    if dialect not in present:
        raise MigrationError(
            f"migrations folder {source} has no {dialect}/ folder (only "
            f"{'/, '.join(present)}/): add one with the same migration ids"
        )
    return Path(source) / dialect


def _default_root() -> Path:
    for root in (Path.cwd() / "migrations", builtin_migrations_dir()):
        if (root / "postgresql").is_dir() and (root / "sqlite").is_dir():
            return root
    raise MigrationError(
        "no migrations/ folder with postgresql/ and sqlite/ found (run from the repository "
        "top, or name the folder: --migrations DIR, DB_MIGRATIONS_DIR or root=)"
    )


def new_migration(name: str, *, root: str | Path | None = None) -> list[Path]:
    """Create ``NNNN_name.sql`` and ``NNNN_name.rollback.sql`` in each dialect folder of
    `root` (a migrations folder, as `migrate`'s `source`), or in `root` itself when it is flat.

    NNNN is one more than the highest number in any of them; each file depends on the newest
    migration of its own folder. Returns the paths created.
    """
    slug = re.sub(r"[\s-]+", "_", name.strip().lower())
    if not _MIGRATION_NAME.match(slug):
        raise MigrationError(
            f"migration name {name!r} must be letters, digits and underscores, starting with "
            "a letter (e.g. add_order_tags)"
        )
    base = Path(root) if root is not None else _default_root()
    present = dialect_folders(base)
    folders = [base / dialect for dialect in present] or [base]
    existing = {
        folder: sorted(
            match.group(0)[: -len(".sql")]
            for f in folder.glob("*.sql")
            if (match := _MIGRATION_FILE.match(f.name))
        )
        for folder in folders
    }
    number = 1 + max((int(mid[:4]) for ids in existing.values() for mid in ids), default=0)
    migration_id = f"{number:04d}_{slug}"
    created: list[Path] = []
    for folder, ids in existing.items():
        depends = f"-- depends: {ids[-1]}\n" if ids else ""
        twin = (
            f"-- {folder.name} twin of the other dialect's {migration_id}: keep names in step.\n"
            if len(folders) > 1
            else ""
        )
        apply_text = (
            f"-- {migration_id}: say what this changes and why (the DBA reads this first).\n"
            f"{twin}{depends}\n"
        )
        rollback_text = (
            f"-- Undo {migration_id}: reverse each statement of {migration_id}.sql, last first.\n\n"
        )
        for path, text in (
            (folder / f"{migration_id}.sql", apply_text),
            (folder / f"{migration_id}.rollback.sql", rollback_text),
        ):
            if path.exists():
                raise MigrationError(f"{path} already exists")
            path.write_text(text, encoding="utf-8")
            created.append(path)
    return created


__all__ = [
    "DIALECTS",
    "dialect_folders",
    "migrations_folder",
    "migrations_source",
    "new_migration",
    "served_dialects",
]

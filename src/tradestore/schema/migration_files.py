"""The migration folders: where the built-in ones are, and new pairs of files for a change.

Each dialect has its folder (``migrations/postgresql``, ``migrations/sqlite``) with the same
ids; every ``NNNN_name.sql`` has its ``NNNN_name.rollback.sql``.
"""

from __future__ import annotations

import re
from pathlib import Path

from tradestore.db.url import Dialect
from tradestore.errors import MigrationError
from tradestore.resources import builtin_migrations_dir

_MIGRATION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


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


def _default_root() -> Path:
    for root in (Path.cwd() / "migrations", builtin_migrations_dir()):
        if (root / "postgresql").is_dir() and (root / "sqlite").is_dir():
            return root
    raise MigrationError(
        "no migrations/ folder with postgresql/ and sqlite/ found (run from the repository "
        "top, or pass root=)"
    )


def new_migration(name: str, *, root: str | Path | None = None) -> list[Path]:
    """Create ``NNNN_name.sql`` and ``NNNN_name.rollback.sql`` in each dialect folder.

    NNNN is one more than the highest number in either folder; each file depends on the
    newest migration of its own folder. Returns the four paths created.
    """
    slug = re.sub(r"[\s-]+", "_", name.strip().lower())
    if not _MIGRATION_NAME.match(slug):
        raise MigrationError(
            f"migration name {name!r} must be letters, digits and underscores, starting with "
            "a letter (e.g. add_order_tags)"
        )
    base = Path(root) if root is not None else _default_root()
    folders = {dialect: base / dialect for dialect in ("postgresql", "sqlite")}
    existing = {
        dialect: sorted(
            match.group(0)[: -len(".sql")]
            for f in folder.glob("*.sql")
            if (match := _MIGRATION_FILE.match(f.name))
        )
        for dialect, folder in folders.items()
        if folder.is_dir()
    }
    if len(existing) != len(folders):
        raise MigrationError(f"{base} must hold postgresql/ and sqlite/ folders")
    number = 1 + max((int(mid[:4]) for ids in existing.values() for mid in ids), default=0)
    migration_id = f"{number:04d}_{slug}"
    created: list[Path] = []
    for dialect, folder in folders.items():
        depends = f"-- depends: {existing[dialect][-1]}\n" if existing[dialect] else ""
        apply_text = (
            f"-- {migration_id}: say what this changes and why (the DBA reads this first).\n"
            f"-- {dialect} twin of the other dialect's {migration_id}: keep names in step.\n"
            f"{depends}\n"
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


__all__ = ["migrations_source", "new_migration"]

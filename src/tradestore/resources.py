"""Where the package's own data lives: the DBA-reviewed `sql/` and `migrations/` folders.

Both sit at the top of the repository (DBA territory) and ship inside the wheel as
``tradestore/sql`` and ``tradestore/migrations`` (pyproject's force-include). An installed
package finds them beside this module; a source checkout (editable install) finds them two
folders up, at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPOSITORY_DIR = PACKAGE_DIR.parents[1]


def data_dir(name: str) -> Path:
    """``<package>/<name>`` when the wheel shipped it, else the checkout's ``<name>``."""
    shipped = PACKAGE_DIR / name
    return shipped if shipped.is_dir() else REPOSITORY_DIR / name


def builtin_sql_dir() -> Path:
    """The folder of the built-in named SQL (the trading schema's queries, the catalog's)."""
    return data_dir("sql")


def builtin_migrations_dir() -> Path:
    """The folder holding one folder of built-in migrations per dialect."""
    return data_dir("migrations")

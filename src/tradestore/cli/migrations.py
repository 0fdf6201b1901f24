"""`tradestore migrate | rollback | status | new-migration`: thin shells over tradestore.migrate.

The database comes from the global ``--database-url`` option, else DATABASE_URL.
"""

from __future__ import annotations

import argparse
from typing import Any

from tradestore.cli.arguments import positive_int
from tradestore.migrate import migrate, migration_status, new_migration, rollback

EXIT_OK = 0


def _url(args: argparse.Namespace) -> str | None:
    url: str | None = getattr(args, "database_url", None)
    return url


def _migrate(args: argparse.Namespace) -> int:
    applied = migrate(_url(args))
    for migration_id in applied:
        print(f"applied {migration_id}")
    if not applied:
        print("up to date: no migration to apply")
    return EXIT_OK


def _rollback(args: argparse.Namespace) -> int:
    undone = rollback(_url(args), steps=args.steps)
    for migration_id in undone:
        print(f"rolled back {migration_id}")
    if not undone:
        print("nothing to roll back: no migration is applied")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    rows = migration_status(_url(args))
    width = max((len(row.id) for row in rows), default=10)
    for row in rows:
        when = row.applied_at.isoformat(timespec="seconds") if row.applied_at else ""
        state = "applied" if row.applied else "pending"
        print(f"{row.id:<{width}}  {state:<7}  {when}".rstrip())
    pending = sum(not row.applied for row in rows)
    print(f"{len(rows) - pending} applied, {pending} pending")
    return EXIT_OK


def _new_migration(args: argparse.Namespace) -> int:
    for path in new_migration(args.name):
        print(f"created {path}")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add the migration commands to the `tradestore` parser."""
    cmd = subparsers.add_parser("migrate", help="apply every pending migration")
    cmd.set_defaults(handler=_migrate)

    cmd = subparsers.add_parser("rollback", help="roll back the newest applied migration(s)")
    cmd.add_argument(
        "--steps", type=positive_int, default=1, help="how many to roll back (default 1)"
    )
    cmd.set_defaults(handler=_rollback)

    cmd = subparsers.add_parser("status", help="list migrations, applied or pending")
    cmd.set_defaults(handler=_status)

    cmd = subparsers.add_parser(
        "new-migration", help="create NNNN_NAME.sql + .rollback.sql for each dialect"
    )
    cmd.add_argument("name", help="what the migration does, e.g. add_order_tags")
    cmd.set_defaults(handler=_new_migration)

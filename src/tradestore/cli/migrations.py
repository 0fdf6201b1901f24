"""`tradestore migrate | rollback | status | new-migration | break-lock`: thin shells over
tradestore.schema.migrate.

The database comes from the global ``--database-url`` option, else DATABASE_URL; the
migrations folder from ``--migrations DIR``, else DB_MIGRATIONS_DIR, else the built-in one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from tradestore.cli.arguments import add_migrations_option, migrations_dir, positive_int
from tradestore.schema.migrate import (
    RollbackPlan,
    break_lock,
    migrate,
    migration_status,
    new_migration,
    rollback,
    rollback_plan,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def _url(args: argparse.Namespace) -> str | None:
    url: str | None = getattr(args, "database_url", None)
    return url


def _migrate(args: argparse.Namespace) -> int:
    applied = migrate(_url(args), source=migrations_dir(args))
    for migration_id in applied:
        print(f"applied {migration_id}")
    if not applied:
        print("up to date: no migration to apply")
    return EXIT_OK


def _ask(question: str) -> bool:
    """A y/N question on the terminal; anything but yes (or end of input) is no."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _confirmation(args: argparse.Namespace) -> Callable[[RollbackPlan], bool] | int:
    """What `rollback` may undo: the plan the operator confirmed, or an exit code to stop with.

    The question is asked before the rollback takes the lock (bots starting meanwhile are not
    kept waiting on a person); under the lock the library recomputes the plan and this only
    lets it proceed if it undoes what was shown. Without a terminal there is nobody to ask:
    refuse and say to pass --yes.
    """
    shown = rollback_plan(_url(args), steps=args.steps, source=migrations_dir(args))
    if shown.needs_confirmation:
        if not sys.stdin.isatty():
            print(
                f"tradestore rollback: refusing to {shown.describe()} without confirmation "
                "(no terminal to ask on): pass --yes",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if not _ask(f"About to {shown.describe()}. Go ahead?"):
            print("rollback cancelled: nothing was rolled back")
            return EXIT_ERROR
    return shown.same_stakes


def _rollback(args: argparse.Namespace) -> int:
    confirm = None if args.yes else _confirmation(args)
    if isinstance(confirm, int):
        return confirm
    undone = rollback(_url(args), steps=args.steps, source=migrations_dir(args), confirm=confirm)
    for migration_id in undone:
        print(f"rolled back {migration_id}")
    if not undone:
        print("nothing to roll back: no migration is applied")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    rows = migration_status(_url(args), source=migrations_dir(args))
    width = max((len(row.id) for row in rows), default=10)
    for row in rows:
        when = row.applied_at.isoformat(timespec="seconds") if row.applied_at else ""
        state = "applied" if row.applied else "pending"
        print(f"{row.id:<{width}}  {state:<7}  {when}".rstrip())
    pending = sum(not row.applied for row in rows)
    print(f"{len(rows) - pending} applied, {pending} pending")
    return EXIT_OK


def _new_migration(args: argparse.Namespace) -> int:
    for path in new_migration(args.name, root=migrations_dir(args)):
        print(f"created {path}")
    return EXIT_OK


def _break_lock(args: argparse.Namespace) -> int:
    broken = break_lock(_url(args))
    if broken.session:
        print(f"ended {broken.session}, which held the migration advisory lock")
    if broken.row:
        print(f"removed the migration lock of {broken.row}")
    if not broken.row and not broken.session:
        print("no migration lock to break")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add the migration commands to the `tradestore` parser."""
    cmd = subparsers.add_parser("migrate", help="apply every pending migration")
    add_migrations_option(cmd)
    cmd.set_defaults(handler=_migrate)

    cmd = subparsers.add_parser("rollback", help="roll back the newest applied migration(s)")
    cmd.add_argument(
        "--steps", type=positive_int, default=1, help="how many to roll back (default 1)"
    )
    cmd.add_argument(
        "--yes",
        action="store_true",
        help="do not ask before rolling back several migrations or dropping tables with rows "
        "(needed when there is no terminal to ask on)",
    )
    add_migrations_option(cmd)
    cmd.set_defaults(handler=_rollback)

    cmd = subparsers.add_parser("status", help="list migrations, applied or pending")
    add_migrations_option(cmd)
    cmd.set_defaults(handler=_status)

    cmd = subparsers.add_parser(
        "new-migration",
        help="create NNNN_NAME.sql + .rollback.sql in each dialect folder (or a flat folder)",
    )
    cmd.add_argument("name", help="what the migration does, e.g. add_order_tags")
    add_migrations_option(cmd)
    cmd.set_defaults(handler=_new_migration)

    cmd = subparsers.add_parser(
        "break-lock",
        help="remove a migration lock whose holder is gone but could not be proved dead",
        description="Remove yoyo's lock row whoever holds it; on PostgreSQL also end the "
        "session holding the kit's advisory lock. Refused on SQLite while a live process of "
        "this host holds the lock file. `migrate` takes over a dead holder's lock by itself: "
        "this is for what it cannot see (a reused pid, a session of a host that vanished).",
    )
    cmd.set_defaults(handler=_break_lock)

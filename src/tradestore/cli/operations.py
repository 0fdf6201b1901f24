"""`tradestore backup | restore | health | stats | trades | equity`: day-to-day operations.

Each command is a thin shell over one library call. The database comes from the global
``--database-url`` option, else DATABASE_URL; output never contains a password (URLs are shown
redacted). Machine-readable commands (`health`, `stats`) print JSON on stdout; diagnostics go
to stderr. Exit codes: 0 done, 1 failed (or unhealthy), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradestore.cli.arguments import positive_int
from tradestore.cli.reports import (
    PlotUnavailable,
    equity_text,
    plot_equity,
    summarize_equity,
    trades_table,
)
from tradestore.db.pool import Pool
from tradestore.db.settings import Settings, load_settings
from tradestore.db.url import DatabaseURL, parse_url
from tradestore.schema.backup import create_backup, prune_backups, restore_backup
from tradestore.schema.introspect import get_connection_stats, get_table_info, list_tables

if TYPE_CHECKING:
    from tradestore.trading.store import TradeStore

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _settings() -> Settings:
    return load_settings()


def _url(args: argparse.Namespace) -> DatabaseURL:
    given: str | None = getattr(args, "database_url", None)
    return parse_url(given) if given else _settings().url


@contextmanager
def _pool(args: argparse.Namespace, *, connect_now: bool = True) -> Iterator[Pool]:
    """A one-connection pool for one command (opened eagerly unless `connect_now` is False)."""
    url = _url(args)
    timeout: float = args.timeout
    with Pool(
        url,
        min_size=1 if connect_now else 0,
        max_size=1,
        timeout=timeout,
        name=f"tradestore-cli-{args.command}",
    ) as pool:
        yield pool


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


# -- backup / restore ----------------------------------------------------------------------


def _backup(args: argparse.Namespace) -> int:
    settings = _settings()
    directory = Path(args.directory) if args.directory else settings.db_backup_directory
    with _pool(args) as pool:
        path = create_backup(pool, args.output, directory=directory)
    print(path)
    if not args.no_prune:
        retention = args.retention_days or settings.db_backup_retention_days
        for old in prune_backups(path.parent, retention):
            print(f"pruned {old} (older than {retention} days)", file=sys.stderr)
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            "tradestore restore: refusing to overwrite the database without --yes "
            f"(target: {_url(args).redacted})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    with _pool(args) as pool:
        restore_backup(pool, args.file)
        print(f"restored {args.file} into {pool.url.redacted}")
    return EXIT_OK


# -- health / stats -------------------------------------------------------------------------


def _health(args: argparse.Namespace) -> int:
    # No eager connect: an unreachable database is a health report, not a crash.
    with _store(args, connect_now=False) as store:
        report = store.health_check()
    _print_json(report)
    ready = report.get("schema", {}).get("ready", False)
    return EXIT_OK if report.get("status") == "healthy" and ready else EXIT_ERROR


def _stats(args: argparse.Namespace) -> int:
    with _pool(args) as pool:
        names = [] if args.no_tables else list_tables(pool)
        tables = {name: get_table_info(pool, name).row_estimate for name in names}
        stats = get_connection_stats(pool)
    stats["tables"] = tables
    _print_json(stats)
    return EXIT_OK


# -- trades / equity ------------------------------------------------------------------------


def _moment(text: str) -> dt.datetime:
    """An ISO 8601 date or date-time; without a zone it is UTC (as everything in the store)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or time (2026-01-31 or 2026-01-31T14:30Z), got {text!r}"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@contextmanager
def _store(args: argparse.Namespace, *, connect_now: bool = True) -> Iterator[TradeStore]:
    from tradestore.trading.store import TradeStore  # noqa: PLC0415  (the trading layer, on demand)

    with _pool(args, connect_now=connect_now) as pool, TradeStore(pool) as store:
        yield store


def _trades(args: argparse.Namespace) -> int:
    with _store(args) as store:
        records = store.get_trade_history(
            symbol=args.symbol, start_date=args.since, end_date=args.until, limit=args.limit
        )
    if not records:
        print("no trades" + (f" for {args.symbol}" if args.symbol else ""))
        return EXIT_OK
    print(trades_table(records))
    return EXIT_OK


def _equity(args: argparse.Namespace) -> int:
    with _store(args) as store:
        points = store.get_equity_curve(
            start_date=args.since, end_date=args.until, limit=args.limit
        )
    summary = summarize_equity(points)
    if summary is None:
        print("no equity points", file=sys.stderr if args.plot else sys.stdout)
        return EXIT_ERROR if args.plot else EXIT_OK
    print(equity_text(summary))
    if args.plot:
        try:
            written = plot_equity(points, args.plot)
        except PlotUnavailable as exc:
            print(f"tradestore equity: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        print(f"chart written to {written}")
    return EXIT_OK


# -- registration ---------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add the operations commands to the `tradestore` parser."""
    cmd = subparsers.add_parser(
        "backup",
        help="back up the database, then prune old backups",
        description="SQLite: online backup API (consistent while bots write). PostgreSQL: "
        "pg_dump -Fc of the URL's schema. Prints the backup's path; pruned files go to stderr.",
    )
    cmd.add_argument("-o", "--output", help="backup file (default: a timestamped name)")
    cmd.add_argument("--directory", help="folder for the backup (default DB_BACKUP_DIRECTORY)")
    cmd.add_argument(
        "--retention-days",
        type=positive_int,
        help="prune backups older than this (default DB_BACKUP_RETENTION_DAYS)",
    )
    cmd.add_argument("--no-prune", action="store_true", help="keep every old backup")
    _add_timeout(cmd, 30.0)
    cmd.set_defaults(handler=_backup)

    cmd = subparsers.add_parser(
        "restore",
        help="replace the database's contents with a backup",
        description="SQLite: online backup API. PostgreSQL: pg_restore --clean --if-exists "
        "--single-transaction of the URL's schema (all or nothing).",
    )
    cmd.add_argument("file", help="a backup written by `tradestore backup`")
    cmd.add_argument("--yes", action="store_true", help="really overwrite the database")
    _add_timeout(cmd, 30.0)
    cmd.set_defaults(handler=_restore)

    cmd = subparsers.add_parser(
        "health",
        help="check the database answers and is migrated; JSON report, exit 1 when not",
    )
    _add_timeout(cmd, 5.0)
    cmd.set_defaults(handler=_health)

    cmd = subparsers.add_parser(
        "stats", help="pool counters, query timings and table row estimates as JSON"
    )
    cmd.add_argument("--no-tables", action="store_true", help="leave out the row estimates")
    _add_timeout(cmd, 30.0)
    cmd.set_defaults(handler=_stats)

    cmd = subparsers.add_parser("trades", help="recent trade history as a table, newest first")
    cmd.add_argument("--symbol", help="only this symbol")
    cmd.add_argument(
        "--limit", type=positive_int, default=20, help="at most this many rows (default 20)"
    )
    _add_window(cmd)
    _add_timeout(cmd, 30.0)
    cmd.set_defaults(handler=_trades)

    cmd = subparsers.add_parser(
        "equity", help="equity curve summary (change, peak, max drawdown); --plot draws it"
    )
    cmd.add_argument("--limit", type=positive_int, help="only the newest N points")
    _add_window(cmd)
    cmd.add_argument(
        "--plot", metavar="FILE", help="also write a chart (e.g. equity.png; needs matplotlib)"
    )
    _add_timeout(cmd, 30.0)
    cmd.set_defaults(handler=_equity)


def _add_timeout(cmd: argparse.ArgumentParser, default: float) -> None:
    cmd.add_argument(
        "--timeout",
        type=_positive_float,
        default=default,
        help=f"seconds to wait for the database (default {default:g})",
    )


def _add_window(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--since", type=_moment, help="from this UTC date/time (inclusive)")
    cmd.add_argument("--until", type=_moment, help="before this UTC date/time (exclusive)")


__all__ = ["register"]

"""The `tradestore` command: each subcommand is a thin shell over one library call.

Subcommands live in sibling modules (one per subject); each module exposes
``register(subparsers)`` which adds its commands with ``set_defaults(handler=...)``.
A handler takes the parsed arguments and returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from tradestore.errors import TradestoreError

# Modules under tradestore.cli that contribute subcommands (imported lazily, in this order).
COMMAND_MODULES: tuple[str, ...] = ("migrations", "queries", "operations")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradestore", description="Data access kit for trading bots."
    )
    parser.add_argument(
        "--database-url",
        help="database URL (overrides DATABASE_URL; default sqlite:///data/tradestore.db)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"tradestore.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = handler(args)
    except TradestoreError as exc:
        # One line, whatever the driver's message looked like (libpq adds a tab-indented
        # hint line): a log line, a CI annotation or `2>&1 | tail -1` shows all of it.
        message = " ".join(str(exc).split())
        print(f"tradestore {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `tradestore trades | head`: the reader left; say nothing more, like other tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    return code


if __name__ == "__main__":
    sys.exit(main())

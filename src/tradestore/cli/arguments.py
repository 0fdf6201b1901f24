"""Argument types shared by the `tradestore` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from tradestore.db.settings import load_settings
from tradestore.errors import ConfigurationError


def positive_int(text: str) -> int:
    """A whole number of at least 1 (``--steps``, ``--limit``, ...), or a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_migrations_option(cmd: argparse.ArgumentParser) -> None:
    """``--migrations DIR``: a migrations folder of your own (default DB_MIGRATIONS_DIR)."""
    cmd.add_argument(
        "--migrations",
        metavar="DIR",
        help="your migrations folder: a folder per dialect (postgresql/, sqlite/) or flat "
        "(default: DB_MIGRATIONS_DIR, else the built-in trading schema's)",
    )


def migrations_dir(args: argparse.Namespace) -> Path | None:
    """The folder named by ``--migrations``, else by DB_MIGRATIONS_DIR; None for the built-in.

    A folder that is not there is reported here, naming where it came from: from the
    setting, the name alone would leave the operator looking for a flag nobody passed.
    """
    given: str | None = getattr(args, "migrations", None)
    if given is not None:
        return Path(given)
    folder = load_settings().db_migrations_dir
    if folder is not None and not folder.is_dir():
        raise ConfigurationError(f"DB_MIGRATIONS_DIR={folder}: no such folder (from {Path.cwd()})")
    return folder

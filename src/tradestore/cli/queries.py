"""`tradestore stubs` and `tradestore check-sql`: thin shells over `stubs` and `checksql`.

Which queries, models and schema: without PATH (or with the built-in sql/ itself) the trading
schema's queries, with the trading models and migrations, as `make stubs` / `make check-sql`
run them. With PATH, a user's folder through the kit's loader: only the models of the
``--models`` modules (``--models tradestore.trading.models`` adds the trading ones), and a
scratch schema built from ``--migrations`` (else DB_MIGRATIONS_DIR, else the built-in ones).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tradestore.cli.arguments import add_migrations_option, migrations_dir
from tradestore.cli.models_option import import_models
from tradestore.errors import ConfigurationError, SqlFileError
from tradestore.queries.loader import Queries
from tradestore.resources import builtin_sql_dir

#: The checked-in typed surface of the built-in queries (see `make stubs`).
BUILTIN_STUB = Path(__file__).resolve().parent.parent / "trading" / "builtin_queries.py"


def register(subparsers: Any) -> None:
    stubs = subparsers.add_parser(
        "stubs",
        help="generate the typed surface (a Protocol) of a SQL folder",
        description="Write a module declaring a typing.Protocol with one method per query "
        "(write it to a .py file: cast() needs the name at run time). Parameter types come "
        "from PostgreSQL (--url of a migrated database, or --scratch to migrate a scratch "
        "schema of TEST_DATABASE_URL/DATABASE_URL); otherwise Any.",
    )
    stubs.add_argument("path", nargs="?", help="SQL folder or file (default: the built-in sql/)")
    stubs.add_argument("-o", "--output", help="file to write, e.g. my_queries.py (default: stdout)")
    _add_models_option(stubs)
    stubs.add_argument("--class-name", default=None, help="Protocol name (default BuiltinQueries)")
    stubs.add_argument("--url", help="migrated PostgreSQL database used to type parameters")
    stubs.add_argument(
        "--scratch", action="store_true", help="migrate a scratch PostgreSQL schema and use it"
    )
    add_migrations_option(stubs)
    stubs.add_argument(
        "--check", action="store_true", help="exit 1 if OUTPUT differs instead of writing it"
    )
    stubs.set_defaults(handler=run_stubs)

    check = subparsers.add_parser(
        "check-sql",
        help="check every named query against migrated databases",
        description="Without --url: migrate a scratch PostgreSQL schema (TEST_DATABASE_URL or "
        "DATABASE_URL when postgres) and a scratch SQLite file, then check the queries on both.",
    )
    check.add_argument("path", nargs="?", help="SQL folder or file (default: the built-in sql/)")
    _add_models_option(check)
    check.add_argument(
        "--url", action="append", default=[], help="an already-migrated database (repeatable)"
    )
    add_migrations_option(check)
    check.add_argument("--no-postgres", action="store_true", help="scratch mode: skip PostgreSQL")
    check.add_argument("--no-sqlite", action="store_true", help="scratch mode: skip SQLite")
    check.set_defaults(handler=run_check_sql)


def _add_models_option(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--models",
        action="append",
        default=[],
        metavar="MODULE",
        help="module defining row models, importable from the current directory (repeatable; "
        "the trading schema's are known to the built-in sql/ only: add them to a folder of "
        "yours with --models tradestore.trading.models)",
    )


def _is_builtin(path: str | None) -> bool:
    """No PATH, the built-in sql/ or a file of it: the trading schema's queries."""
    if path is None:
        return True
    builtin, given = builtin_sql_dir().resolve(), Path(path).resolve()
    return given == builtin or builtin in given.parents


def _load(args: argparse.Namespace) -> Queries:
    """The queries of PATH with the models of --models (see the module's docstring)."""
    models: dict[str, type[BaseModel]] = {}
    for name in args.models:
        models.update(import_models(name))
    if _is_builtin(args.path):
        from tradestore.trading.queries import load_queries  # noqa: PLC0415

        queries: Queries = load_queries(args.path, models=models, echo=False, slow_query_ms=None)
        return queries
    from tradestore.queries.loader import load_queries as load_kit_queries  # noqa: PLC0415

    try:
        return load_kit_queries(args.path, models=models, echo=False, slow_query_ms=None)
    except SqlFileError as exc:
        if "unknown model" not in str(exc):  # the loader's words for a model nobody defined
            raise
        raise SqlFileError(
            f"{exc}; on the command line: --models MODULE, a module defining it (repeatable; "
            "the trading schema's models: --models tradestore.trading.models)"
        ) from None


def _migrations(args: argparse.Namespace) -> Path | None:
    """The migrations behind the scratch schema: the built-in sql/ gets the built-in ones
    unless --migrations says otherwise (DB_MIGRATIONS_DIR is a user's folder's)."""
    if _is_builtin(args.path) and args.migrations is None:
        return None
    return migrations_dir(args)


def stubs_command(args: argparse.Namespace, migrations: Path | None) -> str:
    """The command line that writes this output again (first line of the generated module):
    the arguments as given, a URL replaced by a placeholder (it may carry a password)."""
    words = ["tradestore", "stubs"]
    if args.path is not None:
        words.append(args.path)
    for name in args.models:
        words += ["--models", name]
    if args.class_name is not None:
        words += ["--class-name", args.class_name]
    if migrations is not None:
        words += ["--migrations", str(migrations)]
    if args.url is not None:
        words += ["--url", "URL"]
    elif args.scratch:
        words.append("--scratch")
    if args.output is not None:
        words += ["-o", args.output]
    return shlex.join(words)


def run_stubs(args: argparse.Namespace) -> int:
    from tradestore.queries.stubs import generate  # noqa: PLC0415
    from tradestore.schema.scratch import postgres_base_url, scratch_postgres  # noqa: PLC0415

    queries = _load(args)
    scratch = args.scratch and args.url is None
    migrations = _migrations(args) if scratch else None
    command = stubs_command(args, migrations)
    with ExitStack() as stack:
        url = args.url
        if scratch:
            base = postgres_base_url()
            if base is None:
                raise ConfigurationError(
                    "--scratch needs TEST_DATABASE_URL or DATABASE_URL pointing at PostgreSQL"
                )
            url = stack.enter_context(scratch_postgres(base, migrations=migrations))
        text = generate(
            queries,
            class_name=args.class_name or "BuiltinQueries",
            url=url,
            command=command,
        )
    if args.output is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} is out of date with the SQL: run `{command}`", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(queries)} queries)")
    if out.suffix == ".pyi":
        print(
            f"note: {out.name} is for type checkers only: `from {out.stem} import ...` fails at "
            "run time, so cast() cannot name the Protocol; write a .py module instead",
            file=sys.stderr,
        )
    return 0


def run_check_sql(args: argparse.Namespace) -> int:
    from tradestore.db.url import parse_url  # noqa: PLC0415
    from tradestore.queries.checksql import check_queries  # noqa: PLC0415
    from tradestore.schema.migration_files import served_dialects  # noqa: PLC0415
    from tradestore.schema.scratch import (  # noqa: PLC0415
        postgres_base_url,
        scratch_postgres,
        scratch_sqlite,
    )

    queries = _load(args)
    problems = []
    with ExitStack() as stack:
        urls: list[str] = list(args.url)
        if not urls:
            migrations = _migrations(args)
            dialects = served_dialects(migrations)
            if "postgresql" in dialects and not args.no_postgres:
                base = postgres_base_url()
                if base is None:
                    raise ConfigurationError(
                        "check-sql needs PostgreSQL: set TEST_DATABASE_URL or a postgresql "
                        "DATABASE_URL (or pass --no-postgres to check SQLite only)"
                    )
                urls.append(stack.enter_context(scratch_postgres(base, migrations=migrations)))
            if "sqlite" in dialects and not args.no_sqlite:
                urls.append(stack.enter_context(scratch_sqlite(migrations=migrations)))
            if not urls:
                raise ConfigurationError("check-sql: nothing to check on (both dialects skipped)")
        for url in urls:
            found = check_queries(queries, url)
            dialect = parse_url(url).dialect
            print(f"check-sql: {len(queries)} queries on {dialect}: {len(found)} problem(s)")
            problems.extend(found)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0

"""`tradestore stubs` and `tradestore check-sql`: thin shells over `stubs` and `checksql`."""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

from tradestore.errors import ConfigurationError

#: The checked-in typed surface of the built-in queries (see `make stubs`).
BUILTIN_STUB = Path(__file__).resolve().parent.parent / "trading" / "builtin_queries.py"


def register(subparsers: Any) -> None:
    stubs = subparsers.add_parser(
        "stubs",
        help="generate the typed surface (a Protocol) of a SQL folder",
        description="Write a module declaring a typing.Protocol with one method per query. "
        "Parameter types come from PostgreSQL (--url of a migrated database, or --scratch "
        "to migrate a scratch schema of TEST_DATABASE_URL/DATABASE_URL); otherwise Any.",
    )
    stubs.add_argument("path", nargs="?", help="SQL folder (default: the built-in sql/)")
    stubs.add_argument("-o", "--output", help="file to write (default: stdout)")
    stubs.add_argument(
        "--models", help="module with the row models (default tradestore.trading.models)"
    )
    stubs.add_argument("--class-name", default=None, help="Protocol name (default BuiltinQueries)")
    stubs.add_argument("--url", help="migrated PostgreSQL database used to type parameters")
    stubs.add_argument(
        "--scratch", action="store_true", help="migrate a scratch PostgreSQL schema and use it"
    )
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
    check.add_argument("path", nargs="?", help="SQL folder (default: the built-in sql/)")
    check.add_argument("--models", help="module with extra row models")
    check.add_argument(
        "--url", action="append", default=[], help="an already-migrated database (repeatable)"
    )
    check.add_argument("--no-postgres", action="store_true", help="scratch mode: check SQLite only")
    check.set_defaults(handler=run_check_sql)


def _models(name: str | None) -> ModuleType | None:
    return importlib.import_module(name) if name else None


def run_stubs(args: argparse.Namespace) -> int:
    from tradestore.queries.stubs import generate  # noqa: PLC0415
    from tradestore.schema.scratch import postgres_base_url, scratch_postgres  # noqa: PLC0415
    from tradestore.trading.queries import load_queries  # noqa: PLC0415

    queries = load_queries(args.path, models=_models(args.models), echo=False, slow_query_ms=None)
    with ExitStack() as stack:
        url = args.url
        if args.scratch and url is None:
            base = postgres_base_url()
            if base is None:
                raise ConfigurationError(
                    "--scratch needs TEST_DATABASE_URL or DATABASE_URL pointing at PostgreSQL"
                )
            url = stack.enter_context(scratch_postgres(base))
        text = generate(
            queries,
            class_name=args.class_name or "BuiltinQueries",
            models_module=args.models or "tradestore.trading.models",
            url=url,
        )
    if args.output is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} is out of date with the SQL: run `make stubs`", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(queries)} queries)")
    return 0


def run_check_sql(args: argparse.Namespace) -> int:
    from tradestore.db.url import parse_url  # noqa: PLC0415
    from tradestore.queries.checksql import check_queries  # noqa: PLC0415
    from tradestore.schema.scratch import (  # noqa: PLC0415
        postgres_base_url,
        scratch_postgres,
        scratch_sqlite,
    )
    from tradestore.trading.queries import load_queries  # noqa: PLC0415

    queries = load_queries(args.path, models=_models(args.models), echo=False, slow_query_ms=None)
    problems = []
    with ExitStack() as stack:
        urls: list[str] = list(args.url)
        if not urls:
            if not args.no_postgres:
                base = postgres_base_url()
                if base is None:
                    raise ConfigurationError(
                        "check-sql needs PostgreSQL: set TEST_DATABASE_URL or a postgresql "
                        "DATABASE_URL (or pass --no-postgres to check SQLite only)"
                    )
                urls.append(stack.enter_context(scratch_postgres(base)))
            urls.append(stack.enter_context(scratch_sqlite()))
        for url in urls:
            found = check_queries(queries, url)
            dialect = parse_url(url).dialect
            print(f"check-sql: {len(queries)} queries on {dialect}: {len(found)} problem(s)")
            problems.extend(found)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0

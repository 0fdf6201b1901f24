"""`make bench`: tradestore against raw drivers and peer libraries, ratios from one run.

Usage: ``python benchmarks/run.py [--quick | --tiny] [--only W1,A1] [--url URL]``.
W1-W7 time the sync face, A1-A7 the async face (one event loop, the same table and SQL).
PostgreSQL comes from --url, else BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local
default; the bench owns the schema it is given (default `bench`: created, seeded, dropped).
Prints a markdown table and writes JSON to benchmarks/results/. Nothing asserts on time;
every contender's result is checked before it is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402

import contenders_async  # noqa: E402
import contenders_async_sqlite  # noqa: E402
import contenders_pg  # noqa: E402
import contenders_sqlite  # noqa: E402
import fixture  # noqa: E402
import workload_iter  # noqa: E402
from bench_model import BenchTrade  # noqa: E402
from harness import Result, Workload, arun_workload, markdown, run_workload  # noqa: E402
from tradestore.db.url import parse_url, redact  # noqa: E402
from tradestore.trading.queries import load_queries  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SYNC = ("W1", "W2", "W3", "W4", "W5", "W6")
PG_ASYNC = tuple(contenders_async.MAKERS)  # A1, A2, A3, A5
ALL = (*PG_SYNC, "W7", *PG_ASYNC, "A7")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="about a minute: fewer rounds/rows")
    size.add_argument("--tiny", action="store_true", help="seconds: proves the harness works")
    p.add_argument(
        "--only", default=",".join(ALL), help="comma-separated workloads (W1..W7, A1..A7)"
    )
    p.add_argument("--url", help="PostgreSQL URL (default: BENCH_/TEST_DATABASE_URL or local)")
    p.add_argument("--schema", default="bench", help="schema the bench creates and drops")
    p.add_argument("--sqlite", help="SQLite file for W7/A7 (default: a temporary directory)")
    p.add_argument("--out", help="JSON file (default: benchmarks/results/<timestamp>.json)")
    return p.parse_args(argv)


def pg_workloads(ctx: contenders_pg.PgContext, only: set[str]) -> list[Callable[[], Workload]]:
    makers = {
        "W1": contenders_pg.w1,
        "W2": contenders_pg.w2,
        "W3": contenders_pg.w3,
        "W4": contenders_pg.w4,
        "W5": contenders_pg.w5,
    }
    return [lambda m=maker: m(ctx) for key, maker in makers.items() if key in only]  # type: ignore[misc]


def close_all(closers: list[Callable[[], object]]) -> None:
    for close in closers:
        try:
            close()
        except Exception as exc:  # noqa: BLE001  (cleanup goes on; the failure is shown)
            log(f"cleanup: {type(exc).__name__}: {exc}")
    closers.clear()


def run_pg(
    args: argparse.Namespace, sizes: fixture.Sizes, only: set[str], q: Any
) -> tuple[list[Result], dict[str, list[str]]]:
    url = args.url or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    url = url or DEFAULT_URL
    parsed = parse_url(url)
    conninfo = parsed.conninfo()
    schema = args.schema
    base = url.split("?", 1)[0]
    kit_url = f"{base}?schema={schema}"
    results: list[Result] = []
    notes: dict[str, list[str]] = {}
    log(f"PostgreSQL {redact(base, parsed.password)}, schema {schema}: seeding")
    server = fixture.create_pg(conninfo, schema, sizes, stream="W6" in only)
    notes["server"] = [f"PostgreSQL {server} at {parsed.host or 'localhost'}"]
    ctx = contenders_pg.PgContext(conninfo, schema, kit_url, sizes, q)
    actx = contenders_async.AsyncPgContext(conninfo, base, schema, kit_url, sizes, q)
    try:
        for make in pg_workloads(ctx, only):
            workload = make()
            log(f"{workload.key} {workload.title}: {len(workload.contenders)} contenders")
            results += run_workload(workload, log)
            if workload.notes:
                notes[workload.key] = workload.notes
            close_all(ctx.closers)
        if "W6" in only:
            log("W6 streaming (one child process per measurement)")
            results += workload_iter.run(
                sizes_small=sizes.stream_small,
                sizes_big=sizes.stream_rows,
                rounds=sizes.w6_rounds,
                conninfo=conninfo,
                schema=schema,
                url=kit_url,
                log=log,
            )
        if only & set(PG_ASYNC):
            results += asyncio.run(run_pg_async(actx, only, notes))
    finally:
        close_all(ctx.closers)
        fixture.drop_pg(conninfo, schema)
    peers = ctx.notes + [n for n in actx.notes if n not in ctx.notes]
    if peers:
        notes["peers"] = peers
    return results, notes


async def run_pg_async(
    ctx: contenders_async.AsyncPgContext, only: set[str], notes: dict[str, list[str]]
) -> list[Result]:
    """A1-A5 on one event loop; each workload's connections are closed before the next."""
    results: list[Result] = []
    try:
        for key, make in contenders_async.MAKERS.items():
            if key not in only:
                continue
            workload = await make(ctx)
            log(f"{workload.key} {workload.title}: {len(workload.contenders)} contenders")
            results += await arun_workload(workload, log)
            if workload.notes:
                notes[workload.key] = workload.notes
            await contenders_async.close_all(ctx.closers, log)
    finally:
        await contenders_async.close_all(ctx.closers, log)
    return results


def run_sqlite(
    args: argparse.Namespace, sizes: fixture.Sizes, only: set[str], q: Any
) -> tuple[list[Result], list[str]]:
    closers: list[Callable[[], object]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.sqlite) if args.sqlite else Path(tmp) / "bench.db"
        log(f"SQLite {path}: seeding")
        fixture.create_sqlite(path, sizes)
        results: list[Result] = []
        if "W7" in only:
            try:
                for workload in contenders_sqlite.workloads(path, sizes, q, closers):
                    log(f"{workload.key} {workload.title}")
                    results += run_workload(workload, log)
            finally:
                close_all(closers)
        if "A7" in only:
            results += asyncio.run(run_sqlite_async(path, sizes, q, notes))
    return results, notes


async def run_sqlite_async(
    path: Path, sizes: fixture.Sizes, q: Any, notes: list[str]
) -> list[Result]:
    closers: list[contenders_async.Closer] = []
    results: list[Result] = []
    try:
        for workload in await contenders_async_sqlite.workloads(path, sizes, q, closers, notes):
            log(f"{workload.key} {workload.title}")
            results += await arun_workload(workload, log)
    finally:
        await contenders_async.close_all(closers, log)
    return results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sizes = fixture.TINY if args.tiny else fixture.QUICK if args.quick else fixture.FULL
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    only = {w.strip().upper() for w in args.only.split(",") if w.strip()}
    q = load_queries(
        HERE / "sql", models={"BenchTrade": BenchTrade}, echo=False, slow_query_ms=None
    )
    started = time.time()
    results: list[Result] = []
    notes: dict[str, list[str]] = {}
    unknown = only - set(ALL)
    if unknown:
        log(f"unknown workload(s) {', '.join(sorted(unknown))}; known: {', '.join(ALL)}")
        return 2
    if only & {*PG_SYNC, *PG_ASYNC}:
        pg_results, notes = run_pg(args, sizes, only, q)
        results += pg_results
    if only & {"W7", "A7"}:
        lite_results, lite_notes = run_sqlite(args, sizes, only, q)
        results += lite_results
        if lite_notes:
            notes["sqlite"] = lite_notes
    stamp = dt.datetime.now(dt.UTC)
    print(
        f"tradestore bench, {mode} run, {stamp:%Y-%m-%d %H:%M} UTC: Python "
        f"{platform.python_version()}, psycopg {psycopg.__version__}, {os.cpu_count()} CPUs\n"
    )
    print(markdown(results, notes))
    out = Path(args.out) if args.out else HERE / "results" / f"{stamp:%Y%m%dT%H%M%SZ}-{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": stamp.isoformat(timespec="seconds"),
        "mode": mode,
        "sizes": sizes.__dict__,
        "seconds": round(time.time() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "psycopg": psycopg.__version__,
            "libpq": psycopg.pq.version(),
        },
        "notes": notes,
        "results": [r.as_json() for r in results],
    }
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    log(f"wrote {out} ({report['seconds']} s)")
    failed = [r for r in results if r.error]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What one ``store.log_trade(...)`` costs, on each face of the store, per backend.

Run: ``.venv/bin/python benchmarks/store_log_trade.py [--url postgresql://...] [--sqlite]``
(default: TEST_DATABASE_URL, else ``postgresql://postgres@127.0.0.1:5432/test``, and a SQLite
WAL file in a temporary folder). Prints one JSON line per backend and face: microseconds per
call, median and min over rounds. Nothing here asserts on time.

- ``sync``: `TradeStore.log_trade`, one autocommit upsert a call (the bot's hot path).
- ``async``: `AsyncTradeStore.log_trade` awaited one after the other in one task (latency);
  ``async x16``: 16 tasks calling it at once, time per call (throughput), when the tree has it.

To compare two trees (e.g. before and after a change), run this script alternately with
``PYTHONPATH=<tree>/src``, several times each: neighbours on a shared machine then load both
alike (``tools``-free: the script only uses the public API of both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from tradestore import TradeStore, migrate
from tradestore.trading.inputs import TradeSignal

SIGNAL = TradeSignal(
    symbol="AAPL", action="BUY", strategy_name="bench", quantity="10", signal_price="187.25"
)


def _rounds(call: Callable[[int], float], rounds: int) -> dict[str, float]:
    call(1)  # warm up: connections open, statements prepared
    per_call = [call(i) for i in range(rounds)]
    return {"median_us": statistics.median(per_call), "min_us": min(per_call)}


def sync_face(url: str, number: int, rounds: int) -> dict[str, float]:
    with TradeStore(url, min_size=1, max_size=4) as store:

        def timed(_: int) -> float:
            start = time.perf_counter()
            for _ in range(number):
                store.log_trade(SIGNAL)
            return (time.perf_counter() - start) / number * 1e6

        return _rounds(timed, rounds)


async def _async_face(url: str, number: int, rounds: int, tasks: int) -> dict[str, float]:
    from tradestore.trading.store_async import AsyncTradeStore  # noqa: PLC0415  (newer trees)

    async with AsyncTradeStore(url, min_size=1, max_size=max(4, tasks)) as store:

        async def one_task(count: int) -> None:
            for _ in range(count):
                await store.log_trade(SIGNAL)

        async def timed() -> float:
            start = time.perf_counter()
            share = number // tasks
            await asyncio.gather(*(one_task(share) for _ in range(tasks)))
            return (time.perf_counter() - start) / (share * tasks) * 1e6

        await timed()
        per_call = [await timed() for _ in range(rounds)]
    return {"median_us": statistics.median(per_call), "min_us": min(per_call)}


def has_async_face() -> bool:
    try:
        import tradestore.trading.store_async  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def pg_schema_url(base: str) -> tuple[str, Callable[[], None]]:
    schema = f"bench_store_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}schema={schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default_pg = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--url", default=default_pg, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--number", type=int, default=1000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--faces", default="sync,async", help="sync, async or both")
    args = parser.parse_args()
    faces = set(args.faces.split(","))
    with tempfile.TemporaryDirectory() as folder:
        targets: list[tuple[str, str, Callable[[], None]]] = [
            ("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", lambda: None)
        ]
        if args.url:
            url, drop = pg_schema_url(args.url)
            targets.append(("postgresql", url, drop))
        for backend, url, cleanup in targets:
            try:
                migrate(url)
                result: dict[str, Any] = {"backend": backend}
                if "sync" in faces:
                    result["sync"] = sync_face(url, args.number, args.rounds)
                if "async" in faces and has_async_face():
                    result["async"] = asyncio.run(_async_face(url, args.number, args.rounds, 1))
                    result["async x16"] = asyncio.run(
                        _async_face(url, args.number, args.rounds, 16)
                    )
                print(json.dumps(result), flush=True)
            finally:
                cleanup()


if __name__ == "__main__":
    main()

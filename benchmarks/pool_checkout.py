"""Checkout + return cost of an idle connection: tradestore.Pool vs psycopg_pool.

Not a test (no timing is ever asserted): `python benchmarks/pool_checkout.py [URL]`.
Both pools are measured interleaved in one process, several rounds, median reported.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from psycopg_pool import ConnectionPool

from tradestore import Pool

N = 20_000
ROUNDS = 7


def per_call_us(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    for _ in range(N):
        fn()
    return (time.perf_counter() - start) / N * 1e6


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/test"
    ours = Pool(url, min_size=1, max_size=4)
    theirs = ConnectionPool(url, min_size=1, max_size=4, open=True, kwargs={"autocommit": True})
    lite = Pool("sqlite:///:memory:", min_size=1, max_size=4)

    def ts_pg() -> None:
        with ours.connection():
            pass

    def psycopg_pool() -> None:
        with theirs.connection():
            pass

    def ts_sqlite() -> None:
        with lite.connection():
            pass

    def ts_raw_get_put() -> None:
        ours.putconn(ours.getconn())

    contenders = {
        "tradestore Pool.connection() [pg]": ts_pg,
        "tradestore getconn/putconn [pg]": ts_raw_get_put,
        "psycopg_pool .connection() [pg]": psycopg_pool,
        "tradestore Pool.connection() [sqlite]": ts_sqlite,
    }
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(ROUNDS):
        for name, fn in contenders.items():
            results[name].append(per_call_us(fn))
    base = statistics.median(results["psycopg_pool .connection() [pg]"])
    print(f"checkout+return of an idle connection, {ROUNDS} rounds x {N:,} calls")
    print("| contender | median µs | min-max µs | ratio to psycopg_pool |")
    print("|---|---:|---:|---:|")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} | {min(values):.2f}-{max(values):.2f} | {med / base:.2f} |")
    ours.close()
    theirs.close()
    lite.close()


if __name__ == "__main__":
    main()

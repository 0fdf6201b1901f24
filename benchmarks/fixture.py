"""The bench fixture: sizes, the `bench` schema on PostgreSQL and a WAL file on SQLite, seeded.

The tables are a bench fixture (benchmarks/ddl/*.sql), not a migration. PostgreSQL rows are
generated server-side with generate_series (1M rows in seconds, no Python loop); SQLite rows
with one executemany.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from tradestore.db.backends.sqlite_values import datetime_text, decimal_text

HERE = Path(__file__).resolve().parent

# The raw sqlite3 baseline (and the seeding below) store the same text as the kit. The kit
# converts per call and never registers adapters (it must not change its host's sqlite3);
# this benchmark process is the host, so registering them for its own raw connections is fine.
sqlite3.register_adapter(Decimal, decimal_text)
sqlite3.register_adapter(dt.datetime, datetime_text)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SYMBOLS = 50
EIGHT = Decimal("0.00000001")


@dataclass(frozen=True)
class Sizes:
    """How big each workload is: FULL is the issue's spec, QUICK a few minutes, TINY a smoke.

    Every timed workload gets at least 5 rounds outside TINY: its ratio is the median of the
    per-round ratios, and fewer rounds make that median one noisy round.
    """

    rows: int = 200_000
    # Many short samples, not a few long ones: on a shared machine the load from neighbours
    # changes within seconds, and fine interleaving spreads it evenly over the contenders.
    rounds: int = 40
    w1_number: int = 250
    w2_number: int = 100
    w3_number: int = 5
    bulk_rows: int = 50_000
    w4_rounds: int = 5
    threads: int = 8
    per_thread: int = 1000
    pool_size: int = 4
    w5_rounds: int = 9
    # A5 (async): this many tasks at once, `per_task` selects each, on `pool_size` connections.
    tasks: int = 200
    per_task: int = 50
    a5_rounds: int = 9
    stream_rows: int = 1_000_000
    stream_small: int = 100_000
    w6_rounds: int = 2

    @property
    def range_rows(self) -> int:
        """Rows the W3 window holds: one symbol's rows in a window (1,000 at full size)."""
        return min(1000, self.rows // SYMBOLS)


FULL = Sizes()
QUICK = Sizes(
    rounds=12,
    w1_number=150,
    w2_number=60,
    w3_number=3,
    w4_rounds=5,
    w5_rounds=5,
    a5_rounds=5,
    per_task=20,
    per_thread=250,
    stream_rows=200_000,
    stream_small=20_000,
)
TINY = Sizes(
    rows=2000,
    rounds=2,  # two, so the smoke run rotates the order and takes per-round ratios
    w1_number=5,
    w2_number=5,
    w3_number=2,
    bulk_rows=200,
    w4_rounds=1,
    threads=2,
    per_thread=5,
    pool_size=2,
    w5_rounds=1,
    tasks=20,
    per_task=3,
    a5_rounds=2,
    stream_rows=3000,
    stream_small=300,
)


def range_window(sizes: Sizes) -> tuple[str, dt.datetime, dt.datetime]:
    """Symbol S0 holds every 50th row, one second apart: this window holds `range_rows`."""
    return "S0", T0, T0 + dt.timedelta(seconds=SYMBOLS * sizes.range_rows)


def point_id(sizes: Sizes) -> int:
    return sizes.rows // 2


def bulk_rows(n: int) -> list[dict[str, Any]]:
    """The W4 input: the same list of dicts for every contender."""
    return [
        {
            "symbol": f"B{i % SYMBOLS}",
            "side": "buy" if i % 2 == 0 else "sell",
            "qty": Decimal(i % 100) + Decimal("1.25"),
            "price": (Decimal(100) + Decimal(i % 1000) / 7).quantize(EIGHT),
            "ts": T0 + dt.timedelta(seconds=i),
        }
        for i in range(n)
    ]


_PG_SEED = """
INSERT INTO {table} ({cols}symbol, side, qty, price, ts)
SELECT {gcol}'S' || (g %% 50), CASE WHEN g %% 2 = 0 THEN 'buy' ELSE 'sell' END,
       (g %% 100) + 1.25, CAST(100 + (g %% 1000) / 7.0 AS NUMERIC(20, 8)),
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second'
FROM generate_series(0, %s - 1) AS g
ORDER BY g
"""


def create_pg(conninfo: str, schema: str, sizes: Sizes, *, stream: bool) -> str:
    """(Re)create `schema` with the bench tables and seed them; returns the server version."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path = "{schema}"')
        conn.execute((HERE / "ddl" / "postgresql.sql").read_text())
        conn.execute(_PG_SEED.format(table="trades", cols="", gcol=""), (sizes.rows,))
        if stream:
            conn.execute(
                _PG_SEED.format(table="stream_trades", cols="id, ", gcol="g + 1, "),
                (sizes.stream_rows,),
            )
        conn.execute("ANALYZE")
        return str(conn.info.parameter_status("server_version") or "?")


def drop_pg(conninfo: str, schema: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def create_sqlite(path: Path, sizes: Sizes) -> None:
    """A fresh WAL file with the bench tables and `sizes.rows` trades."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript((HERE / "ddl" / "sqlite.sql").read_text())
        rows = (
            (
                f"S{g % SYMBOLS}",
                "buy" if g % 2 == 0 else "sell",
                Decimal(g % 100) + Decimal("1.25"),
                (Decimal(100) + Decimal(g % 1000) / Decimal("7.0")).quantize(EIGHT),
                T0 + dt.timedelta(seconds=g),
            )
            for g in range(sizes.rows)
        )
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO trades (symbol, side, qty, price, ts) VALUES (?, ?, ?, ?, ?)", rows
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()

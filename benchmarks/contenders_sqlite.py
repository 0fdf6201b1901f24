"""W7: W1-W4 on a SQLite WAL file, raw sqlite3 (the baseline) against tradestore.

The raw connection gets the same settings as the kit's (autocommit, WAL, synchronous=FULL,
and Decimal/datetime adapters storing the kit's text, registered by fixture.py), so the ratio
is the kit's own work.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_model import COLUMNS, BenchTrade, validate
from contenders_pg import BULK_KEYS, NEW_ARGS, NEW_ROW
from fixture import Sizes, bulk_rows, point_id, range_window
from harness import Contender, Workload
from tradestore import Pool
from tradestore.queries.loader import Queries

SELECT_ONE = "SELECT id, symbol, side, qty, price, ts FROM trades WHERE id = ?"
INSERT_ONE = "INSERT INTO trades (symbol, side, qty, price, ts) VALUES (?, ?, ?, ?, ?) RETURNING id"
SELECT_RANGE = (
    "SELECT id, symbol, side, qty, price, ts FROM trades "
    "WHERE symbol = ? AND ts >= ? AND ts < ? ORDER BY ts"
)
INSERT_BULK = "INSERT INTO bulk_trades (symbol, side, qty, price, ts) VALUES (?, ?, ?, ?, ?)"


def workloads(
    path: Path, sizes: Sizes, q: Queries, closers: list[Callable[[], object]]
) -> list[Workload]:
    pool = Pool(f"sqlite:///{path}", min_size=1, max_size=1)
    closers.append(pool.close)
    kit = pool.getconn()
    closers.insert(0, lambda: pool.putconn(kit))
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    closers.append(raw.close)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    pid = point_id(sizes)

    def check_one(r: Any) -> None:
        assert isinstance(r, BenchTrade), r
        assert r.id == pid, r

    def raw_one() -> Any:
        row = raw.execute(SELECT_ONE, (pid,)).fetchone()
        return validate(dict(zip(COLUMNS, row, strict=True)))

    def raw_insert() -> Any:
        cur = raw.execute(INSERT_ONE, NEW_ARGS)
        (new_id,) = cur.fetchone()
        cur.close()  # RETURNING finishes (and autocommits) once the cursor is done
        return new_id

    def check_id(r: Any) -> None:
        assert isinstance(r, int), r
        assert r > 0, r

    symbol, since, until = range_window(sizes)
    args = (symbol, since, until)
    expected = sizes.range_rows

    def raw_range() -> Any:
        cur = raw.execute(SELECT_RANGE, args)
        names = [c[0] for c in cur.description]
        return [BenchTrade.model_validate(dict(zip(names, r, strict=True))) for r in cur]

    def check_range(rows: Any) -> None:
        assert len(rows) == expected, len(rows)
        assert all(isinstance(r, BenchTrade) and r.symbol == symbol for r in rows)

    rows = bulk_rows(sizes.bulk_rows)

    def raw_bulk() -> None:
        raw.execute("BEGIN")
        raw.executemany(INSERT_BULK, [tuple(d[k] for k in BULK_KEYS) for d in rows])
        raw.execute("COMMIT")

    def truncate() -> None:
        raw.execute("DELETE FROM bulk_trades")

    def check_bulk(_: Any) -> None:
        (count,) = raw.execute("SELECT count(*) FROM bulk_trades").fetchone()
        assert count == len(rows), count

    kw = {"symbol": symbol, "since": since, "until": until}
    n, rounds = sizes.w1_number, sizes.rounds
    return [
        Workload(
            "W7.1",
            "SQLite point select → model",
            "us",
            n,
            rounds,
            [
                Contender("raw sqlite3 + validate_python", raw_one, check_one, baseline=True),
                Contender("tradestore", lambda: q.get_trade(kit, id=pid), check_one),
            ],
        ),
        Workload(
            "W7.2",
            "SQLite insert one, return id",
            "us",
            sizes.w2_number,
            rounds,
            [
                Contender("raw sqlite3", raw_insert, check_id, baseline=True),
                Contender("tradestore", lambda: q.insert_trade(kit, **NEW_ROW), check_id),
            ],
        ),
        Workload(
            "W7.3",
            f"SQLite {expected:,}-row range → models",
            "ms",
            sizes.w3_number,
            rounds,
            [
                Contender(
                    "raw sqlite3 + model_validate loop", raw_range, check_range, baseline=True
                ),
                Contender("tradestore", lambda: q.trades_between(kit, **kw), check_range),
            ],
        ),
        Workload(
            "W7.4",
            f"SQLite bulk insert {len(rows):,} rows",
            "ms",
            1,
            sizes.w4_rounds,
            [
                Contender(
                    "raw sqlite3 executemany", raw_bulk, check_bulk, baseline=True, before=truncate
                ),
                Contender(
                    "tradestore :copyfrom",
                    lambda: q.load_bulk_trades(kit, rows),
                    check_bulk,
                    before=truncate,
                ),
            ],
        ),
    ]

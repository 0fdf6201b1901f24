"""SQLite value conversion: the kit's per-call conversion against plain sqlite3 adapters.

Not a test (no timing is ever asserted): ``python benchmarks/sqlite_values.py [ROUNDS]``.
Contenders of each line run interleaved in one process, several rounds; medians reported.

- per value: ``SELECT ?`` on a raw connection, the value adapted by a plain adapter registered
  with sqlite3 (Decimal -> str, datetime -> isoformat, dict -> json.dumps) or converted by the
  kit's picker first; the int line is the floor both share.
- picker: the kit's unrolled picker against ``itemgetter`` + ``isdisjoint(map(type, ...))``
  on three values that need no conversion (the check every SQLite call pays).
- calls: raw sqlite3 (plain adapters) against the kit on one checked-out connection: a point
  select by int, an insert of Decimal + aware datetime + dict, a :copyfrom of 10,000 rows.

The plain adapters are registered globally here: this script is the host process, which is
free to; the kit itself never registers any (and ignores them: it converts before sqlite3).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tradestore import Pool, load_queries
from tradestore.db.backends.sqlite_values import picker
from tradestore.queries.fields import JsonObject, Money, UtcDatetime

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
SQL = """
-- name: get_row :one Row
SELECT id, symbol, qty, price, ts, meta
FROM t
WHERE id = :id;

-- name: add_row :exec
INSERT INTO t (symbol, qty, price, ts, meta)
VALUES (:symbol, :qty, :price, :ts, :meta);

-- name: load_rows :copyfrom
INSERT INTO bulk (symbol, qty, price, ts, meta)
VALUES (:symbol, :qty, :price, :ts, :meta);
"""
DDL = """
CREATE TABLE t (id INTEGER PRIMARY KEY, symbol TEXT, qty TEXT, price TEXT, ts TEXT, meta TEXT);
CREATE TABLE bulk (id INTEGER PRIMARY KEY, symbol TEXT, qty TEXT, price TEXT, ts TEXT, meta TEXT);
"""
KEYS = ("symbol", "qty", "price", "ts", "meta")
COLUMNS = ("id", *KEYS)
PARAMS: dict[str, Any] = {
    "symbol": "AAPL",
    "qty": Decimal("1.5"),
    "price": Decimal("187.12345678"),
    "ts": T0,
    "meta": {"venue": "X", "n": 1},
}
BULK = [
    {
        "symbol": f"S{i % 50}",
        "qty": Decimal(i % 100) + Decimal("1.25"),
        "price": (Decimal(100) + Decimal(i % 1000) / 7).quantize(Decimal("0.00000001")),
        "ts": T0 + dt.timedelta(seconds=i, microseconds=i),
        "meta": {"i": i},
    }
    for i in range(10_000)
]


class Row(BaseModel):
    id: int
    symbol: str
    qty: Money
    price: Money
    ts: UtcDatetime
    meta: JsonObject


def race(
    contenders: dict[str, Callable[[], object]], number: int, rounds: int, reset: Any = None
) -> dict[str, float]:
    """Median seconds per call of each contender, rounds interleaved (first one: warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    items = list(contenders.items())
    for r in range(rounds + 1):
        for name, fn in items[r % len(items) :] + items[: r % len(items)]:
            if reset is not None:
                reset()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            if r:
                times[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(values) for name, values in times.items()}


def show(title: str, medians: dict[str, float]) -> None:
    scale, unit = (1e3, "ms") if min(medians.values()) > 1e-3 else (1e6, "us")
    cells = "  ".join(f"{name} {seconds * scale:9.3f} {unit}" for name, seconds in medians.items())
    print(f"{title:44s} {cells}")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    sqlite3.register_adapter(Decimal, str)
    sqlite3.register_adapter(dt.datetime, dt.datetime.isoformat)
    sqlite3.register_adapter(dict, json.dumps)
    scratch = sqlite3.connect(":memory:")
    per_value: dict[str, dict[str, float]] = {}
    for value in (12345, PARAMS["price"], PARAMS["ts"], PARAMS["meta"]):
        pick = picker(("v",), "bench")
        args, params = (value,), {"v": value}
        per_value[type(value).__name__] = race(
            {
                "plain adapter": lambda args=args: scratch.execute("SELECT ?", (*args,)),
                "kit": lambda pick=pick, params=params: scratch.execute("SELECT ?", pick(params)),
            },
            20_000,
            rounds,
        )
    floor = per_value.pop("int")
    show("SELECT ? of an int (tuple vs kit picker)", floor)
    for kind, medians in per_value.items():
        show(f"  a {kind}, over the int", {k: v - floor[k] for k, v in medians.items()})
    three = {"a": "AAPL", "b": "BUY", "c": 100}
    getter = itemgetter("a", "b", "c")
    unrolled = picker(("a", "b", "c"), "bench")
    kinds = frozenset((Decimal, dt.datetime, dt.date, dict, list))

    def checked() -> object:
        values = getter(three)
        return values if kinds.isdisjoint(map(type, values)) else None

    show(
        "picker, 3 values, none converted",
        race({"itemgetter+isdisjoint": checked, "kit": lambda: unrolled(three)}, 50_000, rounds),
    )

    folder = Path(tempfile.mkdtemp())
    (folder / "bench.sql").write_text(SQL)
    q = load_queries(folder, models={"Row": Row}, echo=False, slow_query_ms=None)
    path = folder / "bench.db"
    with Pool(f"sqlite:///{path}?synchronous=OFF", min_size=1, max_size=1) as pool:
        kit = pool.getconn()
        kit.raw.executescript(DDL)
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("PRAGMA synchronous = OFF")
        q.load_rows(kit, [{**PARAMS, "symbol": f"S{i}"} for i in range(1000)])
        raw.execute("INSERT INTO t SELECT * FROM bulk")
        validate = Row.__pydantic_validator__.validate_python
        select = "SELECT id, symbol, qty, price, ts, meta FROM t WHERE id = ?"
        insert = "INSERT INTO t (symbol, qty, price, ts, meta) VALUES (?, ?, ?, ?, ?)"
        bulk = "INSERT INTO bulk (symbol, qty, price, ts, meta) VALUES (?, ?, ?, ?, ?)"
        values = tuple(PARAMS[k] for k in KEYS)
        rows = itemgetter(*KEYS)

        def raw_bulk() -> None:
            raw.execute("BEGIN")
            raw.executemany(bulk, list(map(rows, BULK)))
            raw.execute("COMMIT")

        show(
            "(a) point select :one, 1 int param",
            race(
                {
                    "raw": lambda: validate(
                        dict(zip(COLUMNS, raw.execute(select, (500,)).fetchone(), strict=True))
                    ),
                    "kit": lambda: q.get_row(kit, id=500),
                },
                2000,
                rounds,
            ),
        )
        show(
            "(b) insert Decimal+datetime+dict",
            race(
                {
                    "raw": lambda: raw.execute(insert, values),
                    "kit": lambda: q.add_row(kit, **PARAMS),
                },
                1000,
                rounds,
            ),
        )
        show(
            "(c) bulk 10,000 rows",
            race(
                {"raw": raw_bulk, "kit": lambda: q.load_rows(kit, BULK)},
                1,
                rounds,
                reset=lambda: raw.execute("DELETE FROM bulk"),
            ),
        )
        raw.close()
        pool.putconn(kit)


if __name__ == "__main__":
    main()

"""A7: the async face on a SQLite WAL file: aiosqlite + model (the baseline) against the kit's
`AsyncPool`, whose connections each run on a worker thread of their own
(`tradestore.db.backends.sqlite_aio`), and aiosql's aiosqlite adapter.

The numbers behind a choice the issue left open (aiosqlite, or the kit's own worker threads):
A7.1 and A7.2 price one call (a thread hop each way, plus the kit's work), A7.5 the same pool
under many tasks, with the event loop's lag. The raw connections get the kit's settings
(autocommit, WAL, synchronous=FULL, and the Decimal/datetime adapters fixture.py registers),
so the ratio is the bridge's and the kit's own work. "raw sqlite3 on the loop" is a contrast,
not a contender: it blocks the event loop for every statement.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_model import BenchTrade
from contenders_async import Closer, concurrent, model
from contenders_pg import NEW_ARGS, NEW_ROW, is_id, is_trade
from contenders_sqlite import INSERT_ONE, SELECT_ONE
from fixture import Sizes, point_id
from harness import Contender, Workload
from tradestore.db.pool_async import AsyncPool
from tradestore.queries.loader import Queries

AIOSQL_SQL = """
-- name: get_trade^
-- record_class: BenchTrade
SELECT id, symbol, side, qty, price, ts FROM trades WHERE id = :id;

-- name: insert_trade<!
-- aiosql's `<!` on aiosqlite answers the cursor's lastrowid: no RETURNING needed.
INSERT INTO trades (symbol, side, qty, price, ts) VALUES (:symbol, :side, :qty, :price, :ts);
"""


async def _aiosqlite(path: Path, closers: list[Closer]) -> Any:
    import aiosqlite  # noqa: PLC0415

    conn = await aiosqlite.connect(path, isolation_level=None)
    closers.append(conn.close)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = FULL")
    return conn


async def _kit_pool(path: Path, size: int, closers: list[Closer]) -> AsyncPool:
    pool = AsyncPool(f"sqlite:///{path}", min_size=size, max_size=size)
    await pool.open()
    closers.append(pool.close)
    return pool


async def workloads(
    path: Path, sizes: Sizes, q: Queries, closers: list[Closer], notes: list[str]
) -> list[Workload]:
    """A7.1, A7.2 and A7.5, or none (with a note) when aiosqlite is not installed."""
    try:
        import aiosqlite  # noqa: F401, PLC0415
    except ImportError:
        notes.append("aiosqlite is not installed (pip install -e '.[bench]'): A7 is skipped")
        return []
    pid = point_id(sizes)
    check_one = is_trade(pid)
    lite = await _aiosqlite(path, closers)
    pool = await _kit_pool(path, 1, closers)
    held_from = await _kit_pool(path, 1, closers)
    kit = await held_from.getconn()
    closers.insert(0, lambda: held_from.putconn(kit))
    blocking = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    closers.append(blocking.close)
    blocking.execute("PRAGMA synchronous = FULL")

    async def lite_one() -> Any:
        # One hop: execute and fetch together (execute + fetchone + close would be three).
        return model((await lite.execute_fetchall(SELECT_ONE, (pid,)))[0])

    async def lite_cursor_one() -> Any:
        async with lite.execute(SELECT_ONE, (pid,)) as cur:
            return model(await cur.fetchone())

    async def blocking_one() -> Any:
        return model(blocking.execute(SELECT_ONE, (pid,)).fetchone())

    async def lite_insert() -> Any:
        return (await lite.execute_fetchall(INSERT_ONE, NEW_ARGS))[0][0]

    async def blocking_insert() -> Any:
        cur = blocking.execute(INSERT_ONE, NEW_ARGS)
        (new_id,) = cur.fetchone()
        cur.close()
        return new_id

    get, ins = q.get_trade, q.insert_trade
    a71 = [
        Contender(
            "aiosqlite execute_fetchall + validate_python", lite_one, check_one, baseline=True
        ),
        Contender("aiosqlite execute + fetchone (cursor)", lite_cursor_one, check_one),
        Contender("tradestore (AsyncPool)", lambda: get(pool, id=pid), check_one),
        Contender("tradestore (AsyncConnection held)", lambda: get(kit, id=pid), check_one),
        Contender("raw sqlite3 on the loop (contrast: blocks it)", blocking_one, check_one),
    ]
    a72 = [
        Contender("aiosqlite execute_fetchall", lite_insert, is_id, baseline=True),
        Contender("tradestore (AsyncPool)", lambda: ins(pool, **NEW_ROW), is_id),
        Contender("tradestore (AsyncConnection held)", lambda: ins(kit, **NEW_ROW), is_id),
        Contender("raw sqlite3 on the loop (contrast: blocks it)", blocking_insert, is_id),
    ]
    queries = _aiosql()
    if queries is None:
        notes.append("aiosql is not installed: its A7 rows are skipped")
    else:
        ai = await _aiosqlite(path, closers)
        a71.append(
            Contender("aiosql (aiosqlite)", lambda: queries.get_trade(ai, id=pid), check_one)
        )
        a72.append(
            Contender("aiosql (aiosqlite)", lambda: queries.insert_trade(ai, **NEW_ROW), is_id)
        )
    n, rounds = sizes.w1_number, sizes.rounds
    return [
        Workload("A7.1", "async SQLite point select → model", "us", n, rounds, a71, aio=True),
        Workload(
            "A7.2",
            "async SQLite insert one, return id",
            "us",
            sizes.w2_number,
            rounds,
            a72,
            aio=True,
        ),
        await _a75(path, sizes, q, closers),
    ]


def _aiosql() -> Any:
    try:
        import aiosql  # noqa: PLC0415
    except ImportError:
        return None
    return aiosql.from_str(
        AIOSQL_SQL,
        "aiosqlite",
        record_classes={"BenchTrade": BenchTrade},
        mandatory_parameters=False,
    )


async def _a75(path: Path, sizes: Sizes, q: Queries, closers: list[Closer]) -> Workload:
    """Many tasks at once on `pool_size` SQLite connections: the kit's pool against an
    asyncio.Queue of as many aiosqlite connections (aiosqlite has no pool)."""
    s = sizes
    pid, size = point_id(s), s.pool_size
    total = s.tasks * s.per_task
    free: asyncio.Queue[Any] = asyncio.Queue()
    for _ in range(size):
        free.put_nowait(await _aiosqlite(path, closers))

    async def queue_one() -> Any:
        conn = await free.get()
        try:
            rows = await conn.execute_fetchall(SELECT_ONE, (pid,))
        finally:
            free.put_nowait(conn)
        return model(rows[0])

    pool = await _kit_pool(path, size, closers)

    def batch(one: Callable[[], Any]) -> Callable[[], Any]:
        return concurrent(s.tasks, s.per_task, pid, one)

    def check(n: Any) -> None:
        assert n == total, n

    work = Workload(
        "A7.5",
        f"async SQLite {s.tasks} tasks x {s.per_task:,} selects, pool of {size}",
        "ms",
        1,
        s.a5_rounds,
        [
            Contender(
                f"asyncio.Queue of {size} aiosqlite connections",
                batch(queue_one),
                check,
                baseline=True,
            ),
            Contender("tradestore AsyncPool", batch(lambda: q.get_trade(pool, id=pid)), check),
        ],
        aio=True,
        loop_lag=True,
    )
    work.extra["operations"] = total
    return work

"""A1-A5 on PostgreSQL, async face: raw psycopg `AsyncConnection` (the baseline), tradestore's
`AsyncPool` and held `AsyncConnection`, psycopg_pool, asyncpg, aiosql, SQLAlchemy asyncio.

The same seeded table and SQL text as W1-W5 (`contenders_pg`), one event loop for the whole
run, every contender on its own connection(s), autocommit for all. Baselines are what a
careful user writes: psycopg's default prepared statements (threshold 5) and the model's
compiled validator fed ``dict(zip(COLUMNS, row))`` (faster than ``Model(**kw)``; measured in
benchmarks/README.md). A5 runs `tasks` tasks of `per_task` point selects each through a pool
of `pool_size`, with the event loop's lag measured while they run (`loop_lag`).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench_model import COLUMNS, BenchTrade, validate
from contenders_pg import (
    INSERT_ONE,
    NEW_ARGS,
    NEW_ROW,
    SELECT_ONE,
    SELECT_RANGE,
    is_id,
    is_trade,
    named,
)
from fixture import Sizes, point_id, range_window
from harness import Contender, Workload
from tradestore.db.pool_async import AsyncPool
from tradestore.queries.loader import Queries

Closer = Callable[[], object]


def dollar(sql: str) -> str:
    """The statement with asyncpg's ``$1, $2, ...`` placeholders."""
    parts = sql.split("%s")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


async def close_all(closers: list[Closer], log: Callable[[str], None]) -> None:
    """Run the closers in order (coroutine functions awaited); failures are shown, not raised."""
    for close in closers:
        try:
            done = close()
            if inspect.isawaitable(done):
                await done
        except Exception as exc:  # noqa: BLE001  (cleanup goes on; the failure is shown)
            log(f"cleanup: {type(exc).__name__}: {exc}")
    closers.clear()


@dataclass
class AsyncPgContext:
    conninfo: str
    dsn: str  # the URL without tradestore's query (asyncpg's DSN)
    schema: str
    url: str  # tradestore URL with ?schema=
    sizes: Sizes
    q: Queries
    closers: list[Closer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def options(self) -> str:
        return f"-c search_path={self.schema}"

    async def raw(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, options=self.options
        )
        self.closers.append(conn.close)
        return conn

    async def pool(self, size: int = 1) -> AsyncPool:
        pool = AsyncPool(self.url, min_size=size, max_size=size)
        await pool.open()
        self.closers.append(pool.close)
        return pool

    async def kit_conn(self) -> Any:
        """A kit AsyncConnection held outside any pool checkout for the whole run."""
        pool = await self.pool()
        conn = await pool.getconn()
        self.closers.insert(0, lambda: pool.putconn(conn))
        return conn

    async def psycopg_pool(self, size: int = 1) -> Any:
        try:
            from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415
        except ImportError:
            self.missing("psycopg_pool")
            return None
        pool = AsyncConnectionPool(
            self.conninfo,
            min_size=size,
            max_size=size,
            open=False,
            kwargs={"autocommit": True, "options": self.options},
        )
        await pool.open(wait=True)
        self.closers.append(pool.close)
        return pool

    async def asyncpg_conn(self) -> Any:
        try:
            import asyncpg  # noqa: PLC0415
        except ImportError:
            self.missing("asyncpg")
            return None
        conn = await asyncpg.connect(self.dsn, server_settings={"search_path": self.schema})
        self.closers.append(conn.close)
        return conn

    async def asyncpg_pool(self, size: int) -> Any:
        try:
            import asyncpg  # noqa: PLC0415
        except ImportError:
            self.missing("asyncpg")
            return None
        pool = await asyncpg.create_pool(
            self.dsn, min_size=size, max_size=size, server_settings={"search_path": self.schema}
        )
        self.closers.append(pool.close)
        return pool

    def sqlalchemy(self, **kwargs: Any) -> Any:
        """An async engine on psycopg's AsyncConnection (the baseline's driver), autocommit."""
        try:
            from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415
        except ImportError:
            self.missing("sqlalchemy")
            return None
        conninfo, options = self.conninfo, self.options

        async def creator() -> psycopg.AsyncConnection[Any]:
            return await psycopg.AsyncConnection.connect(conninfo, options=options)

        try:
            engine = create_async_engine(
                "postgresql+psycopg://",
                async_creator=creator,
                isolation_level="AUTOCOMMIT",
                **kwargs,
            )
        except ImportError:  # sqlalchemy without greenlet: no asyncio extension
            self.missing("sqlalchemy[asyncio]")
            return None
        self.closers.append(engine.dispose)
        return engine

    async def sqlalchemy_conn(self) -> Any:
        engine = self.sqlalchemy()
        if engine is None:
            return None
        conn = await engine.connect()
        self.closers.insert(0, conn.close)
        return conn

    def aiosql(self, text: str) -> Any:
        try:
            import aiosql  # noqa: PLC0415
        except ImportError:
            self.missing("aiosql")
            return None
        return aiosql.from_str(
            text, "apsycopg", record_classes={"BenchTrade": BenchTrade}, mandatory_parameters=False
        )

    def missing(self, name: str) -> None:
        note = f"{name} is not installed (pip install -e '.[bench]'): its rows are skipped"
        if note not in self.notes:
            self.notes.append(note)


def model(row: Any) -> BenchTrade:
    """The baseline's row building: the compiled validator over a dict of known columns.

    zip() without ``strict=``: the columns are the SELECT's own, and any keyword argument
    sends zip() down CPython's slow call path, 0.2 µs a row (15 % of building one), which a
    careful user does not pay for nothing.
    """
    return validate(dict(zip(COLUMNS, row)))  # noqa: B905


async def a1(ctx: AsyncPgContext) -> Workload:
    """Point select by primary key into one model."""
    pid = point_id(ctx.sizes)
    raw, reused = await ctx.raw(), await ctx.raw()
    reused_cursor = reused.cursor()

    async def raw_tuple() -> Any:
        return await (await raw.execute(SELECT_ONE, (pid,))).fetchone()

    async def raw_model() -> Any:
        cur = await raw.execute(SELECT_ONE, (pid,))
        return model(await cur.fetchone())

    async def raw_reused() -> Any:
        await reused_cursor.execute(SELECT_ONE, (pid,))
        return model(await reused_cursor.fetchone())

    get = ctx.q.get_trade
    pool, kit = await ctx.pool(), await ctx.kit_conn()
    check = is_trade(pid)
    contenders = [
        Contender("raw psycopg async, tuple row", raw_tuple, lambda r: None, note="no model"),
        Contender("raw psycopg AsyncConnection + validate_python", raw_model, check, baseline=True),
        Contender("raw psycopg async, one reused cursor", raw_reused, check),
        Contender("tradestore (AsyncPool)", lambda: get(pool, id=pid), check),
        Contender("tradestore (AsyncConnection held)", lambda: get(kit, id=pid), check),
    ]
    pp = await ctx.psycopg_pool()
    if pp is not None:

        async def pp_one() -> Any:
            async with pp.connection() as conn:
                cur = await conn.execute(SELECT_ONE, (pid,))
                return model(await cur.fetchone())

        contenders.append(Contender("psycopg_pool AsyncConnectionPool + raw", pp_one, check))
    apg = await ctx.asyncpg_conn()
    if apg is not None:
        sql = dollar(SELECT_ONE)

        async def apg_one() -> Any:
            return validate(dict(await apg.fetchrow(sql, pid)))

        contenders.append(Contender("asyncpg + validate_python", apg_one, check))
    queries = ctx.aiosql(
        "-- name: get_trade^\n-- record_class: BenchTrade\n" + named(SELECT_ONE, ("id",), "colon")
    )
    if queries is not None:
        ai = await ctx.raw()
        contenders.append(
            Contender("aiosql (apsycopg)", lambda: queries.get_trade(ai, id=pid), check)
        )
    sa = await ctx.sqlalchemy_conn()
    if sa is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(named(SELECT_ONE, ("id",), "colon"))

        async def sa_one() -> Any:
            return validate((await sa.execute(stmt, {"id": pid})).one()._asdict())

        contenders.append(Contender("SQLAlchemy asyncio text()", sa_one, check))
    return Workload(
        "A1",
        "async point select → model",
        "us",
        ctx.sizes.w1_number,
        ctx.sizes.rounds,
        contenders,
        aio=True,
    )


async def a2(ctx: AsyncPgContext) -> Workload:
    """Insert one row, committed (autocommit), returning its id."""
    raw = await ctx.raw()

    async def raw_insert() -> Any:
        row = await (await raw.execute(INSERT_ONE, NEW_ARGS)).fetchone()
        return row[0]

    ins = ctx.q.insert_trade
    pool, kit = await ctx.pool(), await ctx.kit_conn()
    contenders = [
        Contender("raw psycopg AsyncConnection", raw_insert, is_id, baseline=True),
        Contender("tradestore (AsyncPool)", lambda: ins(pool, **NEW_ROW), is_id),
        Contender("tradestore (AsyncConnection held)", lambda: ins(kit, **NEW_ROW), is_id),
    ]
    pp = await ctx.psycopg_pool()
    if pp is not None:

        async def pp_insert() -> Any:
            async with pp.connection() as conn:
                return (await (await conn.execute(INSERT_ONE, NEW_ARGS)).fetchone())[0]

        contenders.append(Contender("psycopg_pool AsyncConnectionPool + raw", pp_insert, is_id))
    apg = await ctx.asyncpg_conn()
    if apg is not None:
        sql = dollar(INSERT_ONE)
        contenders.append(Contender("asyncpg", lambda: apg.fetchval(sql, *NEW_ARGS), is_id))
    colon = named(INSERT_ONE, tuple(NEW_ROW), "colon")
    queries = ctx.aiosql(f"-- name: insert_trade<!\n{colon}")
    if queries is not None:
        ai = await ctx.raw()

        async def aiosql_insert() -> Any:
            return (await queries.insert_trade(ai, **NEW_ROW))[0]  # <! gives the RETURNING row

        contenders.append(Contender("aiosql (apsycopg)", aiosql_insert, is_id))
    sa = await ctx.sqlalchemy_conn()
    if sa is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(colon)

        async def sa_insert() -> Any:
            return (await sa.execute(stmt, NEW_ROW)).scalar_one()

        contenders.append(Contender("SQLAlchemy asyncio text()", sa_insert, is_id))
    return Workload(
        "A2",
        "async insert one, return id",
        "us",
        ctx.sizes.w2_number,
        ctx.sizes.rounds,
        contenders,
        aio=True,
    )


async def a3(ctx: AsyncPgContext) -> Workload:
    """A range of `range_rows` rows by symbol and time into a list of models."""
    symbol, since, until = range_window(ctx.sizes)
    args = (symbol, since, until)
    expected = ctx.sizes.range_rows
    raw = await ctx.raw()

    def check(rows: Any) -> None:
        assert len(rows) == expected, len(rows)
        assert all(isinstance(r, BenchTrade) and r.symbol == symbol for r in rows)

    def check_tuples(rows: Any) -> None:
        assert len(rows) == expected, len(rows)

    async def raw_tuples() -> Any:
        return await (await raw.execute(SELECT_RANGE, args)).fetchall()

    async def raw_models() -> Any:
        rows = await (await raw.execute(SELECT_RANGE, args)).fetchall()
        return [model(r) for r in rows]

    async def raw_unrolled() -> Any:
        # The hand-unrolled form (one dict literal per query): faster still, per-query code.
        rows = await (await raw.execute(SELECT_RANGE, args)).fetchall()
        return [
            validate({"id": i, "symbol": s, "side": sd, "qty": q, "price": p, "ts": t})
            for i, s, sd, q, p, t in rows
        ]

    async def raw_obvious() -> Any:
        cur = await raw.execute(SELECT_RANGE, args)
        names = [c.name for c in cur.description or ()]
        return [BenchTrade.model_validate(dict(zip(names, r, strict=True))) async for r in cur]

    between = ctx.q.trades_between
    pool, kit = await ctx.pool(), await ctx.kit_conn()
    kw = {"symbol": symbol, "since": since, "until": until}
    contenders = [
        Contender("raw psycopg async, tuple rows", raw_tuples, check_tuples, note="no models"),
        Contender(
            "raw psycopg AsyncConnection + validate_python loop", raw_models, check, baseline=True
        ),
        Contender("raw psycopg async + hand-unrolled dict per row", raw_unrolled, check),
        Contender("raw psycopg async + model_validate loop", raw_obvious, check),
        Contender("tradestore (AsyncPool)", lambda: between(pool, **kw), check),
        Contender("tradestore (AsyncConnection held)", lambda: between(kit, **kw), check),
    ]
    pp = await ctx.psycopg_pool()
    if pp is not None:

        async def pp_range() -> Any:
            async with pp.connection() as conn:
                rows = await (await conn.execute(SELECT_RANGE, args)).fetchall()
            return [model(r) for r in rows]

        contenders.append(Contender("psycopg_pool AsyncConnectionPool + raw", pp_range, check))
    apg = await ctx.asyncpg_conn()
    if apg is not None:
        sql = dollar(SELECT_RANGE)

        async def apg_range() -> Any:
            return [validate(dict(r)) for r in await apg.fetch(sql, *args)]

        contenders.append(Contender("asyncpg + validate_python loop", apg_range, check))
    colon = named(SELECT_RANGE, ("symbol", "since", "until"), "colon")
    queries = ctx.aiosql(f"-- name: trades_between\n-- record_class: BenchTrade\n{colon}")
    if queries is not None:
        ai = await ctx.raw()

        async def aiosql_range() -> Any:
            return [r async for r in queries.trades_between(ai, **kw)]

        contenders.append(Contender("aiosql (apsycopg)", aiosql_range, check))
    sa = await ctx.sqlalchemy_conn()
    if sa is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(colon)

        async def sa_range() -> Any:
            return [validate(r._asdict()) for r in await sa.execute(stmt, kw)]

        contenders.append(Contender("SQLAlchemy asyncio text()", sa_range, check))
    return Workload(
        "A3",
        f"async {expected:,}-row range → models",
        "ms",
        ctx.sizes.w3_number,
        ctx.sizes.rounds,
        contenders,
        aio=True,
    )


def concurrent(
    tasks: int, per_task: int, pid: int, one: Callable[[], Awaitable[Any]]
) -> Callable[[], Awaitable[int]]:
    """`tasks` tasks at once, each `per_task` calls of `one`; returns how many rows were right."""

    async def task() -> int:
        n = 0
        for _ in range(per_task):
            if (await one()).id == pid:
                n += 1
        return n

    async def run() -> int:
        return sum(await asyncio.gather(*(task() for _ in range(tasks))))

    return run


async def a5(ctx: AsyncPgContext) -> Workload:
    """`tasks` concurrent tasks x `per_task` point selects through a pool of `pool_size`."""
    s = ctx.sizes
    pid, size = point_id(s), s.pool_size
    total = s.tasks * s.per_task

    def check(n: Any) -> None:
        assert n == total, n

    def batch(one: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[int]]:
        return concurrent(s.tasks, s.per_task, pid, one)

    kit = await ctx.pool(size)
    get = ctx.q.get_trade
    contenders = [Contender("tradestore AsyncPool", batch(lambda: get(kit, id=pid)), check)]
    notes: list[str] = []
    pp = await ctx.psycopg_pool(size)
    if pp is None:
        notes.append("psycopg_pool is not installed: the baseline row is missing")
    else:

        async def pp_one() -> Any:
            async with pp.connection() as conn:
                cur = await conn.execute(SELECT_ONE, (pid,))
                return model(await cur.fetchone())

        contenders.insert(
            0,
            Contender(
                "psycopg_pool AsyncConnectionPool + raw", batch(pp_one), check, baseline=True
            ),
        )
    free: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for _ in range(size):
        free.put_nowait(await ctx.raw())

    async def queue_one() -> Any:
        conn = await free.get()
        try:
            cur = await conn.execute(SELECT_ONE, (pid,))
            row = await cur.fetchone()
        finally:
            free.put_nowait(conn)
        return model(row)

    contenders.append(
        Contender(f"asyncio.Queue of {size} raw psycopg connections", batch(queue_one), check)
    )
    apool = await ctx.asyncpg_pool(size)
    if apool is not None:
        sql = dollar(SELECT_ONE)

        async def apg_one() -> Any:
            async with apool.acquire() as conn:
                return validate(dict(await conn.fetchrow(sql, pid)))

        contenders.append(Contender("asyncpg pool", batch(apg_one), check))
    engine = ctx.sqlalchemy(pool_size=size, max_overflow=0)
    if engine is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(named(SELECT_ONE, ("id",), "colon"))

        async def sa_one() -> Any:
            async with engine.connect() as conn:
                return validate((await conn.execute(stmt, {"id": pid})).one()._asdict())

        contenders.append(Contender("SQLAlchemy asyncio pool", batch(sa_one), check))
    work = Workload(
        "A5",
        f"{s.tasks} tasks x {s.per_task:,} selects, pool of {size}",
        "ms",
        1,
        s.a5_rounds,
        contenders,
        notes,
        aio=True,
        loop_lag=True,
    )
    work.extra["operations"] = total
    return work


MAKERS: dict[str, Callable[[AsyncPgContext], Awaitable[Workload]]] = {
    "A1": a1,
    "A2": a2,
    "A3": a3,
    "A5": a5,
}

"""W1-W5 on PostgreSQL: raw psycopg (the baseline), tradestore, and the peer libraries.

Every contender runs the same SQL text against the same seeded table on its own connection.
Peers that are not installed are left out with a note (the `bench` extra installs them).
Connections are autocommit for every contender, SQLAlchemy's included, so the table compares
library overhead and not transaction policy (a default SQLAlchemy connection would add a
BEGIN and a ROLLBACK round trip to every read).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg

from bench_model import COLUMNS, BenchTrade, validate
from fixture import T0, Sizes, bulk_rows, point_id, range_window
from harness import Contender, Workload
from tradestore import Pool
from tradestore.queries.loader import Queries

SELECT_ONE = "SELECT id, symbol, side, qty, price, ts FROM trades WHERE id = %s"
INSERT_ONE = (
    "INSERT INTO trades (symbol, side, qty, price, ts) VALUES (%s, %s, %s, %s, %s) RETURNING id"
)
SELECT_RANGE = (
    "SELECT id, symbol, side, qty, price, ts FROM trades "
    "WHERE symbol = %s AND ts >= %s AND ts < %s ORDER BY ts"
)
COPY_BULK = "COPY bulk_trades (symbol, side, qty, price, ts) FROM STDIN"
INSERT_BULK = "INSERT INTO bulk_trades (symbol, side, qty, price, ts) VALUES (%s, %s, %s, %s, %s)"
NEW_ROW: dict[str, Any] = {
    "symbol": "NEW",
    "side": "buy",
    "qty": Decimal("1.5"),
    "price": Decimal("101.25"),
    "ts": T0,
}
NEW_ARGS = tuple(NEW_ROW[c] for c in ("symbol", "side", "qty", "price", "ts"))
BULK_KEYS = ("symbol", "side", "qty", "price", "ts")


def named(sql: str, names: tuple[str, ...], style: str) -> str:
    """The same statement with named placeholders for libraries that want them."""
    parts = sql.split("%s")
    marks = [f":{n}" if style == "colon" else f"%({n})s" for n in names]
    return "".join(p + (marks[i] if i < len(marks) else "") for i, p in enumerate(parts))


@dataclass
class PgContext:
    conninfo: str
    schema: str
    url: str  # tradestore URL with ?schema=
    sizes: Sizes
    q: Queries
    closers: list[Callable[[], object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def raw(self, **kwargs: Any) -> psycopg.Connection[Any]:
        conn = psycopg.connect(
            self.conninfo, autocommit=True, options=f"-c search_path={self.schema}", **kwargs
        )
        self.closers.append(conn.close)
        return conn

    def pool(self, size: int = 1) -> Pool:
        pool = Pool(self.url, min_size=size, max_size=size)
        self.closers.append(pool.close)
        return pool

    def kit_conn(self, prepare_threshold: int | str | None = "default") -> Any:
        """A kit Connection held outside any pool checkout for the whole run."""
        pool = self.pool()
        conn = pool.getconn()
        self.closers.insert(0, lambda: pool.putconn(conn))
        if prepare_threshold != "default":
            conn.raw.prepare_threshold = prepare_threshold
        return conn

    def sqlalchemy(self, **kwargs: Any) -> Any:
        try:
            import sqlalchemy  # noqa: PLC0415
        except ImportError:
            self._missing("sqlalchemy")
            return None
        conninfo, options = self.conninfo, f"-c search_path={self.schema}"
        engine = sqlalchemy.create_engine(
            "postgresql+psycopg://",
            creator=lambda: psycopg.connect(conninfo, options=options),
            isolation_level="AUTOCOMMIT",
            **kwargs,
        )
        self.closers.append(engine.dispose)
        return engine

    def aiosql(self, text: str) -> Any:
        try:
            import aiosql  # noqa: PLC0415
        except ImportError:
            self._missing("aiosql")
            return None
        return aiosql.from_str(
            text, "psycopg", record_classes={"BenchTrade": BenchTrade}, mandatory_parameters=False
        )

    def sqlspec(self) -> Any:
        """A sqlspec session (psycopg adapter) on one connection, held for the run."""
        try:
            from sqlspec.adapters.psycopg import PsycopgSyncConfig  # noqa: PLC0415
        except ImportError:
            self._missing("sqlspec")
            return None
        config = PsycopgSyncConfig(
            connection_config={
                "conninfo": self.conninfo,
                "autocommit": True,
                "options": f"-c search_path={self.schema}",
                "min_size": 1,
                "max_size": 1,
            }
        )
        context = config.provide_session()
        session = context.__enter__()
        self.closers.insert(0, lambda: context.__exit__(None, None, None))
        self.closers.append(config.close_pool)
        return session

    def _missing(self, name: str) -> None:
        note = f"{name} is not installed (pip install -e '.[bench]'): its rows are skipped"
        if note not in self.notes:
            self.notes.append(note)


def is_trade(expected_id: int) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, BenchTrade), type(result)
        assert result.id == expected_id, result.id

    return check


def is_id(result: Any) -> None:
    assert isinstance(result, int), repr(result)
    assert result > 0


def w1(ctx: PgContext) -> Workload:
    """Point select by primary key into one model."""
    pid = point_id(ctx.sizes)
    raw, prep, never = ctx.raw(), ctx.raw(), ctx.raw(prepare_threshold=None)

    def raw_tuple() -> Any:
        return raw.execute(SELECT_ONE, (pid,)).fetchone()

    def raw_model() -> Any:
        row = raw.execute(SELECT_ONE, (pid,)).fetchone()
        return validate(dict(zip(COLUMNS, row, strict=True)))

    def raw_prepared() -> Any:
        row = prep.execute(SELECT_ONE, (pid,), prepare=True).fetchone()
        return validate(dict(zip(COLUMNS, row, strict=True)))

    def raw_never() -> Any:
        row = never.execute(SELECT_ONE, (pid,)).fetchone()
        return validate(dict(zip(COLUMNS, row, strict=True)))

    get = ctx.q.get_trade
    kit, kit0, kit_none = ctx.kit_conn(), ctx.kit_conn(0), ctx.kit_conn(None)
    pool = ctx.pool()
    check = is_trade(pid)
    contenders = [
        Contender("raw psycopg, tuple row", raw_tuple, lambda r: None, note="no model"),
        Contender("raw psycopg + validate_python", raw_model, check, baseline=True),
        Contender("raw psycopg prepare=True", raw_prepared, check),
        Contender("raw psycopg prepare_threshold=None", raw_never, check),
        Contender("tradestore (Connection)", lambda: get(kit, id=pid), check),
        Contender("tradestore (Pool)", lambda: get(pool, id=pid), check),
        Contender("tradestore prepare_threshold=0", lambda: get(kit0, id=pid), check),
        Contender("tradestore prepare_threshold=None", lambda: get(kit_none, id=pid), check),
    ]
    contenders += _w1_peers(ctx, pid, check)
    return Workload(
        "W1", "point select → model", "us", ctx.sizes.w1_number, ctx.sizes.rounds, contenders
    )


def _w1_peers(ctx: PgContext, pid: int, check: Callable[[Any], None]) -> list[Contender]:
    out: list[Contender] = []
    queries = ctx.aiosql(
        "-- name: get_trade^\n-- record_class: BenchTrade\n" + named(SELECT_ONE, ("id",), "colon")
    )
    if queries is not None:
        ai_conn = ctx.raw()
        out.append(Contender("aiosql", lambda: queries.get_trade(ai_conn, id=pid), check))
    engine = ctx.sqlalchemy()
    if engine is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(named(SELECT_ONE, ("id",), "colon"))
        sa_conn = engine.connect()
        ctx.closers.insert(0, sa_conn.close)

        def sa_one() -> Any:
            return validate(sa_conn.execute(stmt, {"id": pid}).one()._asdict())

        out.append(Contender("SQLAlchemy Core text()", sa_one, check))
    session = ctx.sqlspec()
    if session is not None:
        sql = named(SELECT_ONE, ("id",), "colon")
        out.append(
            Contender(
                "sqlspec",
                lambda: session.select_one(sql, {"id": pid}, schema_type=BenchTrade),
                check,
            )
        )
    return out


def w2(ctx: PgContext) -> Workload:
    """Insert one row, committed (autocommit), returning its id."""
    raw, prep = ctx.raw(), ctx.raw()
    ins = ctx.q.insert_trade
    kit, pool = ctx.kit_conn(), ctx.pool()
    contenders = [
        Contender(
            "raw psycopg",
            lambda: raw.execute(INSERT_ONE, NEW_ARGS).fetchone()[0],
            is_id,
            baseline=True,
        ),
        Contender(
            "raw psycopg prepare=True",
            lambda: prep.execute(INSERT_ONE, NEW_ARGS, prepare=True).fetchone()[0],
            is_id,
        ),
        Contender("tradestore (Connection)", lambda: ins(kit, **NEW_ROW), is_id),
        Contender("tradestore (Pool)", lambda: ins(pool, **NEW_ROW), is_id),
    ]
    sql = named(INSERT_ONE, BULK_KEYS, "colon")
    queries = ctx.aiosql(f"-- name: insert_trade<!\n{sql}")
    if queries is not None:
        conn = ctx.raw()
        contenders.append(Contender("aiosql", lambda: queries.insert_trade(conn, **NEW_ROW), is_id))
    engine = ctx.sqlalchemy()
    if engine is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(sql)
        sa = engine.connect()
        ctx.closers.insert(0, sa.close)
        contenders.append(
            Contender(
                "SQLAlchemy Core text()", lambda: sa.execute(stmt, NEW_ROW).scalar_one(), is_id
            )
        )
    session = ctx.sqlspec()
    if session is not None:
        contenders.append(Contender("sqlspec", lambda: session.select_value(sql, NEW_ROW), is_id))
    return Workload(
        "W2", "insert one, return id", "us", ctx.sizes.w2_number, ctx.sizes.rounds, contenders
    )


def w3(ctx: PgContext) -> Workload:
    """A range of `range_rows` rows by symbol and time into a list of models."""
    symbol, since, until = range_window(ctx.sizes)
    args = (symbol, since, until)
    expected = ctx.sizes.range_rows
    raw = ctx.raw()

    def check(rows: Any) -> None:
        assert len(rows) == expected, len(rows)
        assert all(isinstance(r, BenchTrade) and r.symbol == symbol for r in rows)

    def check_tuples(rows: Any) -> None:
        assert len(rows) == expected, len(rows)

    def raw_tuples() -> Any:
        return raw.execute(SELECT_RANGE, args).fetchall()

    def raw_obvious() -> Any:
        cur = raw.execute(SELECT_RANGE, args)
        names = [c.name for c in cur.description or ()]
        return [BenchTrade.model_validate(dict(zip(names, r, strict=True))) for r in cur]

    def raw_validator() -> Any:
        rows = raw.execute(SELECT_RANGE, args).fetchall()
        return [validate(dict(zip(COLUMNS, r, strict=True))) for r in rows]

    from pydantic import TypeAdapter  # noqa: PLC0415

    adapter = TypeAdapter(list[BenchTrade])

    def raw_adapter() -> Any:
        rows = raw.execute(SELECT_RANGE, args).fetchall()
        return adapter.validate_python([dict(zip(COLUMNS, r, strict=True)) for r in rows])

    between = ctx.q.trades_between
    kit, pool = ctx.kit_conn(), ctx.pool()
    kw = {"symbol": symbol, "since": since, "until": until}
    contenders = [
        Contender("raw psycopg, tuple rows", raw_tuples, check_tuples, note="no models"),
        Contender("raw psycopg + model_validate loop", raw_obvious, check, baseline=True),
        Contender("raw psycopg + validate_python loop", raw_validator, check),
        Contender("raw psycopg + TypeAdapter(list)", raw_adapter, check),
        Contender("tradestore (Connection)", lambda: between(kit, **kw), check),
        Contender("tradestore (Pool)", lambda: between(pool, **kw), check),
    ]
    sql = named(SELECT_RANGE, ("symbol", "since", "until"), "colon")
    queries = ctx.aiosql(f"-- name: trades_between\n-- record_class: BenchTrade\n{sql}")
    if queries is not None:
        conn = ctx.raw()
        contenders.append(
            Contender("aiosql", lambda: list(queries.trades_between(conn, **kw)), check)
        )
    engine = ctx.sqlalchemy()
    if engine is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(sql)
        sa = engine.connect()
        ctx.closers.insert(0, sa.close)
        contenders.append(
            Contender(
                "SQLAlchemy Core text()",
                lambda: [validate(r._asdict()) for r in sa.execute(stmt, kw)],
                check,
            )
        )
    session = ctx.sqlspec()
    if session is not None:
        contenders.append(
            Contender("sqlspec", lambda: session.select(sql, kw, schema_type=BenchTrade), check)
        )
    return Workload(
        "W3",
        f"{expected:,}-row range → models",
        "ms",
        ctx.sizes.w3_number,
        ctx.sizes.rounds,
        contenders,
    )


def w4(ctx: PgContext) -> Workload:
    """Bulk insert of `bulk_rows` dicts in one transaction; the table is emptied before each."""
    rows = bulk_rows(ctx.sizes.bulk_rows)
    admin = ctx.raw()

    def truncate() -> None:
        admin.execute("TRUNCATE bulk_trades")

    def check(_: Any) -> None:
        count = admin.execute("SELECT count(*) FROM bulk_trades").fetchone()
        assert count is not None
        assert count[0] == len(rows), count

    raw = ctx.raw()

    def raw_copy() -> None:
        with raw.cursor() as cur, cur.copy(COPY_BULK) as copy:
            for d in rows:
                copy.write_row((d["symbol"], d["side"], d["qty"], d["price"], d["ts"]))

    def raw_executemany() -> None:
        with raw.transaction(), raw.cursor() as cur:
            cur.executemany(INSERT_BULK, [tuple(d[k] for k in BULK_KEYS) for d in rows])

    load = ctx.q.load_bulk_trades
    kit = ctx.kit_conn()
    models = [BenchTrade(id=0, **d) for d in rows]
    contenders = [
        Contender("raw psycopg COPY", raw_copy, check, baseline=True, before=truncate),
        Contender("raw psycopg executemany", raw_executemany, check, before=truncate),
        Contender("tradestore :copyfrom (dicts)", lambda: load(kit, rows), check, before=truncate),
        Contender(
            "tradestore :copyfrom (models)", lambda: load(kit, models), check, before=truncate
        ),
    ]
    sql = named(INSERT_BULK, BULK_KEYS, "colon")
    queries = ctx.aiosql(f"-- name: insert_bulk*!\n{sql}")
    if queries is not None:
        conn = ctx.raw()

        def aiosql_many() -> None:
            with conn.transaction():
                queries.insert_bulk(conn, rows)

        contenders.append(Contender("aiosql *! (executemany)", aiosql_many, check, before=truncate))
    engine = ctx.sqlalchemy()
    if engine is not None:
        import sqlalchemy as sa  # noqa: PLC0415

        table = sa.Table(
            "bulk_trades",
            sa.MetaData(),
            sa.Column("id", sa.BigInteger, primary_key=True),
            *(sa.Column(k, sa.Text) for k in ("symbol", "side")),
            *(sa.Column(k, sa.Numeric(20, 8)) for k in ("qty", "price")),
            sa.Column("ts", sa.DateTime(timezone=True)),
        )
        tx_engine = engine.execution_options(isolation_level="READ COMMITTED")

        def sa_bulk() -> None:
            with tx_engine.begin() as c:
                c.execute(table.insert(), rows)

        contenders.append(
            Contender("SQLAlchemy Core insert(list of dicts)", sa_bulk, check, before=truncate)
        )
    session = ctx.sqlspec()
    if session is not None:

        def sqlspec_many() -> None:
            session.begin()
            session.execute_many(sql, rows)
            session.commit()

        contenders.append(Contender("sqlspec execute_many", sqlspec_many, check, before=truncate))
    return Workload(
        "W4", f"bulk insert {len(rows):,} rows", "ms", 1, ctx.sizes.w4_rounds, contenders
    )


def w5(ctx: PgContext) -> Workload:
    """`threads` threads x `per_thread` point selects through a pool of `pool_size`."""
    s = ctx.sizes
    pid = point_id(s)
    total = s.threads * s.per_thread

    def batch(one: Callable[[], Any]) -> Callable[[], int]:
        def run() -> int:
            done: list[int] = []

            def worker() -> None:
                n = 0
                for _ in range(s.per_thread):
                    if one().id == pid:
                        n += 1
                done.append(n)

            threads = [threading.Thread(target=worker) for _ in range(s.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return sum(done)

        return run

    def check(n: Any) -> None:
        assert n == total, n

    kit = Pool(ctx.url, min_size=s.pool_size, max_size=s.pool_size)
    ctx.closers.append(kit.close)
    get = ctx.q.get_trade
    contenders = [Contender("tradestore Pool", batch(lambda: get(kit, id=pid)), check)]
    notes: list[str] = []
    try:
        from psycopg_pool import ConnectionPool  # noqa: PLC0415
    except ImportError:
        notes.append("psycopg_pool is not installed: the baseline row is missing")
    else:
        theirs = ConnectionPool(
            ctx.conninfo,
            min_size=s.pool_size,
            max_size=s.pool_size,
            open=True,
            kwargs={"autocommit": True, "options": f"-c search_path={ctx.schema}"},
        )
        ctx.closers.append(theirs.close)

        def pp_one() -> Any:
            with theirs.connection() as conn:
                row = conn.execute(SELECT_ONE, (pid,)).fetchone()
            return validate(dict(zip(COLUMNS, row, strict=True)))

        contenders.insert(
            0, Contender("psycopg_pool + raw psycopg", batch(pp_one), check, baseline=True)
        )
    engine = ctx.sqlalchemy(pool_size=s.pool_size, max_overflow=0)
    if engine is not None:
        from sqlalchemy import text  # noqa: PLC0415

        stmt = text(named(SELECT_ONE, ("id",), "colon"))

        def sa_one() -> Any:
            with engine.connect() as conn:
                return validate(conn.execute(stmt, {"id": pid}).one()._asdict())

        contenders.append(Contender("SQLAlchemy QueuePool", batch(sa_one), check))
    work = Workload(
        "W5",
        f"{s.threads} threads x {s.per_thread:,} selects, pool of {s.pool_size}",
        "ms",
        1,
        s.w5_rounds,
        contenders,
        notes,
    )
    work.extra["operations"] = total
    return work

"""The async face of named queries on real PostgreSQL and real SQLite: the same SQL files, the
same `Query` objects, every cardinality on an `AsyncPool` and on an `AsyncConnection` inside
``async with pool.transaction()``, checked against what the sync face gives on the same data.

Each test runs its coroutine with ``asyncio.run`` (no plugin): the sync `pool` fixture makes
the fixture schema, then an `AsyncPool` opens on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

import test_queries
from test_batch import _delta, counting_proxy
from test_pool_ownership import SESSION_SQL, activity
from test_queries import Fill, create_schema, fill_params
from tradestore import Pool
from tradestore.db.connection_async import AsyncConnection
from tradestore.db.pool_async import AsyncPool
from tradestore.errors import IntegrityViolation, PoolError, QueryError
from tradestore.queries.binding import AsyncDb, SyncDb
from tradestore.queries.loader import Queries
from tradestore.queries.query import Query
from tradestore.queries.sqlfile import Cardinality
from tradestore.trading.queries import load_queries

T = TypeVar("T")
# test_queries.py's fixtures: `pool` (the fixture schema on `db_url`) and `q` (its queries; one
# loader, one parse: the same Query objects serve the sync and the async face).
pool = test_queries.pool
q = test_queries.q
WHERE = ["pool", "transaction"]


def on_async_pool(
    url: Any, main: Callable[[AsyncPool], Awaitable[T]], *, min_size: int = 1, max_size: int = 2
) -> T:
    """Run `main` with an AsyncPool on `url` (a Pool's url: the same database)."""

    async def run() -> T:
        async with AsyncPool(url, min_size=min_size, max_size=max_size, timeout=10) as apool:
            return await main(apool)

    return asyncio.run(run())


@contextlib.asynccontextmanager
async def async_db(apool: AsyncPool, where: str) -> AsyncIterator[AsyncDb]:
    """The pool itself, or a connection inside a transaction of the caller's."""
    if where == "pool":
        yield apool
    else:
        async with apool.transaction() as tx:
            yield tx


@contextlib.contextmanager
def sync_db(pool: Pool, where: str) -> Iterator[SyncDb]:
    if where == "pool":
        yield pool
    else:
        with pool.transaction() as tx:
            yield tx


# -- every cardinality, both faces, the same results -------------------------------------

#: Calls one query on one face; an :iter's rows come back as a list.
Call = Callable[..., Awaitable[Any]]


def sync_call(db: SyncDb) -> Call:
    async def call(query: Query, *args: Any, **params: Any) -> Any:
        result = query(db, *args, **params)
        return list(result) if query.cardinality is Cardinality.ITER else result

    return call


def async_call(db: AsyncDb) -> Call:
    async def call(query: Query, *args: Any, **params: Any) -> Any:
        if query.cardinality is Cardinality.ITER:
            return [row async for row in query(db, *args, **params)]
        return await query(db, *args, **params)

    return call


async def every_cardinality(q: Queries, call: Call) -> dict[str, Any]:
    """One call of each cardinality (and the dialect override, the dict rows, an empty
    batch); what each gave, by step."""
    seen: dict[str, Any] = {}
    seen["one"] = await call(q.add_fill, **fill_params("AAPL"))
    seen["one missing"] = await call(q.get_fill, id=999)
    seen["copyfrom"] = await call(
        q.load_fills, [seen["one"], fill_params("MSFT", qty="2.5"), fill_params("AAPL")]
    )
    seen["execlastid"] = await call(q.add_fill_id, **fill_params("IBM"))
    seen["execlastid none"] = await call(q.add_fill_if_new, id=1, **fill_params("NOPE"))
    seen["many"] = await call(q.fills_for, symbol="AAPL")
    seen["many all"] = await call(q.fills_for, symbol=None)
    seen["many dicts"] = await call(q.fill_rows)
    seen["many override"] = await call(q.fills_by_ids, ids=[1, 3])
    seen["scalar"] = await call(q.count_fills, symbol="AAPL")
    seen["exec"] = await call(q.set_meta, id=2, meta={"k": [1, 2]})
    seen["execrows"] = await call(q.delete_symbol, symbol="IBM")
    seen["batchone"] = await call(q.add_fills, [fill_params("A"), fill_params("B", qty="0.1")])
    seen["batchone dicts"] = await call(q.fill_symbols, [{"id": 2}, {"id": 99}])
    seen["batchexec"] = await call(q.set_metas, [{"id": 1, "meta": {}}, {"id": 99, "meta": {}}])
    seen["batchexec empty"] = await call(q.set_metas, [])
    seen["batchmany"] = await call(q.fills_of_symbols, [{"symbol": "AAPL"}, {"symbol": "Z"}])
    seen["iter"] = await call(q.stream_fills)
    return seen


def recreate_schema(pool: Pool) -> None:
    with pool.connection() as conn:
        conn.execute("DROP TABLE fills")
    create_schema(pool)


@pytest.mark.parametrize("where", WHERE)
def test_every_cardinality_gives_what_the_sync_face_gives(
    pool: Pool, q: Queries, where: str
) -> None:
    async def on_sync() -> dict[str, Any]:
        with sync_db(pool, where) as db:
            return await every_cardinality(q, sync_call(db))

    expected = asyncio.run(on_sync())
    recreate_schema(pool)

    async def main(apool: AsyncPool) -> dict[str, Any]:
        async with async_db(apool, where) as db:
            return await every_cardinality(q, async_call(db))

    got = on_async_pool(pool.url, main)
    assert list(got) == list(expected)
    for step, value in expected.items():
        assert got[step] == value, step
        assert type(got[step]) is type(value), step
    # And what they are (the sync face's own tests say why).
    assert isinstance(got["one"], Fill)
    assert got["one"].qty == Decimal("1.5")
    assert got["one missing"] is None
    assert (got["copyfrom"], got["execlastid"], got["execlastid none"]) == (3, 5, None)
    assert [f.id for f in got["many"]] == [1, 2, 4]
    assert got["many dicts"][0] == {"id": 1, "symbol": "AAPL"}
    assert [f.id for f in got["many override"]] == [1, 3]
    assert (got["scalar"], got["exec"], got["execrows"]) == (3, None, 1)
    assert [f.symbol for f in got["batchone"]] == ["A", "B"]
    assert got["batchone dicts"] == [{"id": 2, "symbol": "AAPL"}, None]
    assert (got["batchexec"], got["batchexec empty"]) == (1, 0)
    assert [[f.id for f in rows] for rows in got["batchmany"]] == [[1, 2, 4], []]
    assert [f.symbol for f in got["iter"]] == ["AAPL", "AAPL", "MSFT", "AAPL", "A", "B"]
    assert [f.meta for f in got["iter"][:2]] == [{}, {"k": [1, 2]}]


def test_an_empty_batch_is_awaited_and_touches_no_connection(pool: Pool, q: Queries) -> None:
    """Before: with no items the async face returned 0 or [] itself, not an awaitable
    (``await q.set_metas(adb, [])`` was a TypeError)."""

    async def main(apool: AsyncPool) -> None:
        created = apool.stats().created
        assert await q.set_metas(apool, []) == 0
        assert await q.add_fills(apool, iter([])) == []
        async with apool.connection() as conn:
            assert await q.fills_of_symbols(conn, ()) == []
        assert apool.stats().created == created
        assert apool.metrics.snapshot().get("set_metas") is None

    on_async_pool(pool.url, main)


def test_an_async_transaction_holds_every_write(pool: Pool, q: Queries) -> None:
    async def main(apool: AsyncPool) -> None:
        with pytest.raises(RuntimeError):
            async with apool.transaction() as tx:
                call = async_call(tx)
                await call(q.add_fill, **fill_params("A"))
                await call(q.add_fill_id, **fill_params("B"))
                await call(q.load_fills, [fill_params("C"), fill_params("D")])
                await call(q.add_fills, [fill_params("E")])
                await call(q.set_metas, [{"id": 1, "meta": {"k": 1}}])
                assert await call(q.delete_symbol, symbol="B") == 1
                assert len(await call(q.stream_fills)) == 4
                raise RuntimeError("roll back")
        assert await q.fills_for(apool, symbol=None) == []
        assert apool.stats().in_use == 0

    on_async_pool(pool.url, main)


# -- :iter -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", WHERE)
def test_iter_streams_every_row(pool: Pool, q: Queries, where: str) -> None:
    q.load_fills(pool, [fill_params(f"S{i}") for i in range(2500)])  # past one fetch batch

    async def main(apool: AsyncPool) -> None:
        async with async_db(apool, where) as db:
            seen = []
            async for fill in q.stream_fills(db):
                assert isinstance(fill, Fill)
                seen.append(fill.symbol)
                assert apool.stats().in_use == 1
            assert seen == [f"S{i}" for i in range(2500)]
        assert apool.stats().in_use == 0

    on_async_pool(pool.url, main)


async def in_use_drops_to_zero(apool: AsyncPool) -> None:
    """A stream abandoned by `break` is closed by asyncio's async-generator finalizer, a task
    the loop runs soon after: wait (bounded) for the connection to come back."""
    deadline = time.monotonic() + 5
    while apool.stats().in_use and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert apool.stats().in_use == 0


@pytest.mark.parametrize("how", ["aclose", "aclosing", "break"])
def test_iter_stopped_early_gives_the_connection_back(pool: Pool, q: Queries, how: str) -> None:
    q.load_fills(pool, [fill_params(f"S{i}") for i in range(1500)])

    async def main(apool: AsyncPool) -> None:
        rows = q.stream_fills(apool)
        if how == "aclose":
            first = await anext(rows)
            assert apool.stats().in_use == 1
            await rows.aclose()
            assert apool.stats().in_use == 0
        elif how == "aclosing":
            async with contextlib.aclosing(rows):
                first = await anext(rows)
            assert apool.stats().in_use == 0
        else:
            async for fill in rows:
                first = fill
                break
            del rows
            await in_use_drops_to_zero(apool)
        assert first.symbol == "S0"
        assert await q.count_fills(apool, symbol="S1") == 1  # the pool still serves

    on_async_pool(pool.url, main, min_size=1, max_size=1)


CURSORS = "SELECT name, is_holdable FROM pg_cursors ORDER BY name"


@pytest.mark.postgres
def test_iter_on_postgres_holds_a_server_side_cursor(
    pg_url: str, pg_schema: str, postgres_base_url: str, q: Queries
) -> None:
    with Pool(pg_url, min_size=1, max_size=1) as pool:
        create_schema(pool)
        q.load_fills(pool, [fill_params(f"S{i}") for i in range(2500)])

    async def main(apool: AsyncPool) -> None:
        # On the pool: the connection sits in the stream's transaction between fetches of
        # 1,000 rows from a named cursor.
        async with contextlib.aclosing(q.stream_fills(apool)) as rows:
            async for fill in rows:
                if fill.symbol == "S1500":
                    break
            state, last = activity(postgres_base_url, pg_schema)
            assert state == "idle in transaction"
            assert last.startswith('FETCH FORWARD 1000 FROM "tradestore_iter_'), last
        assert activity(postgres_base_url, pg_schema)[0] == "idle"
        # Inside a transaction: the cursor is the transaction's, open until the stream ends.
        async with apool.transaction() as tx:
            async with contextlib.aclosing(q.stream_fills(tx)) as rows:
                await anext(rows)
                cursors = await (await tx.execute(CURSORS)).fetchall()
                assert [(n.split("_")[1], hold) for n, hold in cursors] == [("iter", False)]
            assert await (await tx.execute(CURSORS)).fetchall() == []
            async for _ in q.stream_fills(tx):
                break
            await asyncio.sleep(0.05)  # asyncio closes the stream left by `break`
            assert await (await tx.execute(CURSORS)).fetchall() == []
        # On a held connection outside a transaction: a cursor WITH HOLD, no transaction open.
        async with apool.connection() as conn:
            async with contextlib.aclosing(q.stream_fills(conn)) as rows:
                await anext(rows)
                assert not conn.in_transaction
                cursors = await (await conn.execute(CURSORS)).fetchall()
                assert [(n.split("_")[1], hold) for n, hold in cursors] == [("iter", True)]
            assert await (await conn.execute(CURSORS)).fetchall() == []

    on_async_pool(pg_url, main, min_size=1, max_size=1)


@pytest.mark.parametrize("where", ["connection", "transaction"])
@pytest.mark.parametrize("face", ["sync", "async"])
def test_writes_made_while_iterating_survive_an_early_stop(
    pool: Pool, q: Queries, where: str, face: str
) -> None:
    """Before: on PostgreSQL the stream's own savepoint (in a transaction) or transaction
    (on a held connection) was rolled back when the loop stopped early, taking with it what
    the loop body wrote on the same connection; SQLite kept it."""
    q.load_fills(pool, [fill_params(f"S{i}") for i in range(10)])

    if face == "sync":
        with (
            pool.connection() as conn,
            conn.transaction() if where == "transaction" else (contextlib.nullcontext()),
        ):
            for fill in q.stream_fills(conn):
                q.set_meta(conn, id=fill.id, meta={"seen": True})
                if fill.id == 3:
                    break
    else:

        async def main(apool: AsyncPool) -> None:
            async with apool.connection() as conn:
                scope = conn.transaction() if where == "transaction" else contextlib.nullcontext()
                async with scope:
                    async for fill in q.stream_fills(conn):
                        await q.set_meta(conn, id=fill.id, meta={"seen": True})
                        if fill.id == 3:
                            break

        on_async_pool(pool.url, main)
    seen = [f.id for f in q.fills_for(pool, symbol=None) if f.meta == {"seen": True}]
    assert seen == [1, 2, 3]


@pytest.mark.parametrize("where", ["connection", "transaction"])
def test_a_stream_left_by_break_never_touches_what_comes_after(
    pool: Pool, q: Queries, where: str
) -> None:
    """`break` leaves an async generator to asyncio, which closes it a little later, in a task
    of its own: by then the caller may have written, opened a transaction or even given the
    connection back. Before: the late close rolled back the stream's transaction level,
    taking the caller's later writes with it, and ended the caller's new transaction under it
    (RELEASE SAVEPOINT failed)."""
    q.load_fills(pool, [fill_params(f"S{i}") for i in range(10)])

    async def main(apool: AsyncPool) -> None:
        async with apool.connection() as conn:
            scope = conn.transaction() if where == "transaction" else contextlib.nullcontext()
            async with scope:
                async for fill in q.stream_fills(conn):
                    if fill.id == 2:
                        break
                await q.set_meta(conn, id=1, meta={"after": "break"})
                async with conn.transaction():
                    await q.set_meta(conn, id=2, meta={"in": "transaction"})
                    await asyncio.sleep(0.05)  # the loop runs the stream's late close here
                    await q.set_meta(conn, id=3, meta={"in": "transaction"})
            assert not conn.in_transaction
            await asyncio.sleep(0.05)
            assert not conn.in_transaction
        assert [f.meta for f in await q.fills_for(apool, symbol=None)][:4] == [
            {"after": "break"},
            {"in": "transaction"},
            {"in": "transaction"},
            fill_params()["meta"],
        ]
        assert apool.stats().in_use == 0

    on_async_pool(pool.url, main, min_size=1, max_size=1)


# -- :copyfrom ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_async_copyfrom_on_postgres_is_copy(pg_url: str, q: Queries) -> None:
    """Counted by a loopback proxy: rows travel as CopyData messages after one COPY
    statement, not as one Execute per row."""
    proxy, url = counting_proxy(pg_url)
    try:
        with Pool(url, min_size=1, max_size=1) as pool:
            create_schema(pool)

        async def main(apool: AsyncPool) -> None:
            before = proxy.sent()
            assert await q.load_fills(apool, [fill_params(f"S{i}") for i in range(3000)]) == 3000
            sent = _delta(before, proxy.sent())
            assert sent.get("d", 0) >= 1, sent  # CopyData
            assert sent["c"] == 1, sent  # CopyDone
            assert sent.get("E", 0) <= 2, sent  # no Execute per row
            assert await q.count_fills(apool, symbol="S2999") == 1

        on_async_pool(url, main, min_size=1, max_size=1)
    finally:
        proxy.close()


@pytest.mark.parametrize("where", WHERE)
def test_async_copyfrom_is_all_or_nothing(pool: Pool, q: Queries, where: str) -> None:
    async def main(apool: AsyncPool) -> None:
        with pytest.raises(IntegrityViolation, match=r"query load_fills \(.*fills\.sql:\d+\)"):
            async with async_db(apool, where) as db:
                await q.load_fills(db, [fill_params("OK"), fill_params(None)])
        assert await q.count_fills(apool, symbol="OK") == 0
        row = fill_params("X")
        del row["price"]
        with pytest.raises(QueryError, match=r"load_fills .*row 1 lacks parameter price"):
            await q.load_fills(apool, [row])
        assert apool.stats().in_use == 0

    on_async_pool(pool.url, main)


# -- errors: the kit's, as on the sync face ----------------------------------------------


@pytest.mark.parametrize("where", WHERE)
def test_parameter_errors_name_the_query_and_file_line(pool: Pool, q: Queries, where: str) -> None:
    async def main(apool: AsyncPool) -> None:
        async with async_db(apool, where) as db:
            with pytest.raises(QueryError, match=r"get_fill \(.*fills\.sql:9\): missing param"):
                await q.get_fill(db)
            with pytest.raises(QueryError, match=r"get_fill .*unexpected parameter idd"):
                await q.get_fill(db, id=1, idd=2)
            with pytest.raises(QueryError, match=r"get_fill .* takes keyword parameters only"):
                await q.get_fill(db, 1)
            with pytest.raises(QueryError, match=r"set_metas .*items\[1\]: missing parameter"):
                await q.set_metas(db, [{"id": 1, "meta": {}}, {"id": 2}])
            with pytest.raises(QueryError, match=r"add_fills .* is :batchone: call it as"):
                await q.add_fills(db, fill_params())
            with pytest.raises(QueryError, match=r"stream_fills .*unexpected parameter x"):
                q.stream_fills(db, x=1)
            assert await q.count_fills(db, symbol="A") == 0  # nothing broke
        assert apool.stats().in_use == 0

    on_async_pool(pool.url, main)


@pytest.mark.parametrize("spec", [":one", ":many", ":iter", ":batchone", ":batchmany"])
@pytest.mark.parametrize("where", WHERE)
def test_columns_sharing_a_name_are_refused(
    pool: Pool, tmp_path: Path, spec: str, where: str
) -> None:
    (tmp_path / "dup.sql").write_text(f"-- name: dup {spec}\nSELECT :a AS v, :a AS v;\n")
    dup = load_queries(tmp_path, echo=False, slow_query_ms=None)
    batch = spec.startswith(":batch")

    async def main(apool: AsyncPool) -> None:
        with pytest.raises(QueryError, match=r"query dup \(.*dup\.sql:1\): .*several columns"):
            async with async_db(apool, where) as db:
                if spec == ":iter":
                    [row async for row in dup.dup(db, a=1)]
                else:
                    await (dup.dup(db, [{"a": 1}]) if batch else dup.dup(db, a=1))
        assert apool.stats().in_use == 0

    on_async_pool(pool.url, main)


@pytest.mark.parametrize("where", WHERE)
def test_driver_errors_become_the_kits(pool: Pool, q: Queries, tmp_path: Path, where: str) -> None:
    (tmp_path / "bad.sql").write_text(
        "-- name: broken :many\nSELECT nope\nFROM fills\nWHERE id = :id;\n\n"
        "-- name: broken_stream :iter\nSELECT nope\nFROM fills;\n"
    )
    bad = load_queries(tmp_path, echo=False, slow_query_ms=None)
    secret = "s3cr3t-value"

    async def main(apool: AsyncPool) -> None:
        for attempt in ("many", "iter", "constraint"):
            with pytest.raises(QueryError) as info:
                async with async_db(apool, where) as db:
                    if attempt == "many":
                        await bad.broken(db, id=1)
                    elif attempt == "iter":
                        [row async for row in bad.broken_stream(db)]
                    else:
                        await q.add_fill(db, **fill_params(secret, is_buy=None))
            error = info.value
            if attempt == "constraint":
                assert isinstance(error, IntegrityViolation)
                assert "query add_fill (" in str(error)
                assert secret not in str(error)
            else:
                assert f"query {error.query} (" in str(error)
                assert "bad.sql:" in str(error)
                assert error.sqlstate in ("42703", "SQLITE_ERROR")
            assert error.__cause__ is not None
        assert await q.count_fills(apool, symbol="X") == 0
        assert apool.stats().in_use == 0
        if where == "pool":
            assert apool.metrics.snapshot()["broken"].errors == 1

    on_async_pool(pool.url, main)


@pytest.mark.parametrize("where", ["pool", "connection"])
def test_a_session_changing_query_is_undone_on_return(
    db_url: str, tmp_path: Path, where: str
) -> None:
    for dialect, text in SESSION_SQL.items():
        (tmp_path / dialect).mkdir()
        (tmp_path / dialect / "session.sql").write_text(text)
    session = load_queries(tmp_path, echo=False, slow_query_ms=None)

    async def main(apool: AsyncPool) -> None:
        probe, kit_value = (
            ("PRAGMA foreign_keys", 1)
            if apool.dialect == "sqlite"
            else ("SHOW search_path", apool.url.schema)
        )
        if where == "pool":
            await session.loosen_session(apool)
        else:
            async with apool.connection() as conn:
                await session.loosen_session(conn)
                changed = await (await conn.execute(probe)).fetchone()
                assert changed[0] != kit_value
        async with apool.connection() as conn:
            assert (await (await conn.execute(probe)).fetchone())[0] == kit_value

    on_async_pool(db_url, main, min_size=1, max_size=1)


def test_async_calls_are_timed_per_query(pool: Pool, q: Queries) -> None:
    async def main(apool: AsyncPool) -> None:
        await q.add_fill(apool, **fill_params())
        assert [f.id async for f in q.stream_fills(apool)] == [1]
        await q.load_fills(apool, [fill_params()])
        with pytest.raises(IntegrityViolation):
            await q.add_fills(apool, [fill_params(None)])
        timings = apool.metrics.snapshot()
        counts = {name: (t.count, t.errors) for name, t in timings.items()}
        assert counts == {
            "add_fill": (1, 0),
            "stream_fills": (1, 0),
            "load_fills": (1, 0),
            "add_fills": (1, 1),
        }

    on_async_pool(pool.url, main)


def test_a_held_connection_and_a_returned_one(pool: Pool, q: Queries) -> None:
    async def main(apool: AsyncPool) -> None:
        async with apool.connection() as conn:
            assert isinstance(conn, AsyncConnection)
            await q.add_fill(conn, **fill_params("KEPT"))
            assert not conn.in_transaction  # autocommit, as on the sync face
        with pytest.raises(PoolError, match="returned"):
            await q.count_fills(conn, symbol="KEPT")
        assert await q.count_fills(apool, symbol="KEPT") == 1

    on_async_pool(pool.url, main)

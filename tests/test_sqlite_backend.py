"""SQLite specifics: pragmas, the shared in-memory database, exact decimals and times."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from deadlines import join_all
from tradestore import Pool


def test_pragmas_on_every_connection(sqlite_url: str) -> None:
    with Pool(sqlite_url, min_size=2, max_size=2) as pool:
        conns = [pool.getconn() for _ in range(2)]
        for conn in conns:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        for conn in conns:
            pool.putconn(conn)


def test_busy_timeout_from_url(tmp_path: object) -> None:
    with Pool(f"sqlite:///{tmp_path}/x.db?busy_timeout=1234") as pool, pool.connection() as c:
        assert c.execute("PRAGMA busy_timeout").fetchone()[0] == 1234


def test_memory_database_is_shared_by_every_pooled_connection() -> None:
    with Pool("sqlite:///:memory:", min_size=0, max_size=4) as pool:
        with pool.transaction() as conn:
            conn.execute("CREATE TABLE shared (n INTEGER)")
        seen: list[int] = []
        held = [pool.getconn() for _ in range(4)]  # four distinct connections
        assert len({id(c.raw) for c in held}) == 4
        held[0].execute("INSERT INTO shared VALUES (1)")
        for conn in held:
            seen.append(conn.execute("SELECT COUNT(*) FROM shared").fetchone()[0])
        for conn in held:
            pool.putconn(conn)
        assert seen == [1, 1, 1, 1]


def test_two_memory_pools_are_separate_databases() -> None:
    with Pool("sqlite:///:memory:") as a, Pool("sqlite:///:memory:") as b:
        with a.connection() as conn:
            conn.execute("CREATE TABLE only_in_a (n INTEGER)")
        with b.connection() as conn:
            names = conn.execute("SELECT name FROM sqlite_master").fetchall()
        assert names == []


def test_memory_database_across_threads() -> None:
    with Pool("sqlite:///:memory:", max_size=4) as pool:
        with pool.connection() as conn:
            conn.execute("CREATE TABLE hits (n INTEGER)")

        def hit() -> None:
            for i in range(20):
                with pool.transaction() as conn:
                    conn.execute("INSERT INTO hits VALUES (?)", (i,))

        threads = [threading.Thread(target=hit, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        join_all(threads)
        with pool.connection() as conn:
            assert conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0] == 80


@pytest.mark.parametrize(
    "value",
    ["0", "-0.00000001", "99999999999.99999999", "-99999999999.99999999", "1E+3", "123.45000000"],
)
def test_decimal_round_trip_is_exact(sqlite_url: str, value: str) -> None:
    with Pool(sqlite_url) as pool, pool.connection() as conn:
        conn.execute("CREATE TABLE m (v TEXT)")
        conn.execute("INSERT INTO m VALUES (?)", (Decimal(value),))
        stored = conn.execute("SELECT v FROM m").fetchone()[0]
    assert Decimal(stored) == Decimal(value)
    assert "E" not in stored


def test_decimal_functions_are_exact_and_order_numerically(sqlite_url: str) -> None:
    values = ["10.5", "9.25", "-3", "0.1", "0.2", "100"]
    with Pool(sqlite_url) as pool, pool.connection() as conn:
        conn.execute("CREATE TABLE m (v TEXT)")
        for v in values:
            conn.execute("INSERT INTO m VALUES (?)", (Decimal(v),))
        ordered = [r[0] for r in conn.execute("SELECT v FROM m ORDER BY v COLLATE decimal")]
        total = conn.execute("SELECT decimal_sum(v) FROM m").fetchone()[0]
        row = conn.execute(
            "SELECT decimal_add('0.1', '0.2'), decimal_sub('1', '0.9'), "
            "decimal_mul('1.5', '0.00000002'), decimal_cmp('9.25', '10.5')"
        ).fetchone()
    assert ordered == ["-3", "0.1", "0.2", "9.25", "10.5", "100"]
    assert Decimal(total) == sum(Decimal(v) for v in values)
    assert [Decimal(x) for x in row[:3]] == [Decimal("0.3"), Decimal("0.1"), Decimal("3E-8")]
    assert row[3] == -1


def test_datetimes_are_utc_fixed_width_and_naive_is_refused(sqlite_url: str) -> None:
    tz = dt.timezone(dt.timedelta(hours=-5))
    local = dt.datetime(2026, 3, 1, 9, 30, 0, 123, tzinfo=tz)
    with Pool(sqlite_url) as pool, pool.connection() as conn:
        conn.execute("CREATE TABLE t (ts TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (local,))
        stored = conn.execute("SELECT ts FROM t").fetchone()[0]
        with pytest.raises(ValueError, match="naive datetime"):
            conn.execute("INSERT INTO t VALUES (?)", (dt.datetime(2026, 1, 1),))
    assert stored == "2026-03-01T14:30:00.000123+00:00"
    assert dt.datetime.fromisoformat(stored) == local


def test_json_and_lists(sqlite_url: str) -> None:
    with Pool(sqlite_url) as pool, pool.connection() as conn:
        conn.execute("CREATE TABLE j (doc TEXT, n INTEGER)")
        conn.execute("INSERT INTO j VALUES (?, 1), (?, 2), (?, 3)", ({"a": 1}, {"b": [1]}, {}))
        docs = conn.execute("SELECT json_extract(doc, '$.a') FROM j WHERE n = 1").fetchone()
        picked = conn.execute(
            "SELECT n FROM j WHERE n IN (SELECT value FROM json_each(?)) ORDER BY n", ([1, 3],)
        ).fetchall()
    assert docs[0] == 1
    assert [r[0] for r in picked] == [1, 3]


def test_returned_connection_is_rolled_back(sqlite_url: str) -> None:
    with Pool(sqlite_url, max_size=1) as pool:
        with pool.connection() as conn:
            conn.execute("CREATE TABLE t (n INTEGER)")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES (1)")
        with pool.connection() as conn:
            assert not conn.in_transaction
            assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0

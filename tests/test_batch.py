"""The :batch family on real PostgreSQL and real SQLite: results in item order, atomic, checked.

PostgreSQL's round trips are counted by a loopback proxy that reads the protocol messages the
client sends: a Sync closes a transaction and makes the client wait for the server, so a batch
that sends one Sync for 1,000 items ran as one pipelined exchange, not 1,000.
"""

from __future__ import annotations

import collections
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from test_queries import FIXTURES, Fill, create_schema, fill_params
from tradestore import Pool
from tradestore.errors import IntegrityViolation, QueryError
from tradestore.queries.loader import Queries
from tradestore.queries.query import Query
from tradestore.trading.queries import load_queries


@pytest.fixture
def pool(db_url: str) -> Iterator[Pool]:
    with Pool(db_url, min_size=1, max_size=2, timeout=10) as p:
        create_schema(p)
        yield p


@pytest.fixture
def q() -> Queries:
    # The fixtures of test_queries.py, over the same folder (batch.sql is in it).
    return load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)


class IdOnly(BaseModel):
    id: int


def symbols(pool: Pool, q: Queries) -> list[str]:
    return [f.symbol for f in q.fills_for(pool, symbol=None)]


def test_batchone_gives_each_items_row_in_order(pool: Pool, q: Queries) -> None:
    seed = q.add_fill(pool, **fill_params("SEED"))
    # Mappings and models mix; a model gives the attributes of the parameters' names.
    added = q.add_fills(pool, [fill_params("A"), seed, fill_params("B", qty="2.25")])
    assert [(f.id, f.symbol) for f in added] == [(2, "A"), (3, "SEED"), (4, "B")]
    assert all(isinstance(f, Fill) for f in added)
    assert added[2].qty == q.get_fill(pool, id=4).qty == fill_params(qty="2.25")["qty"]
    # Without a model, dict rows; an item whose statement finds no row gives None.
    assert q.fill_symbols(pool, [{"id": 4}, {"id": 99}, {"id": 1}]) == [
        {"id": 4, "symbol": "B"},
        None,
        {"id": 1, "symbol": "SEED"},
    ]


def test_batchmany_gives_each_items_rows(pool: Pool, q: Queries) -> None:
    q.add_fills(pool, [fill_params(s) for s in ("A", "B", "A", "A")])
    found = q.fills_of_symbols(pool, [{"symbol": "A"}, {"symbol": "NONE"}, {"symbol": "B"}])
    assert [[f.id for f in rows] for rows in found] == [[1, 3, 4], [], [2]]
    assert all(isinstance(f, Fill) for rows in found for f in rows)


def test_batchexec_counts_the_rows_it_changed(pool: Pool, q: Queries) -> None:
    q.add_fills(pool, [fill_params(s) for s in ("A", "B", "C")])
    changed = q.set_metas(
        pool, [{"id": 1, "meta": {"k": 1}}, {"id": 99, "meta": {}}, {"id": 3, "meta": {"k": 3}}]
    )
    assert changed == 2
    assert [q.get_fill(pool, id=i).meta for i in (1, 2, 3)] == [
        {"k": 1},
        fill_params()["meta"],
        {"k": 3},
    ]


def test_no_items_touch_no_connection(pool: Pool, q: Queries) -> None:
    before = pool.stats().created
    assert q.set_metas(pool, []) == 0
    assert q.add_fills(pool, iter([])) == []
    assert q.fills_of_symbols(pool, ()) == []
    assert pool.metrics.snapshot().get("add_fills") is None
    assert pool.stats().created == before


def test_a_failing_item_leaves_no_item_applied(pool: Pool, q: Queries) -> None:
    items = [fill_params("OK1"), fill_params("OK2"), fill_params(None), fill_params("OK3")]
    with pytest.raises(IntegrityViolation, match=r"query add_fills \(.*batch\.sql:15\) failed"):
        q.add_fills(pool, items)
    assert symbols(pool, q) == []
    a, b = q.add_fills(pool, [fill_params("A"), fill_params("B")])  # ids past the lost ones
    with pytest.raises(IntegrityViolation, match=r"query set_metas \(.*batch\.sql:\d+\) failed"):
        q.set_metas(pool, [{"id": a.id, "meta": {"new": 1}}, {"id": b.id, "meta": None}])
    assert q.get_fill(pool, id=a.id).meta == fill_params()["meta"]
    assert pool.stats().in_use == 0


def test_a_value_the_driver_cannot_send_leaves_no_item_applied(pool: Pool, q: Queries) -> None:
    # Found by the driver mid-batch, after earlier items were sent (psycopg streams a batch
    # through its pipeline): the batch's own transaction must still take them back.
    items = [fill_params("OK1"), fill_params("OK2"), fill_params("BAD", meta=object())]
    with pytest.raises(QueryError, match=r"query add_fills \(.*batch\.sql:15\) failed"):
        q.add_fills(pool, items)
    seed = q.add_fill(pool, **fill_params("SEED"))
    with pytest.raises(QueryError, match=r"query set_metas \(.*batch\.sql:\d+\) failed"):
        q.set_metas(pool, [{"id": seed.id, "meta": {"new": 1}}, {"id": seed.id, "meta": object()}])
    assert symbols(pool, q) == ["SEED"]
    assert q.get_fill(pool, id=seed.id).meta == fill_params()["meta"]


def test_a_failed_batch_leaves_the_callers_transaction_usable(pool: Pool, q: Queries) -> None:
    with pool.transaction() as tx:
        q.add_fill(tx, **fill_params("BEFORE"))
        with pytest.raises(IntegrityViolation):
            q.add_fills(tx, [fill_params("X1"), fill_params(None)])
        with pytest.raises(QueryError):
            q.add_fills(tx, [fill_params("Y1"), fill_params("Y2", meta=object())])
        assert q.add_fills(tx, [fill_params("AFTER")])[0].symbol == "AFTER"
    assert symbols(pool, q) == ["BEFORE", "AFTER"]


def test_a_batch_joins_the_callers_transaction(pool: Pool, q: Queries) -> None:
    with pytest.raises(RuntimeError), pool.transaction() as tx:
        q.add_fills(tx, [fill_params("GONE1"), fill_params("GONE2")])
        assert q.fills_of_symbols(tx, [{"symbol": "GONE1"}])[0][0].symbol == "GONE1"
        raise RuntimeError("roll back")
    assert symbols(pool, q) == []
    # On a held connection outside any transaction, the batch commits on its own.
    with pool.connection() as conn:
        assert q.set_metas(conn, [{"id": 1, "meta": {}}]) == 0
        q.add_fills(conn, [fill_params("KEPT")])
        assert not conn.in_transaction
    assert symbols(pool, q) == ["KEPT"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            [{"id": 1, "meta": {}}, {"id": 2}],
            r"set_metas \(.*batch\.sql:\d+\): items\[1\]: missing parameter meta "
            r"\(declared: meta, id\)",
        ),
        (
            [{"id": 1, "meta": {}, "metta": {}}],
            r"set_metas .*: items\[0\]: unexpected parameter metta",
        ),
        ([{"id": 1, "meta": {}}, (2, {})], r"set_metas .*: items\[1\]: tuple is not a parameter"),
        ([IdOnly(id=1)], r"set_metas .*: items\[0\]: IdOnly has no attribute .*meta"),
    ],
)
def test_parameter_errors_name_the_item_and_parameter(
    pool: Pool, q: Queries, items: list[Any], message: str
) -> None:
    q.add_fill(pool, **fill_params("SEED"))
    with pytest.raises(QueryError, match=message):
        q.set_metas(pool, items)
    assert q.get_fill(pool, id=1).meta == fill_params()["meta"]  # nothing ran


def test_a_bad_item_late_in_the_batch_stops_it_before_anything_runs(pool: Pool, q: Queries) -> None:
    items = [fill_params(f"S{i}") for i in range(500)]
    del items[432]["price"]
    with pytest.raises(QueryError, match=r"add_fills .*items\[432\]: missing parameter price"):
        q.add_fills(pool, items)
    assert symbols(pool, q) == []


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        ((fill_params(),), {}),
        (([fill_params()],), {"symbol": "X"}),
        (("AB",), {}),
        ((7,), {}),
        (([fill_params()], [fill_params()]), {}),
    ],
)
def test_a_batch_takes_one_iterable_of_parameter_sets(
    pool: Pool, q: Queries, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(QueryError, match=r"add_fills .* is :batchone: call it as q\.add_fills"):
        q.add_fills(pool, *args, **kwargs)


def test_batches_are_timed_once_per_call(pool: Pool, q: Queries) -> None:
    q.add_fills(pool, [fill_params(f"S{i}") for i in range(20)])
    with pytest.raises(IntegrityViolation):
        q.add_fills(pool, [fill_params(None)])
    timing = pool.metrics.snapshot()["add_fills"]
    assert (timing.count, timing.errors) == (2, 1)


def test_a_psycopg_pipeline_abort_is_not_logged_twice(
    pool: Pool, q: Queries, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(IntegrityViolation):
        q.add_fills(pool, [fill_params("A"), fill_params(None), fill_params("B")])
    assert [r.getMessage() for r in caplog.records] == []


# -- round trips on PostgreSQL ------------------------------------------------------------


class CountingProxy:
    """A loopback TCP proxy in front of PostgreSQL counting the message types the client sends."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def sent(self) -> dict[str, int]:
        time.sleep(0.05)  # let the forwarding threads count what is already on its way
        with self._lock:
            return dict(self.counts)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(
                target=self._forward, args=(client, upstream, True), daemon=True
            ).start()
            threading.Thread(
                target=self._forward, args=(upstream, client, False), daemon=True
            ).start()

    def _forward(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        buffer = b""
        started = False  # the startup message has no type byte
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                if count:
                    buffer, started = self._count(buffer + data, started)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def _count(self, buffer: bytes, started: bool) -> tuple[bytes, bool]:
        while True:
            if not started:
                if len(buffer) < 4 or len(buffer) < struct.unpack("!I", buffer[:4])[0]:
                    return buffer, started
                size = struct.unpack("!I", buffer[:4])[0]
                started = struct.unpack("!I", buffer[4:8])[0] != 80877103  # not SSLRequest
                buffer = buffer[size:]
                continue
            if len(buffer) < 5 or len(buffer) < 1 + struct.unpack("!I", buffer[1:5])[0]:
                return buffer, started
            with self._lock:
                self.counts[chr(buffer[0])] += 1
            buffer = buffer[1 + struct.unpack("!I", buffer[1:5])[0] :]


def counting_proxy(pg_url: str) -> tuple[CountingProxy, str]:
    """A CountingProxy in front of `pg_url`'s server, and the URL that goes through it."""
    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1) if ":" in host_port else (host_port, "5432")
    proxy = CountingProxy(host, int(port))
    return proxy, pg_url.replace(host_port, f"127.0.0.1:{proxy.port}") + "&sslmode=disable"


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


@pytest.mark.postgres
def test_a_postgres_batch_is_one_pipelined_exchange(pg_url: str, q: Queries) -> None:
    proxy, url = counting_proxy(pg_url)
    try:
        with Pool(url, min_size=1, max_size=1) as pool:
            create_schema(pool)
            batches: list[tuple[Query, list[dict[str, Any]]]] = [
                (q.add_fills, [fill_params(f"S{i}") for i in range(1000)]),
                (q.set_metas, [{"id": i, "meta": {}} for i in range(1, 1001)]),
                (q.fills_of_symbols, [{"symbol": f"S{i}"} for i in range(1000)]),
            ]
            for query, items in batches:
                before = proxy.sent()
                query(pool, items)
                sent = _delta(before, proxy.sent())
                # 1,000 Executes, one Sync (the client waits for the server once, plus once
                # more for the rows of a row batch: Flush), no simple-protocol query.
                assert sent["E"] == 1002, sent  # the items, BEGIN and COMMIT
                assert sent["S"] == 1, sent
                assert sent.get("H", 0) <= 2, sent
                assert "Q" not in sent, sent
            before = proxy.sent()
            for i in range(1, 51):
                q.set_meta(pool, id=i, meta={})
            assert _delta(before, proxy.sent())["S"] == 50  # single calls: one exchange each
            assert symbols(pool, q)[:2] == ["S0", "S1"]
    finally:
        proxy.close()

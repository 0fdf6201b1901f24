"""Fault 2: every pooled PostgreSQL connection is killed while idle (pg_terminate_backend).

The next call, whichever part of the API it goes through, must succeed with no error reaching
the caller: the pool notices the dead sockets at checkout and opens new connections.
tests/test_pool_postgres.py proves this for ``pool.connection()`` + ``conn.execute``; here it is
the whole call surface a bot uses (store writes and reads, the :copyfrom path, entity
repositories, ``store.transaction()``, health) and named queries on a bare `Pool`, each one
right after its own kill, several rounds over.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from deadlines import wait_until
from tradestore import Pool, TradeStore, load_queries, migrate
from tradestore.trading.inputs import ExecutionResult, IterationSummary, TradeSignal
from tradestore.trading.store_writes import trade_params

ROUNDS = 2
MIN_SIZE = 3
T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)


def signal(symbol: str = "AAPL") -> TradeSignal:
    return TradeSignal(
        symbol=symbol,
        action="BUY",
        strategy_name="momentum",
        quantity=Decimal("3.5"),
        signal_price=Decimal("187.25"),
        signal_time=T0,
    )


def wait_until_refilled(pool: Pool) -> None:
    """The pool refills to min_size in the background after a kill; the next kill should hit
    a full pool (MIN_SIZE idle connections), so wait for it (bounded)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = pool.stats()
        if stats.size >= MIN_SIZE and stats.idle == stats.size:
            return
        time.sleep(0.01)
    raise AssertionError(f"pool never refilled to {MIN_SIZE} idle connections: {pool.stats()}")


def kill_idle_backends(base_url: str, pool: Pool) -> set[int]:
    """Terminate every backend of `pool` (found by its application_name) and wait until gone."""
    wait_until_refilled(pool)
    app = pool.url.options["application_name"]
    with psycopg.connect(base_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state = 'idle'",
            (app,),
        ).fetchall()
        pids = {int(pid) for (pid,) in rows}
        assert len(pids) >= MIN_SIZE, f"expected {MIN_SIZE} idle backends of {app}, saw {pids}"
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(250):
            (alive,) = admin.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),)
            ).fetchone() or (0,)
            if alive == 0:
                return pids
            time.sleep(0.02)
    raise AssertionError(f"backends {pids} still alive after pg_terminate_backend")


def live_pids(base_url: str, app: str) -> set[int]:
    with psycopg.connect(base_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app,)
        ).fetchall()
    return {int(pid) for (pid,) in rows}


@pytest.fixture
def store(pg_url: str) -> Iterator[TradeStore]:
    migrate(pg_url)
    with TradeStore(pg_url, on_error="raise", min_size=MIN_SIZE, max_size=4, timeout=10) as s:
        yield s


def store_calls(store: TradeStore) -> list[tuple[str, Callable[[], None]]]:
    """One entry per path through the kit; each checks its own result."""
    account = store.accounts.create(name="idle-kill", cash_balance=Decimal("50000"))
    portfolio = store.portfolios.create(account_id=account.id, name="core")

    def log_trade() -> None:
        cid = store.log_trade(signal(), ExecutionResult(executed=True, fill_price=Decimal("187")))
        found = store.get_trade(cid)
        assert found is not None
        assert found.fill_price == Decimal("187")

    def trade_history() -> None:
        assert store.get_trade_history(symbol="AAPL", limit=1000)

    def log_trades_copy() -> None:
        before = len(store.get_trade_history(symbol="MSFT"))
        store.log_trades([signal("MSFT"), signal("MSFT")])
        assert len(store.get_trade_history(symbol="MSFT")) == before + 2

    def equity() -> None:
        point = store.log_equity_snapshot(Decimal("100000.5"), ts=T0)
        assert point is not None
        assert store.get_equity_curve(limit=1)[0].equity == Decimal("100000.5")

    def iteration_and_risk() -> None:
        assert store.log_iteration(IterationSummary(iteration_number=1, started_at=T0))
        assert store.log_risk_metrics(recorded_at=T0, portfolio_value=Decimal("100000"))
        assert store.get_iterations(limit=1)
        assert store.get_risk_metrics(limit=1)

    def order_submit_and_fill() -> None:
        order = store.orders.submit(
            portfolio_id=portfolio.id,
            symbol="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal("2"),
        )
        filled, trade = store.orders.fill(order.id, quantity=Decimal("2"), price=Decimal("187"))
        assert filled.status == "filled"
        assert trade.order_id == order.id
        assert [row.action for row in store.audit.get_entity_history("order", order.id)] == [
            "order_submitted",
            "order_filled",
        ]

    def transaction_block() -> None:
        with store.transaction():
            cid = store.log_trade(signal("BTC-USD"))
            store.orders.submit(
                portfolio_id=portfolio.id,
                symbol="BTC-USD",
                side="buy",
                order_type="limit",
                quantity=Decimal("0.1"),
                limit_price=Decimal("64000"),
            )
        assert store.get_trade(cid) is not None

    def health() -> None:
        report = store.health_check()
        assert report["status"] == "healthy", report
        assert report["schema"]["ready"] is True

    return [
        ("log_trade", log_trade),
        ("get_trade_history", trade_history),
        ("log_trades (COPY)", log_trades_copy),
        ("log_equity_snapshot", equity),
        ("log_iteration / log_risk_metrics", iteration_and_risk),
        ("orders.submit / fill", order_submit_and_fill),
        ("store.transaction()", transaction_block),
        ("health_check", health),
    ]


def test_every_store_call_heals_after_idle_backends_are_killed(
    store: TradeStore, postgres_base_url: str
) -> None:
    calls = store_calls(store)
    for _, call in calls:  # warm-up: every path has run once before the first kill
        call()
    app = store.pool.url.options["application_name"]
    killed = 0
    for _ in range(ROUNDS):
        for name, call in calls:
            old = kill_idle_backends(postgres_base_url, store.pool)
            killed += len(old)
            try:
                call()  # no retry here: the first call after the kill must just work
            except Exception as exc:
                raise AssertionError(f"{name} failed right after the kill: {exc!r}") from exc
            assert not (live_pids(postgres_base_url, app) & old)
    # Every dead connection was noticed by the checkout check (none reached a statement), and
    # each was replaced by a new one: the last replacement may still be opening in the pool's
    # background refill when the last call returns.
    assert store.pool.stats().failed_checks >= killed
    wait_until(
        lambda: store.pool.stats().created >= MIN_SIZE + killed,
        f"the pool replacing all {killed} killed connections",
        timeout=30.0,
    )


def test_named_queries_on_a_bare_pool_heal_after_idle_backends_are_killed(
    pg_url: str, postgres_base_url: str
) -> None:
    migrate(pg_url)
    q = load_queries()
    with Pool(pg_url, min_size=MIN_SIZE, max_size=4, timeout=10, name="idle-kill") as pool:
        written = {"AAPL": 0, "MSFT": 0}

        def params(symbol: str = "AAPL") -> dict[str, Any]:
            written[symbol] += 1
            return trade_params(signal(symbol), None, f"bare-{symbol}-{written[symbol]}")

        def count(symbol: str) -> int:
            rows = q.trade_history(
                pool, symbol=symbol, executed=None, start_date=None, end_date=None, limit=1000
            )
            return len(rows)

        def exec_query() -> None:
            row = params()
            q.upsert_trade_record(pool, **row)
            found = q.get_trade_record(pool, correlation_id=row["correlation_id"])
            assert found is not None

        def many_query() -> None:
            assert count("AAPL") == written["AAPL"]

        def copy_query() -> None:
            assert q.copy_trade_records(pool, [params("MSFT"), params("MSFT")]) == 2
            assert count("MSFT") == written["MSFT"]

        def pool_transaction() -> None:
            row = params()
            with pool.transaction() as conn:
                q.upsert_trade_record(conn, **row)
            assert q.get_trade_record(pool, correlation_id=row["correlation_id"]) is not None

        def health() -> None:
            report = pool.health_check()
            assert report["status"] == "healthy", report

        calls = [
            ("query :exec/:one", exec_query),
            ("query :many", many_query),
            ("query :copyfrom", copy_query),
            ("pool.transaction()", pool_transaction),
            ("pool.health_check", health),
        ]
        for _, call in calls:
            call()
        killed = 0
        for _ in range(ROUNDS):
            for name, call in calls:
                killed += len(kill_idle_backends(postgres_base_url, pool))
                try:
                    call()
                except Exception as exc:
                    raise AssertionError(f"{name} failed right after the kill: {exc!r}") from exc
        assert pool.stats().failed_checks >= killed

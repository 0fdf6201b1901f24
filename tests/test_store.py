"""TradeStore on real PostgreSQL and real SQLite: every write and read, filters, returns,
batching, bulk load, the failure policy, and health."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from faces import trade_store
from tradestore import Pool, TradeStore, migrate
from tradestore.errors import IntegrityViolation, QueryError, TradestoreError
from tradestore.trading.inputs import AuditReport, ExecutionResult, IterationSummary, TradeSignal

T0 = dt.datetime(2026, 3, 2, 14, 30, 0, 123456, tzinfo=dt.UTC)
NY = dt.timezone(dt.timedelta(hours=-5))


def sig(symbol: str = "AAPL", at: dt.datetime = T0, **changes: Any) -> TradeSignal:
    values: dict[str, Any] = {
        "symbol": symbol,
        "action": "BUY",
        "strategy_name": "momentum",
        "quantity": "10.5",
        "signal_price": "187.12345678",
        "signal_time": at,
    }
    values.update(changes)
    return TradeSignal.model_validate(values)


@pytest.fixture
def store(db_url: str, face: str) -> Iterator[TradeStore]:
    """A store on a migrated database, per face (the async one through `faces.Bridge`)."""
    migrate(db_url)
    with trade_store(face, db_url, min_size=1, max_size=4, timeout=10) as s:
        yield s


@pytest.fixture
def bare_store(db_url: str, face: str) -> Iterator[TradeStore]:
    """A store on a database nobody migrated: every write fails for real (no such table)."""
    with trade_store(face, db_url, on_error="log", min_size=1, max_size=2, timeout=10) as s:
        yield s


# -- trades --------------------------------------------------------------------------------


def test_log_trade_round_trips_exact_decimals_and_utc(store: TradeStore) -> None:
    signal = sig(
        at=T0.astimezone(NY),
        stop_loss="180",
        take_profit="200.5",
        risk_amount="71.25",
        confidence="0.87654321",
        sharpe_ratio="-1.5",
        reasoning="breakout",
    )
    fill = ExecutionResult(
        executed=True, fill_price="187.2", execution_time=T0, broker_order_id="B-1"
    )
    cid = store.log_trade(signal, fill)
    assert len(cid) == 32
    row = store.get_trade(cid)
    assert row is not None
    assert row.correlation_id == cid
    assert row.quantity == Decimal("10.5")
    assert str(row.signal_price) == "187.12345678"
    assert row.confidence == Decimal("0.87654321")
    assert row.sharpe_ratio == Decimal("-1.5")
    assert row.signal_time == T0
    assert row.signal_time.tzinfo == dt.UTC
    assert row.execution_time == T0
    assert row.executed is True
    assert row.fill_price == Decimal("187.2")
    assert row.broker_order_id == "B-1"
    assert row.reasoning == "breakout"
    assert row.created_at.tzinfo == dt.UTC


def test_log_trade_accepts_mappings_and_a_given_id_and_upserts(store: TradeStore) -> None:
    cid = store.log_trade(sig().model_dump(), correlation_id="run-1/sig-7")
    assert cid == "run-1/sig-7"
    first = store.get_trade(cid)
    assert first is not None
    assert first.executed is False
    assert first.fill_price is None
    # The execution arrives later under the same id: the row is completed, not duplicated.
    store.log_trade(sig(), {"executed": True, "fill_price": "187.5"}, correlation_id=cid)
    rows = store.get_trade_history()
    assert [r.correlation_id for r in rows] == [cid]
    assert rows[0].executed is True
    assert rows[0].fill_price == Decimal("187.5")


def test_trade_history_filters_and_newest_first(store: TradeStore) -> None:
    ids = {}
    for day, symbol, executed in [
        (1, "AAPL", True),
        (2, "MSFT", False),
        (3, "AAPL", False),
        (4, "AAPL", True),
        (5, "MSFT", True),
    ]:
        at = T0 + dt.timedelta(days=day)
        execution = ExecutionResult(executed=executed, execution_time=at if executed else None)
        ids[day] = store.log_trade(sig(symbol, at), execution)

    def days(rows: list[Any]) -> list[int]:
        by_id = {v: k for k, v in ids.items()}
        return [by_id[r.correlation_id] for r in rows]

    assert days(store.get_trade_history()) == [5, 4, 3, 2, 1]
    assert days(store.get_trade_history(symbol="AAPL")) == [4, 3, 1]
    assert days(store.get_trade_history(executed=True)) == [5, 4, 1]
    assert days(store.get_trade_history(executed=False)) == [3, 2]
    assert days(store.get_trade_history(symbol="AAPL", executed=False)) == [3]
    start, end = T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=4)
    assert days(store.get_trade_history(start_date=start, end_date=end)) == [3, 2]  # [start, end)
    assert days(store.get_trade_history(limit=2)) == [5, 4]
    assert store.get_trade_history(limit=0) == []
    assert store.get_trade_history(symbol="TSLA") == []
    # The window accepts any time zone: the same instants in New York time.
    in_ny = store.get_trade_history(start_date=start.astimezone(NY), end_date=end.astimezone(NY))
    assert days(in_ny) == [3, 2]


def test_filters_refuse_naive_times_and_negative_limits(store: TradeStore) -> None:
    with pytest.raises(ValueError, match="start_date must be timezone-aware"):
        store.get_trade_history(start_date=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="end_date must be timezone-aware"):
        store.get_equity_curve(end_date=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="limit must be >= 0"):
        store.get_iterations(limit=-1)


def test_log_trades_bulk_loads_and_is_all_or_nothing(store: TradeStore) -> None:
    items: list[Any] = [sig(f"S{i % 7}", T0 + dt.timedelta(seconds=i)) for i in range(300)]
    items.append((sig("LAST", T0 + dt.timedelta(hours=1)), {"executed": True, "fill_price": 1}))
    items.append((sig("ID", T0 - dt.timedelta(hours=1)), None, "given-id"))
    ids = store.log_trades(items)
    assert len(ids) == 302
    assert ids[-1] == "given-id"
    assert len(set(ids)) == 302
    rows = store.get_trade_history()
    assert len(rows) == 302
    assert rows[0].symbol == "LAST"
    assert rows[0].executed is True
    assert rows[0].fill_price == Decimal(1)
    assert rows[-1].correlation_id == "given-id"
    assert rows[1].signal_price == Decimal("187.12345678")
    # A duplicate id fails the whole batch: the fresh row in it is not stored either.
    with pytest.raises(IntegrityViolation):
        store.log_trades([(sig("NEW"), None, "fresh-id"), (sig("DUP"), None, "given-id")])
    assert store.get_trade("fresh-id") is None
    assert store.log_trades([]) == []


def test_log_trades_validates_every_item_before_sending(store: TradeStore) -> None:
    with pytest.raises(ValidationError, match="quantity"):
        store.log_trades([sig("OK"), {**sig().model_dump(), "quantity": "-1"}])
    with pytest.raises(ValueError, match="item 1"):
        store.log_trades([(sig(), None, "id", "extra")])
    assert store.get_trade_history() == []


# -- equity --------------------------------------------------------------------------------


def test_equity_returns_are_computed_from_the_curve(store: TradeStore) -> None:
    d1 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    d2 = d1 + dt.timedelta(days=1)
    points = [
        (d1 + dt.timedelta(hours=8), "100"),  # first point: both returns 0
        (d1 + dt.timedelta(hours=12), "110"),  # day 1: vs the day's first point
        (d2 + dt.timedelta(hours=9), "99"),  # day 2: vs the last point of day 1 (110)
        (d2 + dt.timedelta(hours=15), "121"),
        (d2 + dt.timedelta(hours=16), "100.00000001"),
    ]
    rows = [store.log_equity_snapshot(Decimal(e), ts=ts) for ts, e in points]
    got = [(r.total_return, r.daily_return) for r in rows if r is not None]
    assert got == [
        (Decimal(0), Decimal(0)),
        (Decimal("0.1"), Decimal("0.1")),
        (Decimal("-0.01"), Decimal("-0.1")),
        (Decimal("0.21"), Decimal("0.1")),
        (Decimal("0.00000000"), Decimal("-0.09090909")),  # 100.00000001/110 - 1, half-even
    ]
    curve = store.get_equity_curve()
    assert [p.recorded_at for p in curve] == [ts for ts, _ in reversed(points)]
    assert curve[0].equity == Decimal("100.00000001")
    assert curve[0].cash == curve[0].equity  # cash defaults to the equity
    assert curve[0].buying_power == curve[0].cash


def test_equity_snapshot_after_a_gap_uses_the_last_earlier_day(store: TradeStore) -> None:
    friday = dt.datetime(2026, 3, 6, 20, 0, tzinfo=dt.UTC)
    store.log_equity_snapshot(3, cash=1, buying_power=2, ts=friday)
    monday = store.log_equity_snapshot(1, ts=friday + dt.timedelta(days=3))
    assert monday is not None
    assert monday.daily_return == Decimal("-0.66666667")
    assert monday.total_return == Decimal("-0.66666667")
    zero = store.log_equity_snapshot(0, ts=friday + dt.timedelta(days=4))
    after_zero = store.log_equity_snapshot(5, ts=friday + dt.timedelta(days=5))
    assert zero is not None
    assert after_zero is not None
    assert after_zero.daily_return is None  # relative to 0: undefined, stored as NULL
    assert after_zero.total_return == Decimal("0.66666667")
    first = store.get_equity_curve(limit=1, end_date=friday + dt.timedelta(seconds=1))[0]
    assert (first.cash, first.buying_power) == (Decimal(1), Decimal(2))


def test_equity_curve_window_and_limit(store: TradeStore) -> None:
    for hour in range(6):
        store.log_equity_snapshot(1000 + hour, ts=T0 + dt.timedelta(hours=hour))
    window = store.get_equity_curve(
        start_date=T0 + dt.timedelta(hours=1), end_date=T0 + dt.timedelta(hours=4)
    )
    assert [p.equity for p in window] == [Decimal(1003), Decimal(1002), Decimal(1001)]
    assert [p.equity for p in store.get_equity_curve(limit=2)] == [Decimal(1005), Decimal(1004)]


def test_equity_snapshot_validates_before_sql(bare_store: TradeStore) -> None:
    # On an unmigrated database any SQL would fail: the ValidationError proves none ran.
    with pytest.raises(ValidationError, match="equity"):
        bare_store.log_equity_snapshot(float("nan"))
    with pytest.raises(ValidationError, match="recorded_at"):
        bare_store.log_equity_snapshot(1, ts=dt.datetime(2026, 1, 1))


# -- risk, iterations, audit reports -------------------------------------------------------


def test_risk_metrics_round_trip_and_window(store: TradeStore) -> None:
    for i in range(3):
        row = store.log_risk_metrics(
            portfolio_value="100000.12345678",
            open_positions=i,
            total_exposure="2500.5",
            daily_pnl="-12.25",
            max_drawdown="0.05",
            recorded_at=T0 + dt.timedelta(minutes=i),
        )
        assert row is not None
    rows = store.get_risk_metrics()
    assert [r.open_positions for r in rows] == [2, 1, 0]
    assert rows[0].portfolio_value == Decimal("100000.12345678")
    assert rows[0].daily_pnl == Decimal("-12.25")
    assert rows[0].total_pnl == Decimal(0)
    assert rows[0].sharpe_ratio is None
    assert rows[0].recorded_at == T0 + dt.timedelta(minutes=2)
    assert len(store.get_risk_metrics(start_date=T0 + dt.timedelta(minutes=1))) == 2
    assert len(store.get_risk_metrics(limit=1)) == 1
    with pytest.raises(ValidationError, match="portfolio_value"):
        store.log_risk_metrics(open_positions=1)
    with pytest.raises(ValidationError, match="daily_pnl"):
        store.log_risk_metrics(portfolio_value=1, daily_pnl="1e13")


def test_iterations_round_trip_json_and_window(store: TradeStore) -> None:
    for n in range(3):
        store.log_iteration(
            IterationSummary(
                iteration_number=n,
                started_at=T0 + dt.timedelta(minutes=n),
                symbols_processed=["AAPL", "MSFT"][: n + 1],
                signals_generated=5,
                signals_executed=n,
                duration_seconds=1.25,
                errors=[{"symbol": "AAPL", "error": "timeout é"}] if n == 1 else [],
            )
        )
    rows = store.get_iterations()
    assert [r.iteration_number for r in rows] == [2, 1, 0]
    assert rows[1].errors == [{"symbol": "AAPL", "error": "timeout é"}]
    assert rows[0].symbols_processed == ["AAPL", "MSFT"]
    assert rows[2].symbols_processed == ["AAPL"]
    assert rows[0].duration_seconds == 1.25
    assert rows[0].started_at.tzinfo == dt.UTC
    mapped = store.log_iteration({"iteration_number": 9, "started_at": T0 - dt.timedelta(days=1)})
    assert mapped is not None
    assert mapped.errors == []
    assert [r.iteration_number for r in store.get_iterations(end_date=T0)] == [9]
    assert len(store.get_iterations(limit=2)) == 2


def test_audit_reports_round_trip_and_filters(store: TradeStore) -> None:
    for i, kind in enumerate(["daily", "iteration", "daily", "weekly"]):
        store.log_audit_report(
            AuditReport(
                report_type=kind,
                generated_at=T0 + dt.timedelta(hours=i),
                summary=f"report {i}",
                recommendations=["cut size"] if i == 0 else [],
                metrics={"win_rate": "0.55", "nested": {"n": i}},
            )
        )
    rows = store.get_audit_reports()
    assert [r.summary for r in rows] == ["report 3", "report 2", "report 1", "report 0"]
    daily = store.get_audit_reports(report_type="daily")
    assert [r.summary for r in daily] == ["report 2", "report 0"]
    assert daily[1].recommendations == ["cut size"]
    assert daily[1].metrics == {"win_rate": "0.55", "nested": {"n": 0}}
    recent = store.get_audit_reports(start_date=T0 + dt.timedelta(hours=1), limit=2)
    assert [r.summary for r in recent] == ["report 3", "report 2"]


# -- transactions --------------------------------------------------------------------------


def test_transaction_batches_writes_in_one_commit(store: TradeStore) -> None:
    with store.transaction():
        store.log_trade(sig("A"))
        store.log_equity_snapshot(100, ts=T0)
        store.log_iteration({"iteration_number": 1})
        assert store.scope.current is not None  # the writes share one connection
    assert len(store.get_trade_history()) == 1
    assert len(store.get_equity_curve()) == 1
    assert len(store.get_iterations()) == 1


def test_a_failing_transaction_leaves_nothing(store: TradeStore) -> None:
    with pytest.raises(RuntimeError, match="bot crashed"), store.session():
        store.log_trade(sig("A"))
        store.log_trades([sig("B"), sig("C")])
        store.log_equity_snapshot(100, ts=T0)
        store.log_risk_metrics(portfolio_value=1)
        store.log_audit_report({"report_type": "daily"})
        raise RuntimeError("bot crashed")
    assert store.get_trade_history() == []
    assert store.get_equity_curve() == []
    assert store.get_risk_metrics() == []
    assert store.get_audit_reports() == []


# -- failure policy ------------------------------------------------------------------------


def test_on_error_log_logs_the_correlation_id_and_goes_on(
    bare_store: TradeStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tradestore.store"):
        cid = bare_store.log_trade(sig(), correlation_id="cid-42")
        assert cid == "cid-42"
        generated = bare_store.log_trade(sig())
        assert bare_store.log_iteration({"iteration_number": 1}) is None
        assert bare_store.log_equity_snapshot(1) is None
        assert bare_store.log_trades([(sig(), None, "bulk-1")]) == ["bulk-1"]
    records = [r for r in caplog.records if r.name == "tradestore.store"]
    assert [r.levelno for r in records] == [logging.ERROR] * 5
    assert "correlation_id=cid-42" in records[0].getMessage()
    assert "NOT stored" in records[0].getMessage()
    assert "QueryError" in records[0].getMessage()
    assert records[0].correlation_id == "cid-42"  # type: ignore[attr-defined]
    assert records[1].correlation_id == generated  # type: ignore[attr-defined]
    assert records[2].operation == "log_iteration"  # type: ignore[attr-defined]
    assert "bulk-1" in records[4].getMessage()


def test_on_error_log_still_raises_bad_input_and_inside_a_transaction(
    bare_store: TradeStore,
) -> None:
    with pytest.raises(ValidationError, match="quantity"):
        bare_store.log_trade(sig().model_dump() | {"quantity": "1e13"})
    with pytest.raises(QueryError), bare_store.transaction():
        bare_store.log_trade(sig())


def test_on_error_raise_is_the_default(db_url: str) -> None:
    with TradeStore(db_url, min_size=0, max_size=1) as s:
        assert s.on_error == "raise"
        # Unmigrated: the driver's error comes back named by query and file:line.
        with pytest.raises(QueryError, match=r"query upsert_trade_record \(.*\.sql:\d+\) failed"):
            s.log_trade(sig())
        with pytest.raises(QueryError, match=r"query trade_history \(.*\.sql:\d+\) failed"):
            s.get_trade_history()


def test_on_error_log_covers_a_closed_pool(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    migrate(db_url)
    s = TradeStore(db_url, on_error="log", min_size=0, max_size=1)
    s.close()
    with caplog.at_level(logging.ERROR, logger="tradestore.store"):
        assert s.log_trade(sig(), correlation_id="after-close") == "after-close"
    assert any("after-close" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="on_error"):
        TradeStore(db_url, on_error="ignore")  # type: ignore[arg-type]


# -- construction and health -------------------------------------------------------------


def test_a_pool_passed_in_stays_open(db_url: str) -> None:
    migrate(db_url)
    with Pool(db_url, min_size=0, max_size=2) as pool:
        with TradeStore(pool) as s:
            assert s.pool is pool
            assert s.owns_pool is False
            s.log_trade(sig())
        assert not pool.closed
        assert len(TradeStore(pool).get_trade_history()) == 1
        with pytest.raises(TypeError, match="max_size"):
            TradeStore(pool, max_size=3)


def test_from_env_and_migrate_on_open(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DB_POOL_SIZE", "1")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "2")
    with TradeStore.from_env(migrate=True, on_error="log") as s:
        assert s.settings is not None
        assert s.pool.max_size == 3
        assert s.on_error == "log"
        assert s.health_check()["schema"] == {"ready": True, "missing_tables": []}
        assert "TradeStore(" in repr(s)


def test_health_check(store: TradeStore) -> None:
    report = store.health_check()
    assert report["status"] == "healthy"
    assert report["schema"] == {"ready": True, "missing_tables": []}
    assert report["on_error"] == "raise"
    assert report["backend"] in ("sqlite", "postgresql")


def test_health_check_reports_an_unmigrated_database(bare_store: TradeStore) -> None:
    bare = bare_store.health_check()
    assert bare["status"] == "healthy"
    assert bare["schema"]["ready"] is False
    assert "trade_history" in bare["schema"]["missing_tables"]


def test_health_check_never_raises_nor_shows_the_password() -> None:
    url = "postgresql://bot:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=1"
    with TradeStore(url, min_size=0, max_size=1, timeout=2) as s:
        report = s.health_check()
        assert report["status"] == "unhealthy"
        assert report["schema"]["ready"] is False
        assert "s3cr3t-pw" not in repr(report)
        assert "s3cr3t-pw" not in repr(s)
        with pytest.raises(TradestoreError) as exc:
            s.get_trade_history()
        assert "s3cr3t-pw" not in str(exc.value)

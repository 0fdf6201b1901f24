"""Input models of the store: every bad value is refused with an error naming its field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tradestore.trading.inputs import (
    MAX_JSON_BYTES,
    MAX_TEXT_CHARS,
    AuditReport,
    EquitySnapshot,
    ExecutionResult,
    IterationSummary,
    RiskSnapshot,
    TradeSignal,
)

T0 = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
SIGNAL: dict[str, Any] = {
    "symbol": "AAPL",
    "action": "BUY",
    "strategy_name": "momentum",
    "quantity": "10",
    "signal_price": "187.25",
    "signal_time": T0,
}


def signal(**changes: Any) -> TradeSignal:
    return TradeSignal.model_validate({**SIGNAL, **changes})


def failed_fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {".".join(str(p) for p in error["loc"]) for error in exc.value.errors()}


def test_a_valid_signal_keeps_exact_decimals_and_utc() -> None:
    s = signal(
        signal_price=0.1,
        confidence="0.75",
        signal_time=T0.astimezone(dt.timezone(dt.timedelta(hours=-5))),
    )
    assert s.signal_price == Decimal(
        "0.1"
    )  # a float by its shortest repr, not 0.1000000000000000055
    assert s.confidence == Decimal("0.75")
    assert s.signal_time == T0
    assert s.signal_time.tzinfo == dt.UTC


def test_action_is_case_insensitive_and_stored_upper() -> None:
    assert signal(action=" sell ").action == "SELL"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "0"),  # a BUY of nothing
        ("quantity", "-1"),
        ("quantity", "1234567890123"),  # 13 integer digits: beyond numeric(20,8)
        ("quantity", "0.123456789"),  # 9 decimal places: refused, never rounded
        ("quantity", float("nan")),
        ("signal_price", float("inf")),
        ("signal_price", "-0.01"),
        ("signal_price", "1e30"),
        ("stop_loss", float("-inf")),
        ("confidence", "1.5"),
        ("action", "SHORT"),
        ("symbol", ""),
        ("strategy_name", "x" * 201),
        ("signal_time", dt.datetime(2026, 1, 1, 9, 30)),  # naive
        ("reasoning", "x" * (MAX_TEXT_CHARS + 1)),
        ("unknown_field", 1),
    ],
)
def test_a_bad_signal_value_names_its_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        signal(**{field: value})
    assert failed_fields(exc) == {field}


def test_a_hold_may_have_no_quantity() -> None:
    assert signal(action="HOLD", quantity=0).quantity == 0


def test_execution_stamps_the_time_of_an_execution_without_one() -> None:
    done = ExecutionResult(executed=True, fill_price=Decimal("187.30"))
    assert done.execution_time is not None
    assert done.execution_time.tzinfo == dt.UTC
    assert ExecutionResult(executed=False, error_message="rejected").execution_time is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fill_price", float("nan")),
        ("fill_price", "-1"),
        ("execution_time", dt.datetime(2026, 1, 1)),
        ("broker_order_id", "b" * 201),
    ],
)
def test_a_bad_execution_value_names_its_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        ExecutionResult.model_validate({"executed": True, field: value})
    assert failed_fields(exc) == {field}


def test_iteration_json_over_the_limit_is_refused_naming_the_field() -> None:
    IterationSummary(iteration_number=1, errors=["e" * 1000] * 60)  # ~60 KB: accepted
    with pytest.raises(ValidationError) as exc:
        IterationSummary(iteration_number=1, errors=["e" * 1000] * 70)
    assert failed_fields(exc) == {"errors"}
    assert f"limit of {MAX_JSON_BYTES} bytes" in str(exc.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("iteration_number", -1),
        ("signals_generated", -3),
        ("signals_executed", 2**31),
        ("duration_seconds", float("nan")),
        ("duration_seconds", -0.5),
        ("started_at", dt.datetime(2026, 1, 1)),
        ("symbols_processed", "AAPL"),
    ],
)
def test_a_bad_iteration_value_names_its_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        IterationSummary.model_validate({"iteration_number": 1, field: value})
    assert failed_fields(exc) == {field}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("report_type", "monthly"),
        ("metrics", ["not", "an", "object"]),
        ("metrics", {"blob": "x" * (MAX_JSON_BYTES + 1)}),
        ("recommendations", ["r" * (MAX_JSON_BYTES + 1)]),
        ("generated_at", dt.datetime(2026, 1, 1)),
    ],
)
def test_a_bad_audit_report_value_names_its_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        AuditReport.model_validate({"report_type": "daily", field: value})
    assert failed_fields(exc) == {field}


def test_equity_and_risk_snapshots_check_money() -> None:
    with pytest.raises(ValidationError) as exc:
        EquitySnapshot(equity=Decimal("1e12"), cash=0, buying_power=0)
    assert failed_fields(exc) == {"equity"}
    with pytest.raises(ValidationError) as exc2:
        RiskSnapshot.model_validate({"portfolio_value": 1, "total_exposure": -5})
    assert failed_fields(exc2) == {"total_exposure"}
    with pytest.raises(ValidationError) as exc3:
        RiskSnapshot.model_validate({"open_positions": 1})
    assert failed_fields(exc3) == {"portfolio_value"}

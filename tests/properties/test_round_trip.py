"""Property: whatever valid value a bot logs in a trade comes back from the database exactly.

Money: any Decimal of at most 8 places with |x| < 1e12 (numeric(20,8)), in any of its written
forms (``1E+11``, ``1.10000000``, ``-0``, ``0E-8``), in every money field of a trade, is read
back with ``get_trade`` equal to what was logged (``==`` and equal when both are quantized to
8 places): nothing rounded, truncated or turned into a float on either backend.

Text: arbitrary Unicode (every plane, controls, RTL marks, emoji, quotes, backslashes, SQL,
COPY's own ``\\N`` and ``\\.`` markers, parameter-looking ``%s`` / ``:name`` / ``?``) in every
text field of a trade, the correlation id included, is read back verbatim, whether written by
``log_trade`` (an upsert with bound parameters) or ``log_trades`` (COPY on PostgreSQL,
executemany on SQLite). The only change allowed is the documented one: leading and trailing
whitespace of the model's text fields is stripped (``str_strip_whitespace``).

Each example runs on both backends (module fixture ``store``) under a fresh correlation id,
and the strategies include the range edges, so a lossy path fails the test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tradestore import TradeStore
from tradestore.trading.inputs import MAX_TEXT_CHARS

from .conftest import ROUND_TRIPS

EIGHT_PLACES = Decimal("1E-8")

# -- strategies --------------------------------------------------------------------------

# Written forms that differ from their value's plain text: exponents, trailing zeros, signed
# zero, and the extremes of numeric(20,8).
_EDGES = [
    Decimal(text)
    for text in (
        "0",
        "-0",
        "0E-8",
        "1E-8",
        "-1E-8",
        "1.10000000",
        "1E+11",
        "5E+11",
        "999999999999.99999999",
        "-999999999999.99999999",
        "0.1",
        "123456789012",
    )
]


def money(*, minimum: int | None = None) -> Any:
    """Decimals ``n * 10**e`` with -8 <= e <= 11, |value| < 1e12 and n >= `minimum`.

    Drawing the exponent first and then an integer that fits it covers every scale evenly
    (a plain ``st.decimals(places=8)`` writes every value with exactly 8 places).
    """

    def of_exponent(e: int) -> st.SearchStrategy[Decimal]:
        bound = 10 ** (12 - e) - 1  # |n| * 10**e < 1e12
        low = -bound if minimum is None else minimum
        return st.integers(low, bound).map(lambda n: Decimal(f"{n}E{e}"))

    edges = [d for d in _EDGES if minimum is None or d >= minimum * EIGHT_PLACES]
    return st.one_of(st.sampled_from(edges), st.integers(-8, 11).flatmap(of_exponent))


def optional(strategy: Any) -> Any:
    return st.none() | strategy


_NON_NEGATIVE = money(minimum=0)
_POSITIVE = money(minimum=1)
# A confidence is a fraction in [0, 1]: n * 10**-p with 0 <= n <= 10**p.
_FRACTION = st.integers(0, 8).flatmap(
    lambda p: st.integers(0, 10**p).map(lambda n: Decimal(f"{n}E-{p}"))
)

# Pieces chosen because a naive layer would mangle them: SQL and COPY syntax, driver
# placeholders, escapes, bidi controls, combining and zero-width characters, astral emoji.
_NASTY = st.sampled_from(
    [
        "'; DROP TABLE trades; --",
        "'",
        "''",
        '"',
        "\\",
        "\\'",
        "\\N",
        "\n\\.\n",
        "\t",
        "\r\n",
        "%s",
        "%(symbol)s",
        "%%",
        "?",
        ":symbol",
        "$1",
        "$$",
        "/*",
        "--",
        ";",
        "😀",
        "🏳️‍🌈",
        "\u202eevil\u202c",
        "\u200f",
        "שלום",
        "مرحبا",
        "e\u0301",
        "\u200b",
        "\ufeff",
        "\x7f",
        "\x1b[31m",
        "\U0001d518\U0001d52b\U0001d526",  # mathematical Fraktur letters (astral plane)
    ]
)
# Every code point PostgreSQL and SQLite can hold as text: no lone surrogates (not encodable
# as UTF-8 at all; pydantic refuses them) and no NUL (refused by the kit: test_bad_input).
_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
# Whitespace that both Python's str.strip and pydantic's stripping remove.
_PAD = st.text(st.sampled_from(" \t\n\r\u3000\xa0\u2003"), max_size=3)


def text(min_size: int, max_size: int) -> Any:
    """Stripped text of [min_size, max_size] characters: nasty pieces mixed with any text,
    or a chunk repeated up to exactly `max_size` (the length limit itself)."""
    mixed = st.lists(st.one_of(_NASTY, st.text(_CHARS, max_size=12)), max_size=12).map("".join)
    at_limit = st.text(_CHARS, min_size=1, max_size=6).map(
        lambda chunk: (chunk * max_size)[:max_size]
    )
    # Text that strips to nothing stands in for a required one as "x" (no filter: filters
    # make hypothesis give examples up).
    return st.one_of(mixed, at_limit).map(lambda s: s[:max_size].strip() or "x" * min_size)


def padded(core: st.SearchStrategy[str]) -> Any:
    """(what the bot passes, what must come back): the core with whitespace around it."""
    return st.tuples(_PAD, core, _PAD).map(lambda t: (t[0] + t[1] + t[2], t[1]))


def fresh_id(suffix: str = "") -> str:
    """A correlation id no other example uses, with an arbitrary text tail (<= 200 chars)."""
    return (uuid.uuid4().hex + suffix)[:200]


def store_trade(
    store: TradeStore, via: str, signal: dict[str, Any], execution: dict[str, Any], cid: str
) -> None:
    if via == "log_trade":
        assert store.log_trade(signal, execution, correlation_id=cid) == cid
    else:
        assert store.log_trades([(signal, execution, cid)]) == [cid]


_VIA = st.sampled_from(["log_trade", "log_trades"])
_AWARE = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.builds(
        dt.timezone,
        st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)),
    ),
)


# -- properties -------------------------------------------------------------------------

MONEY_FIELDS = (
    "quantity",
    "signal_price",
    "stop_loss",
    "take_profit",
    "risk_amount",
    "confidence",
    "sharpe_ratio",
    "drawdown",
    "expectancy",
    "fill_price",
)


@st.composite
def trades_with_money(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    action = draw(st.sampled_from(["BUY", "SELL", "HOLD"]))
    signal: dict[str, Any] = {
        "symbol": "AAPL",
        "action": action,
        "strategy_name": "props",
        # A HOLD may hold nothing; a BUY or SELL needs a quantity > 0.
        "quantity": draw(_NON_NEGATIVE if action == "HOLD" else _POSITIVE),
        "signal_price": draw(optional(_NON_NEGATIVE)),
        "stop_loss": draw(optional(_NON_NEGATIVE)),
        "take_profit": draw(optional(_NON_NEGATIVE)),
        "risk_amount": draw(optional(_NON_NEGATIVE)),
        "confidence": draw(optional(_FRACTION)),
        "sharpe_ratio": draw(optional(money())),
        "drawdown": draw(optional(money())),
        "expectancy": draw(optional(money())),
        "signal_time": draw(_AWARE),
    }
    execution: dict[str, Any] = {
        "executed": True,
        "fill_price": draw(optional(_NON_NEGATIVE)),
        "execution_time": draw(_AWARE),
    }
    return signal, execution


@ROUND_TRIPS
@given(trade=trades_with_money(), via=_VIA)
def test_money_and_times_round_trip_exactly(
    store: TradeStore, trade: tuple[dict[str, Any], dict[str, Any]], via: str
) -> None:
    signal, execution = trade
    cid = fresh_id()
    store_trade(store, via, signal, execution, cid)
    record = store.get_trade(cid)
    assert record is not None
    sent = {**signal, **execution}
    for field in MONEY_FIELDS:
        expected: Decimal | None = sent[field]
        got: Decimal | None = getattr(record, field)
        if expected is None:
            assert got is None, field
            continue
        assert got is not None, field
        assert got == expected, f"{field}: logged {expected!r}, read back {got!r}"
        assert got.quantize(EIGHT_PLACES) == expected.quantize(EIGHT_PLACES), field
    # The same instant, whatever offset it was logged in, comes back in UTC.
    for field in ("signal_time", "execution_time"):
        got_time: dt.datetime | None = getattr(record, field)
        assert got_time == sent[field], field
        assert got_time is not None, field
        assert got_time.utcoffset() == dt.timedelta(0), field


@st.composite
def trades_with_text(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """A trade whose every text field is arbitrary; returns (signal, execution, expected)."""
    symbol, symbol_back = draw(padded(text(1, 200)))
    strategy, strategy_back = draw(padded(text(1, 200)))
    reasoning, reasoning_back = draw(padded(text(0, MAX_TEXT_CHARS)))
    broker, broker_back = draw(padded(text(0, 200)))
    error, error_back = draw(padded(text(0, MAX_TEXT_CHARS)))
    signal = {
        "symbol": symbol,
        "action": "SELL",
        "strategy_name": strategy,
        "quantity": Decimal(1),
        "reasoning": reasoning,
    }
    execution = {"executed": False, "broker_order_id": broker, "error_message": error}
    expected = {
        "symbol": symbol_back,
        "strategy_name": strategy_back,
        "reasoning": reasoning_back,
        "broker_order_id": broker_back,
        "error_message": error_back,
    }
    return signal, execution, expected


@ROUND_TRIPS
@given(
    trade=trades_with_text(),
    # The correlation id is not stripped: any tail, whitespace included, comes back as is.
    tail=st.text(_CHARS, max_size=168) | _NASTY,
    via=_VIA,
)
def test_text_round_trips_verbatim(
    store: TradeStore,
    trade: tuple[dict[str, Any], dict[str, Any], dict[str, str]],
    tail: str,
    via: str,
) -> None:
    signal, execution, expected = trade
    cid = fresh_id(tail)
    store_trade(store, via, signal, execution, cid)
    record = store.get_trade(cid)
    assert record is not None, f"no row under correlation id {cid!r}"
    assert record.correlation_id == cid
    for field, value in expected.items():
        got = getattr(record, field)
        assert got == value, f"{field}: logged {value!r}, read back {got!r}"
    # The injection-looking text was data, not SQL: the table and this row are still there.
    assert record.action == "SELL"

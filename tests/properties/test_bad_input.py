"""Properties: bad input is refused by validation, naming the field, before any SQL runs.

- Money out of numeric(20,8) (|x| >= 1e12, more than 8 significant places), NaN, sNaN, +-inf,
  negative prices or quantities, a confidence over 1, a BUY of nothing: a pydantic
  `ValidationError` whose errors locate the field.
- NUL ('\\x00') in any text field of a trade (the correlation id included) or in any string
  of a JSON field: refused the same way on BOTH backends, although SQLite could store it,
  because PostgreSQL cannot.
- Naive or out-of-range datetimes, wrong types, actions outside BUY/SELL/HOLD, unknown
  fields, texts over their limit, JSON over `MAX_JSON_BYTES`: refused, naming the field.
- One bad item anywhere in ``log_trades([...])`` fails the whole batch: zero new rows; the
  same when the database itself refuses an item (a duplicate correlation id).
- A malformed DATABASE_URL raises `DatabaseURLError` whose text never contains the password
  (a blank or control character before the '@' is refused without showing the URL's credentials).
- Any garbage in a named-SQL folder either loads or raises `SqlFileError` naming file:line
  (the line an editor shows, holding the fault), never another exception; a query called
  with an unknown parameter is refused before SQL.

"Before any SQL" is proved by the pool's checkout counter (`no_sql`): every statement the
store runs takes a connection first, so an unchanged counter means the database never saw
the value; the table's row count and the absent correlation id confirm nothing was stored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hypothesis_profiles import examples
from tradestore import DatabaseURLError, TradeStore, load_queries, parse_url
from tradestore.errors import QueryError, SqlFileError, TradestoreError
from tradestore.trading.inputs import MAX_JSON_BYTES, MAX_TEXT_CHARS

from .conftest import PROFILE, REJECTIONS, count_rows, no_sql

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
NON_NEGATIVE_FIELDS = ("quantity", "signal_price", "stop_loss", "take_profit", "risk_amount")
SIGNED_FIELDS = ("sharpe_ratio", "drawdown", "expectancy")
SIGNAL_TEXT_FIELDS = ("symbol", "strategy_name", "reasoning")
EXECUTION_TEXT_FIELDS = ("broker_order_id", "error_message")
# Encodable as UTF-8 (no lone surrogates: not text at all) and no NUL (tested on its own).
_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")


def good_signal(**changes: Any) -> dict[str, Any]:
    signal: dict[str, Any] = {
        "symbol": "AAPL",
        "action": "BUY",
        "strategy_name": "props",
        "quantity": Decimal("3.5"),
        "signal_price": Decimal("187.25"),
        "signal_time": T0,
    }
    signal.update(changes)
    return signal


def fresh_id() -> str:
    return uuid.uuid4().hex


def names_field(error: ValidationError, field: str) -> bool:
    """True when one of the error's entries is located at `field` (its first loc element)."""
    return any(entry["loc"] and entry["loc"][0] == field for entry in error.errors())


def refused_before_sql(
    store: TradeStore, signal: dict[str, Any], execution: dict[str, Any] | None, field: str
) -> None:
    """log_trade must raise ValidationError naming `field`, run no SQL and store nothing."""
    cid = fresh_id()
    before = count_rows(store, "trade_history")
    with no_sql(store), pytest.raises(ValidationError) as info:
        store.log_trade(signal, execution, correlation_id=cid)
    assert names_field(info.value, field), f"{field} not named in {info.value.errors()}"
    assert field in str(info.value)
    assert count_rows(store, "trade_history") == before
    assert store.get_trade(cid) is None


# -- 2. money --------------------------------------------------------------------------


def _scaled(n: st.SearchStrategy[int], e: st.SearchStrategy[int]) -> Any:
    return st.builds(lambda n, e: Decimal(f"{n}E{e}"), n, e)


_SIGN = st.sampled_from([1, -1])
# |x| >= 1e12: 13+ integer digits, with or without places, written plainly or as exponent.
_TOO_BIG = st.one_of(
    st.sampled_from([Decimal(t) for t in ("1E+12", "-1E+12", "1000000000000.00000000", "9E+99")]),
    # n * 10**e with n >= 10**(12 - e): at least 1e12 whatever the exponent drawn.
    st.integers(-8, 4).flatmap(
        lambda e: st.builds(
            lambda s, n: s * Decimal(f"{n}E{e}"), _SIGN, st.integers(10 ** (12 - e), 10 ** (21 - e))
        )
    ),
)
# More than 8 places that are not just trailing zeros (pydantic ignores those: 1.000000000 is
# the value 1 and is accepted).
_TOO_PRECISE = st.one_of(
    st.sampled_from([Decimal(t) for t in ("1E-9", "0.123456789", "999999999999.999999999")]),
    _scaled(st.integers(1, 10**12).filter(lambda n: n % 10 != 0), st.integers(-20, -9)),
)
_NOT_FINITE = st.sampled_from(
    [
        Decimal("NaN"),
        Decimal("-NaN"),
        Decimal("sNaN"),
        Decimal("NaN123"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "-Infinity",
    ]
)
_NEGATIVE = _scaled(st.integers(-(10**12), -1), st.integers(-8, 0))


@st.composite
def bad_money(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(signal, execution, field): a valid trade with exactly one money value made bad."""
    kind = draw(
        st.sampled_from(
            ["too big", "too precise", "not finite", "negative", "confidence > 1", "no quantity"]
        )
    )
    event(kind)
    signal = good_signal(action=draw(st.sampled_from(["BUY", "SELL", "HOLD"])))
    execution: dict[str, Any] = {"executed": True, "fill_price": Decimal("187.30")}
    if kind == "negative":
        field = draw(st.sampled_from((*NON_NEGATIVE_FIELDS, "fill_price", "confidence")))
        value: Any = draw(_NEGATIVE)
    elif kind == "confidence > 1":
        field = "confidence"
        value = draw(_scaled(st.integers(1, 10**8), st.just(-8)).map(lambda d: 1 + d))
    elif kind == "no quantity":
        field, value = "quantity", Decimal(0)
        signal["action"] = draw(st.sampled_from(["BUY", "SELL", "buy", " sell "]))
    else:
        field = draw(
            st.sampled_from((*NON_NEGATIVE_FIELDS, *SIGNED_FIELDS, "confidence", "fill_price"))
        )
        value = draw({"too big": _TOO_BIG, "too precise": _TOO_PRECISE}.get(kind, _NOT_FINITE))
    (execution if field == "fill_price" else signal)[field] = value
    return signal, execution, field


@REJECTIONS
@given(bad=bad_money())
def test_bad_money_is_refused_before_sql(
    store: TradeStore, bad: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    signal, execution, field = bad
    refused_before_sql(store, signal, execution, field)


_SNAPSHOT_BAD = st.one_of(_TOO_BIG, _TOO_PRECISE, _NOT_FINITE)


@REJECTIONS
@given(field=st.sampled_from(["equity", "cash", "buying_power"]), value=_SNAPSHOT_BAD)
def test_bad_money_in_an_equity_snapshot_is_refused_before_sql(
    store: TradeStore, field: str, value: Any
) -> None:
    kwargs: dict[str, Any] = {"equity": Decimal(1000), "ts": T0, field: value}
    before = count_rows(store, "equity_curve")
    with no_sql(store), pytest.raises(ValidationError) as info:
        store.log_equity_snapshot(**kwargs)
    assert names_field(info.value, field), info.value.errors()
    assert count_rows(store, "equity_curve") == before


# -- 3. NUL ----------------------------------------------------------------------------


def with_nul(min_size: int = 0) -> Any:
    """Text holding at least one NUL somewhere (start, middle or end)."""
    return st.builds(
        lambda a, b: a + "\x00" + b,
        st.text(_CHARS, min_size=min_size, max_size=20),
        st.text(_CHARS, max_size=20),
    )


@REJECTIONS
@given(
    field=st.sampled_from((*SIGNAL_TEXT_FIELDS, *EXECUTION_TEXT_FIELDS, "correlation_id")),
    value=with_nul(),
)
def test_nul_in_any_text_field_is_refused_before_sql_on_both_backends(
    store: TradeStore, field: str, value: str
) -> None:
    event(field)
    signal = good_signal()
    execution: dict[str, Any] = {"executed": False}
    cid = fresh_id()
    if field == "correlation_id":
        cid += value
    elif field in SIGNAL_TEXT_FIELDS:
        signal[field] = value
    else:
        execution[field] = value
    before = count_rows(store, "trade_history")
    with no_sql(store), pytest.raises(ValueError, match="NUL") as info:
        store.log_trade(signal, execution, correlation_id=cid)
    if isinstance(info.value, ValidationError):
        assert names_field(info.value, field), info.value.errors()
    else:  # the correlation id is an argument, not a model field: a plain ValueError
        assert str(info.value).startswith(f"{field} "), str(info.value)
    assert count_rows(store, "trade_history") == before


_JSON_LEAF = st.one_of(st.integers(), st.text(_CHARS, max_size=8), st.none())


@st.composite
def json_with_nul(draw: st.DrawFn) -> Any:
    """A JSON document with a NUL in one string: a key or a value, at some depth."""
    poisoned = draw(with_nul())
    if draw(st.booleans()):
        inner: Any = {poisoned: draw(_JSON_LEAF)}
    else:
        inner = [draw(_JSON_LEAF), poisoned]
    for _ in range(draw(st.integers(0, 3))):
        inner = draw(st.sampled_from([[inner], {"k": inner}]))
    return inner


def assert_json_refused_before_sql(store: TradeStore, field: str, value: Any, match: str) -> None:
    """`value` in the JSON `field` of an iteration or audit report is refused, naming the
    field, before any SQL; the table keeps its row count."""
    table = "iteration_log" if field in ("errors", "symbols_processed") else "audit_report_log"
    before = count_rows(store, table)
    with no_sql(store), pytest.raises(ValidationError, match=match) as info:
        if table == "iteration_log":
            store.log_iteration({"iteration_number": 1, field: value})
        else:
            store.log_audit_report({"report_type": "daily", field: value})
    assert names_field(info.value, field), info.value.errors()
    assert count_rows(store, table) == before


@REJECTIONS
@given(
    target=st.sampled_from(["errors", "symbols_processed", "metrics", "recommendations"]),
    doc=json_with_nul(),
    symbol=with_nul(),
)
def test_nul_in_json_is_refused_before_sql_on_both_backends(
    store: TradeStore, target: str, doc: Any, symbol: str
) -> None:
    event(target)
    if target == "metrics":
        doc = {"m": doc}
    elif target == "symbols_processed":
        doc = ["AAPL", symbol]  # a list of symbols: strings only
    else:
        doc = [doc]
    assert_json_refused_before_sql(store, target, doc, match="NUL")


def test_an_escaped_backslash_u0000_is_text_not_nul(store: TradeStore) -> None:
    """The JSON NUL check must not refuse the six characters ``\\u0000`` (no NUL in them)."""
    row = store.log_iteration({"iteration_number": 1, "errors": ["\\u0000", "\\\\u0000"]})
    assert row is not None
    assert row.errors == ["\\u0000", "\\\\u0000"]


# -- 4. wrong types, times, enums, sizes -----------------------------------------------

_NAIVE = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
# Aware, but outside years 1..9999 once converted to UTC.
_OVERFLOWING = st.sampled_from(
    [
        dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
    ]
)
_ACTIONS = {"BUY", "SELL", "HOLD"}
_UNKNOWN_ACTION = st.one_of(
    st.text(_CHARS, max_size=10).filter(lambda s: s.strip().upper() not in _ACTIONS),
    st.sampled_from(["BUYY", "SHORT", "B", "buy!", "LONG", 1, None, True]),
)
_WRONG_TYPES: dict[str, Any] = {
    "symbol": st.sampled_from([123, None, ["AAPL"], {"s": 1}, 1.5, True]),
    "strategy_name": st.sampled_from([0, [], {}, object()]),
    "quantity": st.sampled_from(["abc", "", "1,5", [1], {"q": 1}, "0x10", None, object()]),
    "signal_price": st.sampled_from(["187.25 USD", [187], {"p": 1}, "1e"]),
    "signal_time": st.sampled_from(["yesterday", "2026-13-01T00:00:00Z", [T0], {}, ""]),
    "reasoning": st.sampled_from([42, ["why"], {"why": 1}]),
}


@st.composite
def bad_field(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(signal, execution, field): a valid trade with one bad non-money value."""
    kind = draw(
        st.sampled_from(
            [
                "naive time",
                "overflowing time",
                "wrong type",
                "unknown action",
                "unknown field",
                "text too long",
                "executed not a bool",
            ]
        )
    )
    event(kind)
    signal = good_signal()
    execution: dict[str, Any] = {"executed": True, "execution_time": T0}
    value: Any
    if kind in ("naive time", "overflowing time"):
        field = draw(st.sampled_from(["signal_time", "execution_time"]))
        value = draw(_NAIVE if kind == "naive time" else _OVERFLOWING)
    elif kind == "wrong type":
        field = draw(st.sampled_from(sorted(_WRONG_TYPES)))
        value = draw(_WRONG_TYPES[field])
    elif kind == "unknown action":
        field, value = "action", draw(_UNKNOWN_ACTION)
    elif kind == "unknown field":
        field = draw(st.sampled_from(["quantityy", "price", "side", "Symbol", "metadata"]))
        value = draw(st.one_of(st.integers(), st.text(_CHARS, max_size=5)))
    elif kind == "text too long":
        field = draw(st.sampled_from(["symbol", "strategy_name", "reasoning", "broker_order_id"]))
        limit = MAX_TEXT_CHARS if field == "reasoning" else 200
        chunk = draw(st.text(_CHARS.filter(lambda c: not c.isspace()), min_size=1, max_size=3))
        value = (chunk * (limit + 1))[: limit + draw(st.integers(1, 50))]
    else:
        field = "executed"
        value = draw(st.sampled_from(["maybe", 2, -1, None, [], "filled"]))
    target = execution if field in ("execution_time", "broker_order_id", "executed") else signal
    target[field] = value
    return signal, execution, field


@REJECTIONS
@given(bad=bad_field())
def test_bad_type_time_enum_or_size_is_refused_before_sql(
    store: TradeStore, bad: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    signal, execution, field = bad
    refused_before_sql(store, signal, execution, field)


@REJECTIONS
@given(
    field=st.sampled_from(["errors", "symbols_processed", "metrics", "recommendations"]),
    # Not blank: the text fields strip whitespace, and a stripped symbol would shrink to "".
    chunk=st.text(_CHARS.filter(lambda c: not c.isspace()), min_size=1, max_size=4),
    extra=st.integers(1, 100),
)
def test_json_over_the_limit_is_refused_before_sql(
    store: TradeStore, field: str, chunk: str, extra: int
) -> None:
    # Built here, not drawn, so hypothesis never prints a 64 kB example. Each character is at
    # least one byte of JSON, so this many copies always overflow the limit.
    body = chunk * (MAX_JSON_BYTES // len(chunk) + extra)
    value: Any = {"blob": body} if field == "metrics" else [body]
    assert_json_refused_before_sql(store, field, value, match="bytes as JSON")


def test_json_at_the_limit_is_stored_and_one_byte_more_is_not(store: TradeStore) -> None:
    at_limit = ["a" * (MAX_JSON_BYTES - 4)]  # ["…"] adds 4 bytes
    assert len(json.dumps(at_limit, separators=(",", ":")).encode()) == MAX_JSON_BYTES
    row = store.log_iteration({"iteration_number": 7, "errors": at_limit})
    assert row is not None
    assert row.errors == at_limit
    too_big = "errors is 65537 bytes as JSON, more than the limit of 65536 bytes"
    with no_sql(store), pytest.raises(ValidationError, match=too_big):
        store.log_iteration({"iteration_number": 7, "errors": ["a" * (MAX_JSON_BYTES - 3)]})


# -- 4b. batches: all or nothing -------------------------------------------------------

_GOOD_BATCH = st.lists(
    st.builds(
        good_signal,
        symbol=st.sampled_from(["AAPL", "MSFT", "BTC-USD"]),
        quantity=st.integers(1, 10**6).map(Decimal),
    ),
    max_size=5,
)


@st.composite
def bad_signal(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    if draw(st.booleans()):
        signal, _, field = draw(bad_money())
        if field == "fill_price":  # the batch item here is a bare signal
            signal, field = good_signal(stop_loss=Decimal("NaN")), "stop_loss"
    else:
        signal, _, field = draw(bad_field())
        if field in ("execution_time", "broker_order_id", "executed"):
            signal, field = good_signal(signal_time=dt.datetime(2026, 1, 1)), "signal_time"
    return signal, field


@REJECTIONS
@given(head=_GOOD_BATCH, bad=bad_signal(), tail=_GOOD_BATCH)
def test_one_bad_item_fails_the_whole_batch_before_sql(
    store: TradeStore,
    head: list[dict[str, Any]],
    bad: tuple[dict[str, Any], str],
    tail: list[dict[str, Any]],
) -> None:
    signal, field = bad
    items = [(s, None, fresh_id()) for s in (*head, signal, *tail)]
    before = count_rows(store, "trade_history")
    with no_sql(store), pytest.raises(ValidationError) as info:
        store.log_trades(items)
    assert names_field(info.value, field), info.value.errors()
    assert count_rows(store, "trade_history") == before
    for _, _, cid in items:
        assert store.get_trade(cid) is None


@settings(settings.get_profile(PROFILE), max_examples=examples(25))
@given(head=_GOOD_BATCH, tail=_GOOD_BATCH, within=st.booleans())
def test_a_batch_the_database_refuses_leaves_no_row(
    store: TradeStore, head: list[dict[str, Any]], tail: list[dict[str, Any]], within: bool
) -> None:
    """Valid items, but one correlation id is taken (already stored, or twice in the batch):
    the database refuses the batch (COPY / executemany) and none of it stays."""
    taken = fresh_id()
    if within:
        head = [good_signal(), *head]
        items = [(s, None, fresh_id()) for s in head]
        items[0] = (items[0][0], None, taken)
    else:
        store.log_trade(good_signal(), correlation_id=taken)
        items = [(s, None, fresh_id()) for s in head]
    items += [(good_signal(symbol="DUP"), None, taken)]
    items += [(s, None, fresh_id()) for s in tail]
    before = count_rows(store, "trade_history")
    with pytest.raises(TradestoreError) as info:
        store.log_trades(items)
    assert "copy_trade_records" in str(info.value)
    assert count_rows(store, "trade_history") == before
    for _, _, cid in items:
        if cid != taken:
            assert store.get_trade(cid) is None
    kept = store.get_trade(taken)
    assert (kept is None) if within else (kept is not None and kept.symbol == "AAPL")


# -- 5. DATABASE_URL -------------------------------------------------------------------

# Malformed whatever the (percent-encoded) password: each must raise DatabaseURLError.
_MALFORMED_URLS = [
    "ftp://trader:{pw}@db.example:5432/trading",
    "mysql://trader:{pw}@db.example/trading",
    "trader:{pw}@db.example/trading",
    "postgresql:/trader:{pw}@db.example/trading",
    "postgresql://trader:{pw}@db.example:99999/trading",
    "postgresql://trader:{pw}@db.example:port/trading",
    "postgresql://trader:{pw}@db.example:-1/trading",
    "postgresql://trader:{pw}@db.example:5432:5433/trading",
    "postgresql://trader:{pw}@[::1/trading",
    "postgresql://trader:{pw}@[not-an-ip]/trading",
    "postgresql://trader:{pw}@db.example/trading#replica",
    "sqlite://trader:{pw}@db.example/trading.db",
    # A raw '@' in the user name: the password still starts after the first ':'.
    "postgresql://bot@desk:{pw}@db.example:port/trading",
    "postgresql://bot@desk:{pw}@db.example/trading#replica",
]
# Accepted by the kit (libpq reads an empty host as the local socket): must not show it either.
_ODD_BUT_VALID = [
    "postgresql://trader:{pw}@:5432/trading",
    "postgresql://trader:{pw}@/trading",
]
_PASSWORD_PIECES = re.compile(r"[/?#@\[\]\s]")


def _shown(url: str) -> str:
    """Everything the kit shows of `url`: the error's str and repr, or the parsed URL's."""
    try:
        parsed = parse_url(url)
    except DatabaseURLError as exc:
        return f"{exc}\n{exc!r}"
    return f"{parsed}\n{parsed!r}"


def _leaks(template: str, password: str, shown: str) -> list[str]:
    """Pieces of the password (whole, percent-encoded, or split where a URL parser splits it)
    of 4+ characters that are in `shown`, leaving out any piece that is in the rest of the URL
    or in what the kit shows for the same URL with a harmless password (no false hits)."""
    rest = template.replace("{pw}", "") + _shown(template.format(pw="x"))
    pieces = {password, quote(password, safe=""), *_PASSWORD_PIECES.split(password)}
    return sorted(p for p in pieces if len(p) >= 4 and p not in rest and p in shown)


def check_url(template: str, password: str, *, encoded: bool) -> None:
    url = template.format(pw=quote(password, safe="") if encoded else password)
    try:
        parse_url(url)
    except DatabaseURLError:
        event("refused")
    else:
        event("parsed")
        # Only a raw password can turn a malformed template into a parseable one (e.g. a '/'
        # in it ends the host early); an encoded one leaves the template as malformed.
        assert template in _ODD_BUT_VALID or not encoded, f"{url!r} was accepted"
    shown = _shown(url)
    leaked = _leaks(template, password, shown)
    assert not leaked, f"password pieces {leaked} shown in {shown}"


_NO_BLANK = st.characters(codec="utf-8").filter(lambda c: not c.isspace())


@settings(settings.get_profile(PROFILE), max_examples=examples(300))
@given(
    template=st.sampled_from(_MALFORMED_URLS + _ODD_BUT_VALID),
    password=st.text(_NO_BLANK, min_size=4, max_size=24),
    encoded=st.booleans(),
)
def test_a_bad_database_url_never_shows_its_password(
    template: str, password: str, encoded: bool
) -> None:
    """Encoded is how a correct URL carries a password; raw is how people paste one (with
    '@', '/', '#', '?', ':' or quotes in it). Blanks: see the tests below."""
    assume(password not in template)
    event("encoded" if encoded else "raw")
    check_url(template, password, encoded=encoded)


@settings(settings.get_profile(PROFILE), max_examples=examples(50))
@given(
    template=st.sampled_from(_MALFORMED_URLS + _ODD_BUT_VALID),
    head=st.text(_NO_BLANK, min_size=4, max_size=10),
    blank=st.sampled_from(
        [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u3000"]
    ),
    tail=st.text(_NO_BLANK, max_size=10),
)
def test_a_raw_password_with_a_blank_is_not_shown(
    template: str, head: str, blank: str, tail: str
) -> None:
    password = head + blank + tail
    assume(head not in template)
    check_url(template, password, encoded=False)


@pytest.mark.parametrize("scheme", ["postgres ", "postgresql\t", "sqlite "])
def test_a_password_behind_a_mistyped_scheme_is_not_shown(scheme: str) -> None:
    with pytest.raises(DatabaseURLError) as info:
        parse_url(f"{scheme}://trader:s3cr3t-Pw@db.example/trading")
    assert "s3cr3t-Pw" not in f"{info.value}{info.value!r}"


# -- 6. named SQL files ----------------------------------------------------------------

_SQL_LINES = st.sampled_from(
    [
        "-- name: q :one",
        "-- name: q :many TradeHistoryRecord",
        "-- name: q :scalar",
        "-- name: r :exec",
        "-- name: r :execrows",
        "-- name: c :copyfrom",
        "-- name: q :lots",
        "-- name: 9q :one",
        "-- name: _q :one",
        "-- name: q :one NoSuchModel",
        "-- name: q :exec TradeHistoryRecord",
        "-- name:",
        "-- name q :one",
        "-- a doc comment",
        "SELECT 1;",
        "SELECT :a, :b;",
        "SELECT :a::int;",
        "SELECT 1",
        "SELECT 1; SELECT 2;",
        "INSERT INTO t (a, b) VALUES (:a, :b);",
        "INSERT INTO t (a) VALUES (now());",
        "UPDATE t SET a = :a;",
        "'unterminated",
        "/* open comment",
        "$$ open body",
        ";",
        "",
        "   ",
        # Characters str.splitlines() would take for line ends (an editor does not).
        "\x0c",
        "-- page\x0cbreak",
        "SELECT 1;\u2028",
        "\x85",
    ]
)
_GARBAGE = st.lists(st.one_of(_SQL_LINES, st.text(max_size=30)), max_size=12)


@settings(settings.get_profile(PROFILE), max_examples=examples(200))
@given(portable=_GARBAGE, override=st.none() | _GARBAGE)
def test_any_sql_folder_loads_or_raises_sql_file_error_naming_file_and_line(
    portable: list[str], override: list[str] | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = [folder / "garbage.sql"]
        files[0].write_text("\n".join(portable), encoding="utf-8")
        if override is not None:
            # A dialect file may override a portable block only with the same signature
            # (cardinality, model, parameters): a different one must be refused too.
            (folder / "postgresql").mkdir()
            files.append(folder / "postgresql" / "garbage.sql")
            files[1].write_text("\n".join(override), encoding="utf-8")
        error: SqlFileError | None = None
        try:
            queries = load_queries(folder, echo=False, slow_query_ms=1e9)
        except SqlFileError as exc:  # any other exception type fails the test
            error = exc
        if error is None:
            event("loaded")
            assert all(q.name.isidentifier() for q in queries)
            return
        event("SqlFileError")
        match = re.match(r"(.+?):(\d+): ", str(error))
        assert match, f"no file:line in {error}"
        assert match[1] in {str(f) for f in files}, str(error)
        # The line exists as an editor counts lines (only '\n' ends one), and it is the line
        # at fault: SQL outside any block, else the '-- name:' line of the block at fault.
        lines = Path(match[1]).read_text(encoding="utf-8").split("\n")
        number = int(match[2])
        assert 1 <= number <= len(lines), f"line {number} of {len(lines)}: {error}"
        line = lines[number - 1].strip()
        if "SQL outside" in str(error):
            assert line, str(error)
            assert not line.startswith("--"), str(error)
        else:
            assert re.match(r"--\s*name\s*:", line), f"{error}; line {number} is {line!r}"


def test_a_query_called_with_an_unknown_parameter_is_refused_before_sql(
    store: TradeStore,
) -> None:
    query: Any = store.queries.get_trade_record  # Any: the typed stub refuses these calls
    with no_sql(store), pytest.raises(QueryError, match=r"unexpected parameter bogus") as info:
        query(store.pool, correlation_id="x", bogus=1)
    assert re.search(r"trade_history\.sql:\d+", str(info.value)), str(info.value)
    with no_sql(store), pytest.raises(QueryError, match=r"missing parameter correlation_id"):
        query(store.pool)

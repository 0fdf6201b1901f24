"""A script (not a test module): what plain sqlite3 and psycopg connections do, before and after
the kit is imported and used in the same process.

    python isolation_probe.py KIT_URL [PLAIN_PG_CONNINFO SCHEMA]

Prints JSON ``{"before": ..., "after": ...}``: the fingerprint taken before ``import
tradestore``, then again after the kit ran on KIT_URL everything that sends or loads values:
migrate/rollback/status, a store's writes (named queries and :copyfrom), reads, ad hoc
``Connection.execute`` with parameters, and on PostgreSQL an enum array through a pool. The
test (tests/test_isolation.py) asserts the two are equal. A fresh interpreter is the point: in
the test process the kit is imported long before any test runs.
"""

from __future__ import annotations

import _sqlite3
import datetime as dt
import json
import sqlite3
import sys
from decimal import Decimal
from typing import Any

NY = dt.timezone(dt.timedelta(hours=-5))
SAMPLES: dict[str, Any] = {
    "naive datetime": dt.datetime(2026, 1, 2, 3, 4, 5),
    "aware datetime": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=NY),
    "date": dt.date(2026, 1, 2),
    "Decimal": Decimal("1E+2"),
    "dict": {"a": 1},
    "list": [1, 2],
}


def _outcome(run: Any) -> str:
    try:
        return repr(run())
    except Exception as exc:  # noqa: BLE001  (the outcome IS the exception, whatever it is)
        return f"{type(exc).__name__}: {exc}"


def _name(thing: Any) -> str:
    return f"{getattr(thing, '__module__', '?')}.{getattr(thing, '__qualname__', repr(thing))}"


def sqlite_fingerprint() -> dict[str, Any]:
    """sqlite3's registries and what a plain connection does with the kit's kinds of values."""
    found: dict[str, Any] = {
        "adapters": sorted(f"{_name(k[0])} -> {_name(v)}" for k, v in _sqlite3.adapters.items()),
        "converters": sorted(f"{k} -> {_name(v)}" for k, v in _sqlite3.converters.items()),
        "names bound to the registries": (
            sqlite3.adapters is _sqlite3.adapters and sqlite3.converters is _sqlite3.converters
        ),
    }
    plain = sqlite3.connect(":memory:")
    for label, value in SAMPLES.items():
        found[f"store {label}"] = _outcome(
            lambda value=value: plain.execute("SELECT ?", (value,)).fetchone()[0]
        )
    plain.close()
    typed = sqlite3.connect(":memory:", detect_types=sqlite3.PARSE_DECLTYPES)
    typed.execute("CREATE TABLE t (ts timestamp, d date)")
    typed.execute("INSERT INTO t VALUES ('2026-01-02 03:04:05', '2026-01-02')")
    found["read timestamp, date"] = _outcome(
        lambda: typed.execute("SELECT ts, d FROM t").fetchone()
    )
    typed.close()
    return found


def pg_fingerprint(conninfo: str, schema: str) -> dict[str, Any]:
    """What a plain psycopg connection does with an enum array and a dict."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(conninfo, autocommit=True, options=f"-c search_path={schema}") as plain:
        return {
            "enum array": _outcome(
                lambda: plain.execute("SELECT ARRAY['a', 'b']::probe_mood[]").fetchone()
            ),
            "dict parameter": _outcome(lambda: plain.execute("SELECT %s", ({"a": 1},)).fetchone()),
        }


def fingerprint(pg: tuple[str, str] | None) -> dict[str, Any]:
    return {"sqlite3": sqlite_fingerprint(), "psycopg": pg_fingerprint(*pg) if pg else None}


def use_the_kit(url: str) -> None:
    """Everything of the kit that sends values to a driver or loads them back."""
    from tradestore import TradeStore, migrate, migration_status, rollback  # noqa: PLC0415

    migrate(url)
    rollback(url)
    migrate(url)
    migration_status(url)
    at = dt.datetime(2026, 3, 2, 14, 30, tzinfo=NY)
    signal = {
        "symbol": "AAPL",
        "action": "BUY",
        "strategy_name": "probe",
        "quantity": Decimal("1.5"),
        "signal_price": Decimal("187.12345678"),
        "signal_time": at,
    }
    with TradeStore(url, min_size=1, max_size=2) as store:
        store.log_trade(signal, {"executed": True, "fill_price": Decimal("187.2")})
        store.log_trades([signal, signal])
        store.log_equity_snapshot(Decimal("1000.5"), ts=at)
        store.get_trade_history(symbol="AAPL")
        with store.pool.connection() as conn:
            if conn.dialect == "sqlite":
                conn.execute("SELECT ?, ?, ?, ?", (Decimal("2.5"), at, {"k": [1]}, [1, 2]))
            else:
                conn.execute("SELECT %s, %s, %s", (Decimal("2.5"), at, {"k": [1]})).fetchall()
                conn.execute("SELECT ARRAY['a', 'b']::probe_mood[]").fetchall()


def main() -> None:
    url = sys.argv[1]
    pg = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else None
    if pg is not None:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(pg[0], autocommit=True, options=f"-c search_path={pg[1]}") as admin:
            admin.execute("CREATE TYPE probe_mood AS ENUM ('a', 'b')")
    before = fingerprint(pg)
    use_the_kit(url)
    print(json.dumps({"before": before, "after": fingerprint(pg)}))


if __name__ == "__main__":
    main()

"""How should the query layer build Pydantic rows, and what does a kit call cost over raw?

Run: ``.venv/bin/python benchmarks/row_building.py [postgresql-url]`` (default
TEST_DATABASE_URL, else DATABASE_URL when postgres). Prints microseconds per call (best of
several repeats) and ratios; nothing here asserts on time.

1. Row building on 1,000 rows already fetched: model_validate, __init__, model_construct,
   TypeAdapter(list[Model]), the model's pydantic-core validator, per backend (SQLite hands
   back text for Decimal/datetime/JSON, so only validating builders give correct types there).
2. psycopg row factories (tuple rows + zip, dict_row, class_row) for the fetch itself.
3. A :one point select through the kit vs raw psycopg with tuple rows and a hand-built model,
   same SQL, same connection, same run; with and without prepared statements.
4. A 1,000-row :many through the kit vs the obvious per-row model_validate loop.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg.rows import class_row, dict_row
from pydantic import BaseModel, TypeAdapter

from tradestore import Pool
from tradestore.queries.fields import JsonObject, Money, UtcDatetime
from tradestore.trading.queries import load_queries

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "sql_fixtures"
T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
ROWS = 1000
SELECT_ONE = "SELECT id, symbol, qty, price, ts, is_buy, meta FROM fills WHERE id = %s"
SELECT_MANY = "SELECT id, symbol, qty, price, ts, is_buy, meta FROM fills ORDER BY id LIMIT 1000"


class Fill(BaseModel):
    id: int
    symbol: str
    qty: Money
    price: Money
    ts: UtcDatetime
    is_buy: bool
    meta: JsonObject


def best_us(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Best-of-`repeat` mean microseconds per call of `fn`."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def pair_us(
    first: Callable[[], object], second: Callable[[], object], number: int, rounds: int = 9
) -> tuple[float, float]:
    """Interleaved best-of-`rounds` for two callables, so load from neighbours hits both alike."""
    first()
    second()
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, fn in enumerate((first, second)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - start) / number)
    return best[0] * 1e6, best[1] * 1e6


def seed(pool: Pool) -> None:
    ddl = (FIXTURES / "schema" / f"{pool.dialect}.sql").read_text()
    with pool.connection() as conn:
        if pool.dialect == "sqlite":
            conn.raw.executescript(ddl)
        else:
            conn.raw.execute(ddl)
    q = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    rows = [
        {
            "symbol": f"S{i % 50}",
            "qty": Decimal("1.25"),
            "price": Decimal("187.12345678"),
            "ts": T0 + dt.timedelta(seconds=i),
            "is_buy": i % 2 == 0,
            "meta": {"i": i},
        }
        for i in range(ROWS)
    ]
    q.load_fills(pool, rows)


def builders(pool: Pool) -> None:
    with pool.connection() as conn:
        cur = conn.raw.execute(SELECT_MANY.replace("%s", "?"))
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
    dicts = [dict(zip(names, r, strict=True)) for r in rows]
    adapter = TypeAdapter(list[Fill])
    validate = Fill.__pydantic_validator__.validate_python
    ok = Fill.model_validate(dicts[0])
    constructed = Fill.model_construct(**dicts[0])
    print(f"\n[{pool.dialect}] building {ROWS} rows (us per 1,000 rows; fetch excluded)")
    print(f"  model_construct gives correct types: {constructed == ok}")
    cases: dict[str, Callable[[], object]] = {
        "model_validate(dict(zip))": lambda: [
            Fill.model_validate(dict(zip(names, r, strict=True))) for r in rows
        ],
        "Fill(**dict(zip))": lambda: [Fill(**dict(zip(names, r, strict=True))) for r in rows],
        "model_construct(**dict(zip))": lambda: [
            Fill.model_construct(**dict(zip(names, r, strict=True))) for r in rows
        ],
        "TypeAdapter(list[Fill]) on dicts": lambda: adapter.validate_python(
            [dict(zip(names, r, strict=True)) for r in rows]
        ),
        "validator.validate_python(dict(zip))": lambda: [
            validate(dict(zip(names, r, strict=True))) for r in rows
        ],
        "dict(zip) only": lambda: [dict(zip(names, r, strict=True)) for r in rows],
        "validate_python(dict) prebuilt dicts": lambda: [validate(d) for d in dicts],
    }
    for label, fn in cases.items():
        print(f"  {label:40s} {best_us(fn, 20):9.0f}")


def pg_factories(pool: Pool) -> None:
    print(f"\n[postgresql] fetch {ROWS} rows + build (us per query)")
    with pool.connection() as conn:
        raw = conn.raw
        validate = Fill.__pydantic_validator__.validate_python

        def tuples_zip() -> object:
            cur = raw.execute(SELECT_MANY)
            rows = cur.fetchall()
            names = [c.name for c in cur.description]
            return [validate(dict(zip(names, r, strict=True))) for r in rows]

        def dict_rows() -> object:
            cur = raw.cursor(row_factory=dict_row)
            return [validate(r) for r in cur.execute(SELECT_MANY).fetchall()]

        def class_rows() -> object:
            cur = raw.cursor(row_factory=class_row(Fill))
            return cur.execute(SELECT_MANY).fetchall()

        def tuples_only() -> object:
            return raw.execute(SELECT_MANY).fetchall()

        for label, fn in {
            "fetch only (tuple rows)": tuples_only,
            "tuple rows + zip + validator": tuples_zip,
            "dict_row + validator": dict_rows,
            "class_row(Fill)": class_rows,
        }.items():
            print(f"  {label:40s} {best_us(fn, 20):9.0f}")


def kit_vs_raw(pool: Pool) -> None:
    q = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    postgres = pool.dialect == "postgresql"
    one_sql = SELECT_ONE if postgres else SELECT_ONE.replace("%s", "?")
    many_sql = SELECT_MANY
    print(f"\n[{pool.dialect}] kit vs raw driver, same SQL, same connection (us per call)")
    with pool.connection() as conn:
        raw = conn.raw

        def raw_one(prepare: bool | None = None) -> object:
            cur = (
                raw.execute(one_sql, (7,), prepare=prepare)
                if postgres
                else raw.execute(one_sql, (7,))
            )
            row = cur.fetchone()
            names = [c[0] for c in cur.description]
            return Fill(**dict(zip(names, row, strict=True)))

        def raw_many() -> object:
            cur = raw.execute(many_sql)
            names = [c[0] for c in cur.description]
            return [Fill.model_validate(dict(zip(names, r, strict=True))) for r in cur.fetchall()]

        assert q.get_fill(conn, id=7) == raw_one()
        n = 1000
        raw_us, kit_us = pair_us(raw_one, lambda: q.get_fill(conn, id=7), n)
        print(f"  :one raw (tuple rows + Fill(**dict))      {raw_us:8.1f}")
        ratio = kit_us / raw_us
        print(f"  :one kit (Connection)                     {kit_us:8.1f}  ratio {ratio:.3f}")
        if postgres:
            prep_us = best_us(lambda: raw_one(prepare=True), n)
            noprep_us = best_us(lambda: raw_one(prepare=False), n)
            print(f"  :one raw prepare=True                     {prep_us:8.1f}")
            print(f"  :one raw prepare=False (never prepared)   {noprep_us:8.1f}")
        many_raw, many_kit = pair_us(raw_many, lambda: q.fills_for(conn, symbol=None), 20)
        print(f"  :many 1000 raw model_validate loop        {many_raw:8.0f}")
        print(
            f"  :many 1000 kit (Connection)               {many_kit:8.0f}  "
            f"ratio {many_kit / many_raw:.3f}"
        )
    if postgres:
        # The obvious loop on a plain psycopg connection (stock json.loads for jsonb).
        with (
            psycopg.connect(
                pool.url.conninfo(), autocommit=True, options=f"-c search_path={pool.url.schema}"
            ) as plain,
            pool.connection() as conn,
        ):

            def plain_many() -> object:
                cur = plain.execute(many_sql)
                names = [c.name for c in cur.description or ()]
                return [
                    Fill.model_validate(dict(zip(names, r, strict=True))) for r in cur.fetchall()
                ]

            plain_us, kit_many = pair_us(plain_many, lambda: q.fills_for(conn, symbol=None), 20)
        print(f"  :many 1000 plain psycopg conn, loop       {plain_us:8.0f}")
        print(
            f"  :many 1000 kit (Connection)               {kit_many:8.0f}  "
            f"ratio {kit_many / plain_us:.3f}"
        )
    pool_us = best_us(lambda: q.get_fill(pool, id=7), 3000)
    print(
        f"  :one kit (Pool: checkout + metrics)       {pool_us:8.1f}  ratio {pool_us / raw_us:.3f}"
    )


def run(url: str) -> None:
    with Pool(url, min_size=1, max_size=2) as pool:
        seed(pool)
        if pool.dialect == "sqlite":
            builders(pool)
        else:
            pg_factories(pool)
        kit_vs_raw(pool)


def main(argv: list[str]) -> None:
    pg_url = argv[1] if len(argv) > 1 else os.environ.get("TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db")
    if not pg_url:
        print("\n(no PostgreSQL URL: pass one or set TEST_DATABASE_URL)")
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            run(pg_url + ("&" if "?" in pg_url else "?") + f"schema={schema}")
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main(sys.argv)

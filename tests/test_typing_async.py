"""`mypy --strict` sees the async face as it sees the sync one: a user's script that awaits the
built-in queries, or the queries of their own folder through a generated Protocol, passes; a
missing ``await``, an ``await`` on the sync face, a wrong parameter type, a wrong row attribute
or ``for`` over an async stream fails.

Each test writes a user's scripts to a folder and runs mypy once over all of them, as a user
would: the installed package, none of our configuration (an empty ``[mypy]`` file) and
``--strict``. A line that must fail ends with ``# E: code``: mypy must report exactly those
(file, line, code) and nothing else. The scripts that pass are bots, and they run too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from test_cli_own_tables import ok, tradestore, write_project

_MARKER = re.compile(r"#\s*E:\s*(?P<code>[\w-]+)\s*$")
_ERROR = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")

Finding = tuple[str, int, str]  # (file, line, error code)


@dataclass(frozen=True)
class Checked:
    """What one mypy run over a folder found, and its whole output (for failure messages)."""

    errors: frozenset[Finding]
    output: str

    def of(self, file: str) -> set[Finding]:
        return {error for error in self.errors if error[0] == file}


def expected_errors(path: Path) -> set[Finding]:
    """The ``# E: code`` markers of a script."""
    return {
        (path.name, number, match["code"])
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if (match := _MARKER.search(line))
    }


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module's runs: the kit, pydantic and psycopg are analysed once."""
    return tmp_path_factory.mktemp("mypy_cache")


def run_mypy(folder: Path, files: list[str], cache: Path) -> Checked:
    config = folder / "mypy.ini"
    config.write_text("[mypy]\n")  # none of the project's settings (pyproject.toml's)
    command = [sys.executable, "-m", "mypy", "--strict", "--config-file", str(config)]
    command += ["--cache-dir", str(cache), *files]
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    errors = {
        (m["file"], int(m["line"]), m["code"])
        for line in done.stdout.splitlines()
        if (m := _ERROR.match(line))
    }
    return Checked(frozenset(errors), done.stdout)


def write(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(textwrap.dedent(text))
    return name


def run_bot(folder: Path, script: str, database_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))}
    done = subprocess.run(
        [sys.executable, script],
        cwd=folder,
        env={**env, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- the built-in typed surface: `load_queries()` is a BuiltinQueries ---------------------

BUILTIN_BOT = '''\
    """An async bot on the built-in queries, with the sync face beside it."""

    import asyncio
    import datetime as dt
    import os
    from decimal import Decimal

    import tradestore
    from tradestore.trading.models import Account, TradeHistoryRecord

    NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


    async def main(url: str) -> Account:
        q = tradestore.load_queries()
        async with tradestore.AsyncPool(url) as pool:
            account = await q.insert_account(
                pool,
                name="main",
                account_type="cash",
                base_currency="USD",
                cash_balance=Decimal("1000"),
                total_equity=Decimal("1000"),
                buying_power=Decimal("1000"),
                maintenance_margin=Decimal("0"),
                risk_parameters={},
                is_active=True,
                metadata={},
            )
            assert account is not None
            record = {
                "correlation_id": "c-1", "symbol": "AAPL", "action": "BUY",
                "strategy_name": "s", "quantity": Decimal("2"), "signal_price": None,
                "fill_price": None, "stop_loss": None, "take_profit": None,
                "risk_amount": None, "confidence": None, "signal_time": NOW,
                "execution_time": None, "broker_order_id": None, "executed": False,
                "error_message": None, "sharpe_ratio": None, "drawdown": None,
                "expectancy": None, "reasoning": None,
            }
            async with pool.transaction() as tx:
                copied: int = await q.copy_trade_records(tx, [record])
                history: list[TradeHistoryRecord] = await q.trade_history(
                    tx, symbol="AAPL", executed=None, start_date=None, end_date=None, limit=5
                )
                again: Account | None = await q.get_account(tx, id=account.id)
            old: int | None = await q.retention_count_audit_logs(pool, older_than=NOW)
            gone: int = await q.retention_delete_audit_logs(pool, keys=[])
        print(copied, [f"{h.quantity:.2f}" for h in history], again == account, old, gone)
        return account


    url = os.environ["DATABASE_URL"]
    tradestore.migrate(url)
    account = asyncio.run(main(url))
    with tradestore.connect(url) as pool:
        same: Account | None = tradestore.load_queries().get_account(pool, id=account.id)
        print(same == account)
    '''

BUILTIN_MISUSE = """\
    import datetime as dt

    import tradestore


    async def misuse(pool: tradestore.AsyncPool, sync_pool: tradestore.Pool) -> None:
        q = tradestore.load_queries()
        rows = q.trade_history(
            pool, symbol="AAPL", executed=None, start_date=None, end_date=None, limit=5
        )
        print(rows[0].symbol)  # E: index
        q.retention_delete_audit_logs(pool, keys=[1, 2])  # E: unused-coroutine
        order = await q.get_order(sync_pool, id=1)  # E: misc
        await q.get_order(pool, id="1")  # E: call-overload
        account = await q.get_account(pool, id=1)
        if account is not None:
            print(account.balance)  # E: attr-defined
        print((await q.get_account(pool, id=1)).name)  # E: union-attr
        async with pool.transaction() as tx:
            await q.retention_count_audit_logs(tx, older_than=dt.date.today())  # E: call-overload
            now = dt.datetime.now(dt.UTC)
            count: str = await q.retention_count_audit_logs(tx, older_than=now)  # E: assignment
        print(order, count)
    """


@pytest.fixture(scope="module")
def builtin_checked(tmp_path_factory: pytest.TempPathFactory, mypy_cache: Path) -> Checked:
    folder = tmp_path_factory.mktemp("builtin")
    files = [write(folder, "bot.py", BUILTIN_BOT), write(folder, "misuse.py", BUILTIN_MISUSE)]
    return run_mypy(folder, files, mypy_cache)


def test_an_async_bot_on_the_builtin_queries_type_checks_and_runs(
    builtin_checked: Checked, tmp_path: Path, db_url: str
) -> None:
    assert builtin_checked.of("bot.py") == set(), builtin_checked.output
    write(tmp_path, "bot.py", BUILTIN_BOT)
    assert run_bot(tmp_path, "bot.py", db_url) == "1 ['2.00'] True 0 0\nTrue\n"


def test_async_misuse_of_the_builtin_queries_fails_type_checking(
    builtin_checked: Checked, tmp_path: Path
) -> None:
    expected = expected_errors(Path(tmp_path / write(tmp_path, "misuse.py", BUILTIN_MISUSE)))
    assert len(expected) == 8
    assert builtin_checked.of("misuse.py") == expected, builtin_checked.output


# -- a user's own SQL folder, typed by `tradestore stubs` -------------------------------------

STREAMS_SQL = """\
-- name: stream_watched :iter WatchItem
-- Every watched symbol, streamed.
SELECT symbol, trigger_price
FROM watchlist
ORDER BY symbol;

-- name: watch_all :batchexec
-- Add several symbols at once.
INSERT INTO watchlist (symbol, trigger_price)
VALUES (:symbol, :trigger_price);

-- name: load_watchlist :copyfrom
-- Bulk-load symbols.
INSERT INTO watchlist (symbol, trigger_price)
VALUES (:symbol, :trigger_price);
"""

OWN_BOT = '''\
    """A bot's async use of its own SQL folder, typed through the generated Protocol."""

    import asyncio
    import contextlib
    import os
    from decimal import Decimal
    from typing import cast

    import my_models
    import tradestore
    from my_queries import WatchAllParams, WatchQueries
    from tradestore.queries.loader import load_queries


    async def main() -> None:
        q = cast(WatchQueries, load_queries("my_sql", models=my_models))
        async with tradestore.AsyncPool(os.environ["DATABASE_URL"]) as db:
            await q.watch(db, symbol="AAPL", trigger_price=Decimal("187.25"))
            items: list[WatchAllParams] = [{"symbol": "MSFT", "trigger_price": Decimal("410.1")}]
            added: int = await q.watch_all(db, items)
            loaded = await q.load_watchlist(db, [{"symbol": "IBM", "trigger_price": Decimal(1)}])
            async with db.transaction() as tx:
                watched: list[my_models.WatchItem] = await q.watched(tx)
                async for item in q.stream_watched(tx):
                    print(item.symbol, f"{item.trigger_price:.2f}")
            async with contextlib.aclosing(q.stream_watched(db)) as rows:
                first = await anext(rows)
            print(added, loaded, [w.symbol for w in watched], first.symbol)


    asyncio.run(main())
    '''

OWN_MISUSE = """\
    from decimal import Decimal
    from typing import cast

    import my_models
    import tradestore
    from my_queries import WatchQueries
    from tradestore.queries.loader import load_queries


    async def misuse(db: tradestore.AsyncPool, sync_db: tradestore.Pool) -> None:
        q = cast(WatchQueries, load_queries("my_sql", models=my_models))
        for item in q.stream_watched(db):  # E: attr-defined
            print(item)
        async for row in q.stream_watched(sync_db):  # E: attr-defined
            print(row)
        await q.stream_watched(db)  # E: misc
        await q.watch(db, symbol="AAPL", trigger_price="187.25")  # E: call-overload
        watched = q.watched(db)
        watched.sort()  # E: attr-defined
        q.watch_all(db, [{"symbol": "X", "trigger_price": Decimal(1)}])  # E: unused-coroutine
        await q.watch_all(db, [{"symbol": "X"}])  # E: list-item
        print((await q.watched(db))[0].price)  # E: attr-defined
        async for each in q.stream_watched(db):
            print(each.price)  # E: attr-defined
    """


@dataclass(frozen=True)
class OwnProject:
    folder: Path
    checked: Checked


@pytest.fixture(scope="module")
def own_project(
    tmp_path_factory: pytest.TempPathFactory, postgres_base_url: str, mypy_cache: Path
) -> OwnProject:
    """The watchlist project of test_cli_own_tables.py, plus an :iter, a batch and a COPY;
    its stubs from `tradestore stubs --scratch` (parameter types need PostgreSQL)."""
    folder = write_project(tmp_path_factory.mktemp("own"))
    (folder / "my_sql" / "streams.sql").write_text(STREAMS_SQL)
    args = ["stubs", "my_sql", "--models", "my_models", "--class-name", "WatchQueries"]
    args += ["--migrations", "migrations", "--scratch", "-o", "my_queries.py"]
    ok(tradestore(folder, *args, env={"TEST_DATABASE_URL": postgres_base_url}))
    files = [write(folder, "bot.py", OWN_BOT), write(folder, "misuse.py", OWN_MISUSE)]
    files += ["my_queries.py", "my_models.py"]
    return OwnProject(folder, run_mypy(folder, files, mypy_cache))


@pytest.mark.postgres
def test_an_async_bot_on_its_own_folder_type_checks_and_runs(
    own_project: OwnProject, db_url: str
) -> None:
    checked = own_project.checked
    assert checked.of("bot.py") | checked.of("my_queries.py") == set(), checked.output
    migrate = ["migrate", "--migrations", "migrations"]
    ok(tradestore(own_project.folder, *migrate, env={"DATABASE_URL": db_url}))
    printed = run_bot(own_project.folder, "bot.py", db_url)
    assert printed.splitlines() == [
        "AAPL 187.25",
        "IBM 1.00",
        "MSFT 410.10",
        "1 1 ['AAPL', 'IBM', 'MSFT'] AAPL",
    ]


@pytest.mark.postgres
def test_async_misuse_of_its_own_folder_fails_type_checking(own_project: OwnProject) -> None:
    expected = expected_errors(own_project.folder / "misuse.py")
    assert len(expected) == 9
    assert own_project.checked.of("misuse.py") == expected, own_project.checked.output

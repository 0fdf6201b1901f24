"""The README's first command: the demo bot runs on both backends and leaves what it printed;
its async face (`make demo-async`) too."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tradestore import Pool
from tradestore.trading import demo_async
from tradestore.trading.demo import main

ITERATIONS = 150


def count(pool: Pool, table: str) -> int:
    queries = {
        "equity_curve": "SELECT COUNT(*) FROM equity_curve",
        "iteration_log": "SELECT COUNT(*) FROM iteration_log",
        "trade_history": "SELECT COUNT(*) FROM trade_history",
        "filled_orders": "SELECT COUNT(*) FROM orders WHERE status = 'filled'",
        "trades": "SELECT COUNT(*) FROM trades",
        "breaches": "SELECT COUNT(*) FROM audit_logs WHERE action = 'risk_limit_breached'",
        "reports": "SELECT COUNT(*) FROM audit_report_log",
    }
    with pool.connection() as conn:
        value: int = conn.execute(queries[table]).fetchone()[0]
    return value


def test_demo_runs_and_persists_what_it_prints(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["--iterations", str(ITERATIONS)]) == 0
    out = capsys.readouterr().out
    assert "migrations applied: 0001_bot_run_records" in out
    assert "Trade history (newest 10):" in out
    assert f"Equity curve of this run: {ITERATIONS} points" in out
    assert "order_submitted" in out
    assert out.count("order_filled") == 2  # the order shown was filled in two parts
    assert "health healthy" in out
    with Pool(db_url, min_size=0, max_size=1) as pool:
        assert count(pool, "equity_curve") == ITERATIONS
        assert count(pool, "iteration_log") == ITERATIONS
        signals = count(pool, "trade_history")
        assert signals >= 4
        # Every BUY and SELL signal went through an order filled in full.
        assert count(pool, "filled_orders") == signals
        assert count(pool, "trades") >= signals
        assert count(pool, "breaches") >= 1
        assert count(pool, "reports") == 1


def test_demo_rerun_extends_the_same_database(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["--iterations", "40"]) == 0
    assert main(["--iterations", "40"]) == 0
    out = capsys.readouterr().out
    assert "migrations applied: none (up to date)" in out
    assert out.count("Equity curve of this run: 40 points") == 2


@pytest.mark.parametrize("module", ["tradestore.trading.demo", "tradestore.trading.demo_async"])
def test_demo_module_entry_point(tmp_path: Path, module: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"}
    done = subprocess.run(
        [sys.executable, "-m", module, "--iterations", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "simulated 30 iterations over 3 symbols" in done.stdout
    assert ("event loop: " in done.stdout) is module.endswith("_async")


def test_async_demo_runs_the_same_bot_and_never_blocks_its_loop(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert asyncio.run(demo_async.main(["--iterations", str(ITERATIONS)])) == 0
    out = capsys.readouterr().out
    assert "migrations applied: 0001_bot_run_records" in out
    assert f"Equity curve of this run: {ITERATIONS} points" in out
    assert out.count("order_filled") == 2
    assert "health healthy" in out
    gap = re.search(r"event loop: (\d+) heartbeats, longest gap ([\d.]+) ms", out)
    assert gap is not None, out
    assert int(gap[1]) > 0
    assert float(gap[2]) < 1000  # a sanity bound: tests/test_store_async.py holds the strict one
    with Pool(db_url, min_size=0, max_size=1) as pool:
        assert count(pool, "equity_curve") == ITERATIONS
        assert count(pool, "filled_orders") == count(pool, "trade_history") >= 4

"""`make bench` works: the harness runs every workload at tiny sizes and reports every contender.

Speed is never asserted here (timings on a shared machine prove nothing); the test proves that
every contender passed its correctness check, every workload has its baseline, the JSON is
written, and the bench's PostgreSQL schema is gone afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
SQLITE_ASYNC = {"A7.1", "A7.2", "A7.5"}
WORKLOADS = {
    *("W1", "W2", "W3", "W4", "W5", "W6", "W7.1", "W7.2", "W7.3", "W7.4"),
    *("A1", "A2", "A3", "A5", *SQLITE_ASYNC),
}
#: Workloads whose contenders all run at once and report the event loop's lag.
LAGGED = {"A5", "A7.5"}


def run_bench(url: str, schema: str, tmp_path: Path) -> dict[str, object]:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [
            *(sys.executable, str(BENCH), "--tiny", "--url", url, "--schema", schema),
            *("--sqlite", str(tmp_path / "bench.db"), "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| workload | contender |" in proc.stdout
    report: dict[str, object] = json.loads(out.read_text())
    return report


@pytest.mark.postgres
def test_tiny_run_checks_every_contender_and_cleans_up(
    postgres_base_url: str, tmp_path: Path
) -> None:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    report = run_bench(postgres_base_url, schema, tmp_path)
    results = report["results"]
    assert isinstance(results, list)
    assert {r["workload"] for r in results} == WORKLOADS
    assert [r["contender"] for r in results if r["error"]] == []
    names = {r["contender"] for r in results}
    # The bench extra is installed by `make test`: every peer must have run.
    peers = (
        *("aiosql", "SQLAlchemy Core text()", "sqlspec", "psycopg_pool + raw psycopg"),
        *("asyncpg + validate_python", "asyncpg pool", "aiosql (apsycopg)"),
        *("SQLAlchemy asyncio text()", "psycopg_pool AsyncConnectionPool + raw"),
        *("aiosql (aiosqlite)", "asyncio.Queue of 2 aiosqlite connections"),
    )
    for peer in peers:
        assert peer in names, sorted(names)
    for workload in WORKLOADS:
        mine = [r for r in results if r["workload"] == workload]
        baselines = [r for r in mine if r["baseline"]]
        assert baselines, workload
        assert all(b["ratio_to_baseline"] == pytest.approx(1.0) for b in baselines)
        assert all(r["samples_s"] and r["median_s"] > 0 for r in mine)
        if workload == "W6":
            continue  # its own method: one child process per measurement
        for r in mine:  # one ratio per round, against the baseline's sample of that round
            assert len(r["ratios"]) == len(r["samples_s"]), r
            assert r["ratio_min"] <= r["ratio_to_baseline"] <= r["ratio_max"], r
        for r in mine:
            assert ("loop_lag_ms" in r) == (workload in LAGGED), r
            if workload in LAGGED:
                assert r["loop_lag_ms"]["ticks"] > 0, r
    streamed = [r for r in results if r["workload"] == "W6"]
    assert all(r["peak_rss_mb"] > 0 for r in streamed)
    with psycopg.connect(postgres_base_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert left == (0,)


def test_sqlite_only_run_needs_no_postgres(tmp_path: Path) -> None:
    out = tmp_path / "lite.json"
    proc = subprocess.run(
        [
            *(sys.executable, str(BENCH), "--tiny", "--only", "W7,A7"),
            *("--sqlite", str(tmp_path / "bench.db"), "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["results"]
    assert [r["contender"] for r in results if r["error"]] == []
    assert {r["workload"] for r in results} == {"W7.1", "W7.2", "W7.3", "W7.4", *SQLITE_ASYNC}
    assert {r["contender"] for r in results if r["workload"].startswith("W7")} == {
        "raw sqlite3 + validate_python",
        "tradestore",
        "raw sqlite3",
        "raw sqlite3 + model_validate loop",
        "raw sqlite3 executemany",
        "tradestore :copyfrom",
    }
    async_kit = {r["workload"] for r in results if r["contender"].startswith("tradestore")}
    assert async_kit >= SQLITE_ASYNC


def test_unknown_workload_is_refused(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--tiny", "--only", "W9", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown workload(s) W9" in proc.stderr

"""The operations commands, run in-process through `tradestore.cli.main` on real databases."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tradestore import Pool, migrate
from tradestore.cli import main
from tradestore.cli.reports import (
    PlotUnavailable,
    equity_text,
    format_table,
    number,
    plot_equity,
    summarize_equity,
)
from tradestore.schema.backup import backup_name
from tradestore.trading.models import EquityPoint

SECRET = "s3cret"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def with_password(url: str) -> str:
    """The same PostgreSQL URL with a password (trust auth ignores it): must never be shown."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")


@pytest.fixture
def migrated(db_url: str) -> str:
    migrate(db_url)
    return db_url


# -- backup / restore ----------------------------------------------------------------------


def test_backup_prints_the_path_and_prunes_old_ones(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    migrate(sqlite_url)
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / backup_name("sqlite", dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    old.write_text("old")
    foreign = folder / "keep-me.txt"
    foreign.write_text("x")
    code, out, err = run(
        capsys,
        "--database-url",
        sqlite_url,
        "backup",
        "--directory",
        str(folder),
        "--retention-days",
        "7",
    )
    assert code == 0
    path = Path(out.strip())
    assert path.parent == folder
    assert path.is_file()
    assert f"pruned {old}" in err
    assert not old.exists()
    assert foreign.exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM trade_history").fetchone() == (0,)
    finally:
        conn.close()


def test_backup_uses_the_environment_when_no_options(
    capsys: pytest.CaptureFixture[str],
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DB_BACKUP_DIRECTORY", str(tmp_path / "env-backups"))
    code, out, _ = run(capsys, "backup", "--no-prune")
    assert code == 0
    assert Path(out.strip()).parent == tmp_path / "env-backups"


def test_restore_needs_yes_then_restores(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    migrate(sqlite_url)
    code, out, _ = run(capsys, "--database-url", sqlite_url, "backup", "-o", str(tmp_path / "b.db"))
    assert code == 0
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(db_file)
    conn.execute("CREATE TABLE scratch_after_backup (id INTEGER)")
    conn.close()
    code, _, err = run(capsys, "--database-url", sqlite_url, "restore", out.strip())
    assert code == 2
    assert "--yes" in err
    code, out, _ = run(
        capsys, "--database-url", sqlite_url, "restore", str(tmp_path / "b.db"), "--yes"
    )
    assert code == 0
    assert "restored" in out
    conn = sqlite3.connect(db_file)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert "scratch_after_backup" not in names
    assert "trade_history" in names


def test_pg_backup_with_a_missing_pg_dump_fails_on_stderr(
    capsys: pytest.CaptureFixture[str],
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, err = run(
        capsys,
        "--database-url",
        with_password(pg_url),
        "backup",
        "--directory",
        str(tmp_path / "out"),
    )
    assert code == 1
    assert out == ""
    assert "pg_dump not found" in err
    assert SECRET not in err


# -- health / stats -------------------------------------------------------------------------


def test_health_is_json_and_needs_the_schema(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, out, _ = run(capsys, "--database-url", db_url, "health")
    report = json.loads(out)
    assert code == 1  # the database answers but is not migrated: not ready for a bot
    assert report["status"] == "healthy"
    assert report["schema"]["ready"] is False
    assert "trade_history" in report["schema"]["missing_tables"]
    migrate(db_url)
    code, out, _ = run(capsys, "--database-url", db_url, "health")
    report = json.loads(out)
    assert code == 0
    assert report["error"] is None
    assert report["schema"] == {"ready": True, "missing_tables": []}


def test_unhealthy_database_exits_one(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on localhost: refused at once, nothing listens there.
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:1/test"
    code, out, err = run(capsys, "--database-url", url, "health", "--timeout", "0.2")
    report = json.loads(out)
    assert code == 1
    assert report["status"] == "unhealthy"
    assert "could not connect" in report["error"]
    assert SECRET not in out + err


def test_stats_lists_pool_counters_and_tables(
    capsys: pytest.CaptureFixture[str], migrated: str
) -> None:
    code, out, _ = run(capsys, "--database-url", migrated, "stats")
    stats = json.loads(out)
    assert code == 0
    assert stats["pool"]["size"] == 1
    assert stats["pool"]["checkouts"] > 0
    assert stats["tables"]["trade_history"] in (0, None)
    assert "orders" in stats["tables"]
    assert stats["queries"]["introspect_tables"]["count"] == 1
    code, out, _ = run(capsys, "--database-url", migrated, "stats", "--no-tables")
    assert json.loads(out)["tables"] == {}


def test_bad_configuration_is_an_error_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2@db/x")
    code, out, err = run(capsys, "health")
    assert code == 1
    assert out == ""
    assert "unsupported database URL scheme" in err
    assert "hunter2" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["backup", "--retention-days", "0"],
        ["health", "--timeout", "-1"],
        ["restore"],
    ],
)
def test_usage_errors_exit_two(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err


# -- report rendering (no database) ---------------------------------------------------------


def _point(i: int, equity: str, day: int) -> EquityPoint:
    at = dt.datetime(2026, 1, day, 16, 0, tzinfo=dt.UTC)
    return EquityPoint(
        id=i,
        recorded_at=at,
        equity=Decimal(equity),
        cash=Decimal(0),
        buying_power=Decimal(0),
        created_at=at,
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("100.00000000"), "100"),
        (Decimal("187.25000000"), "187.25"),
        (Decimal("0.00000001"), "0.00000001"),
        (Decimal("-0.00000000"), "0"),
        (Decimal("123456789012.5"), "123456789012.5"),
        (None, ""),
    ],
)
def test_numbers_read_plainly(value: Decimal | None, shown: str) -> None:
    assert number(value) == shown


def test_table_columns_line_up() -> None:
    text = format_table(("a", "qty"), [["xyz", "1.5"], ["q", "100"]], numeric={1})
    assert text.splitlines() == ["a    qty", "---  ---", "xyz  1.5", "q    100"]


def test_equity_summary_measures_drawdown_from_the_running_peak() -> None:
    points = [
        _point(3, "90", 3),  # out of order on purpose: the summary sorts by time
        _point(1, "100", 1),
        _point(2, "120", 2),
        _point(4, "130", 4),
        _point(5, "117", 5),
    ]
    summary = summarize_equity(points)
    assert summary is not None
    assert (summary.points, summary.start_equity, summary.end_equity) == (
        5,
        Decimal(100),
        Decimal(117),
    )
    assert summary.change == Decimal(17)
    assert summary.change_pct == Decimal("17.00")
    assert summary.peak_equity == Decimal(130)
    assert summary.low_equity == Decimal(90)
    assert summary.max_drawdown == Decimal(30)  # 120 -> 90, deeper than 130 -> 117
    assert summary.max_drawdown_pct == Decimal("25.00")
    text = equity_text(summary)
    assert "change         17 (+17.00%)" in text
    assert "max drawdown   30 (-25.00%)" in text
    assert summarize_equity([]) is None


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    path = plot_equity([_point(1, "100", 1), _point(2, "101.5", 2)], tmp_path / "eq.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import matplotlib...` raise ImportError, as when not installed.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(PlotUnavailable, match=r"pip install 'tradestore\[plot\]'"):
        plot_equity([_point(1, "100", 1)], tmp_path / "eq.png")
    assert not (tmp_path / "eq.png").exists()


# -- trades / equity on real databases ------------------------------------------------------

DAY = dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.UTC)


def seed(url: str) -> None:
    """Trade history and an equity curve, inserted by hand (independent of the store's API)."""
    migrate(url)
    with Pool(url, max_size=1) as pool, pool.transaction() as conn:
        mark = "%s" if pool.dialect == "postgresql" else "?"
        trade_sql = (
            "INSERT INTO trade_history (correlation_id, symbol, action, strategy_name, quantity, "
            "signal_price, fill_price, signal_time, executed) VALUES "
            f"({', '.join([mark] * 9)})"
        )
        trades = [
            (
                "c1",
                "AAPL",
                "BUY",
                "momentum",
                Decimal("10"),
                Decimal("187.25"),
                Decimal("187.3"),
                0,
            ),
            ("c2", "MSFT", "SELL", "meanrev", Decimal("2.5"), Decimal("410"), None, 1),
            ("c3", "AAPL", "SELL", "momentum", Decimal("10"), Decimal("190"), Decimal("190.5"), 2),
        ]
        for cid, symbol, action, strategy, qty, signal, fill, day in trades:
            conn.execute(
                trade_sql,
                (
                    cid,
                    symbol,
                    action,
                    strategy,
                    qty,
                    signal,
                    fill,
                    DAY + dt.timedelta(days=day),
                    fill is not None,
                ),
            )
        equity_sql = (
            "INSERT INTO equity_curve (recorded_at, equity, cash, buying_power) VALUES "
            f"({', '.join([mark] * 4)})"
        )
        for day, equity in enumerate(["100", "120", "90", "130", "117"]):
            conn.execute(
                equity_sql,
                (DAY + dt.timedelta(days=day), Decimal(equity), Decimal(0), Decimal(0)),
            )


def test_trades_table_newest_first_and_aligned(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    seed(db_url)
    code, out, _ = run(capsys, "--database-url", db_url, "trades")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["signal", "time", "(UTC)"]
    body = lines[2:]
    assert [line.split()[-1] for line in body] == ["c3", "c2", "c1"]
    assert body[0].startswith("2026-01-07 16:00:00  AAPL")
    # Numbers are right-aligned under their header: every price ends in the same column.
    price_end = lines[0].index("price") + len("price")
    assert {line[:price_end].split()[-1] for line in body} == {"190.5", "410", "187.3"}
    assert "no" in body[1].split()  # c2 was not executed

    code, out, _ = run(capsys, "--database-url", db_url, "trades", "--symbol", "AAPL")
    assert [line.split()[-1] for line in out.splitlines()[2:]] == ["c3", "c1"]
    code, out, _ = run(capsys, "--database-url", db_url, "trades", "--limit", "1")
    assert [line.split()[-1] for line in out.splitlines()[2:]] == ["c3"]
    code, out, _ = run(capsys, "--database-url", db_url, "trades", "--symbol", "TSLA")
    assert (code, out.strip()) == (0, "no trades for TSLA")


def test_trades_window(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    seed(sqlite_url)
    code, out, _ = run(
        capsys,
        "--database-url",
        sqlite_url,
        "trades",
        "--since",
        "2026-01-06",
        "--until",
        "2026-01-07T00:00:00+00:00",
    )
    assert code == 0
    assert [line.split()[-1] for line in out.splitlines()[2:]] == ["c2"]


def test_equity_summary_and_plot(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib", reason="the plot extra is not installed")
    seed(db_url)
    chart = tmp_path / "charts" / "equity.png"
    code, out, err = run(capsys, "--database-url", db_url, "equity", "--plot", str(chart))
    assert (code, err) == (0, "")
    assert "points         5" in out
    assert "change         17 (+17.00%)" in out
    assert "max drawdown   30 (-25.00%)" in out
    assert f"chart written to {chart}" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    code, out, _ = run(capsys, "--database-url", db_url, "equity", "--limit", "2")
    assert "points         2" in out
    assert "start equity   130" in out


def test_equity_without_points(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    migrate(sqlite_url)
    code, out, _ = run(capsys, "--database-url", sqlite_url, "equity")
    assert (code, out.strip()) == (0, "no equity points")
    code, _, err = run(
        capsys, "--database-url", sqlite_url, "equity", "--plot", str(tmp_path / "e.png")
    )
    assert code == 1
    assert "no equity points" in err
    assert not (tmp_path / "e.png").exists()


def test_equity_plot_without_matplotlib_exits_one_with_a_hint(
    capsys: pytest.CaptureFixture[str],
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(sqlite_url)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, out, err = run(
        capsys, "--database-url", sqlite_url, "equity", "--plot", str(tmp_path / "e.png")
    )
    assert code == 1
    assert "max drawdown" in out  # the summary still printed
    assert "pip install 'tradestore[plot]'" in err


def test_no_command_ever_prints_the_password(
    capsys: pytest.CaptureFixture[str], pg_url: str, tmp_path: Path
) -> None:
    seed(pg_url)
    url = with_password(pg_url)
    assert SECRET in url
    backup_dir = str(tmp_path / "b")
    commands = [
        ["health"],
        ["stats"],
        ["backup", "--directory", backup_dir],
        ["trades"],
        ["equity"],
        ["restore", str(tmp_path / "missing.dump")],
        ["restore", str(tmp_path / "missing.dump"), "--yes"],
        ["trades", "--symbol", "AAPL", "--limit", "1"],
    ]
    seen = []
    for argv in commands:
        code, out, err = run(capsys, "--database-url", url, *argv)
        seen.append(code)
        assert SECRET not in out, argv
        assert SECRET not in err, argv
    assert seen == [0, 0, 0, 0, 0, 2, 1, 0]
    # A failure that echoes the URL: wrong database name, password still hidden.
    bad = url.split("/test?", 1)[0] + "/tradestore_no_such_db"
    for argv in (["health"], ["stats"], ["trades"], ["backup"]):
        code, out, err = run(capsys, "--database-url", bad, *argv, "--timeout", "0.5")
        assert code == 1, argv
        assert "tradestore_no_such_db" in out + err
        assert SECRET not in out + err, argv

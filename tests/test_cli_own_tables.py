"""The `tradestore` command on a user's own tables: migrations of their own (`--migrations`,
DB_MIGRATIONS_DIR), `stubs`/`check-sql` on their SQL with a scratch schema built from *their*
migrations, `--models` importable from the current directory, stubs importable at run time.

The command runs as users run it: the installed console script, in the project folder, with no
PYTHONPATH (its sys.path starts with the venv's bin/, not the current directory).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from test_migrations import relation_names
from tradestore import parse_url

BIN = Path(sys.executable).parent

PG_MIGRATION = """\
-- Symbols a bot watches.
CREATE TABLE watchlist (
    symbol TEXT PRIMARY KEY,
    trigger_price NUMERIC(20, 8) NOT NULL
);
"""
SQLITE_MIGRATION = """\
-- Symbols a bot watches (money as decimal text).
CREATE TABLE watchlist (
    symbol TEXT PRIMARY KEY NOT NULL,
    trigger_price TEXT NOT NULL
);
"""
QUERIES = """\
-- name: watch :exec
-- Add a symbol.
INSERT INTO watchlist (symbol, trigger_price)
VALUES (:symbol, :trigger_price);

-- name: watched :many WatchItem
-- Every watched symbol.
SELECT symbol, trigger_price
FROM watchlist
ORDER BY symbol;
"""
MODELS = """\
from decimal import Decimal

from pydantic import BaseModel


class WatchItem(BaseModel):
    symbol: str
    trigger_price: Decimal
"""


def write_project(root: Path) -> Path:
    """A user's project folder: migrations per dialect, a SQL folder and a models module."""
    for dialect, sql in (("postgresql", PG_MIGRATION), ("sqlite", SQLITE_MIGRATION)):
        folder = root / "migrations" / dialect
        folder.mkdir(parents=True)
        (folder / "0001_watchlist.sql").write_text(sql)
        (folder / "0001_watchlist.rollback.sql").write_text("DROP TABLE watchlist;\n")
    (root / "my_sql").mkdir()
    (root / "my_sql" / "watchlist.sql").write_text(QUERIES)
    (root / "my_models.py").write_text(MODELS)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path)


def tradestore(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "DB_")) and k != "PYTHONPATH"
    }
    base["DATABASE_URL"] = f"sqlite:///{project}/data/default.db"
    return subprocess.run(
        [BIN / "tradestore", *args],
        cwd=project,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_error_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- migrations ------------------------------------------------------------------------------


def test_migration_commands_on_a_users_folder(db_url: str, project: Path) -> None:
    url = ["--database-url", db_url]
    own = ["--migrations", "migrations"]
    assert ok(tradestore(project, *url, "migrate", *own)) == "applied 0001_watchlist\n"
    assert relation_names(db_url) == {"watchlist"}  # and none of the trading schema's
    status = ok(tradestore(project, *url, "status", *own))
    assert status.splitlines()[0].startswith("0001_watchlist  applied  ")
    assert status.splitlines()[-1] == "1 applied, 0 pending"
    assert ok(tradestore(project, *url, "rollback", *own)) == "rolled back 0001_watchlist\n"
    assert relation_names(db_url) == set()
    created = ok(tradestore(project, "new-migration", "add_notes", *own)).splitlines()
    assert created == [
        "created migrations/postgresql/0002_add_notes.sql",
        "created migrations/postgresql/0002_add_notes.rollback.sql",
        "created migrations/sqlite/0002_add_notes.sql",
        "created migrations/sqlite/0002_add_notes.rollback.sql",
    ]
    applied = ok(tradestore(project, *url, "migrate", *own)).splitlines()
    assert applied == ["applied 0001_watchlist", "applied 0002_add_notes"]


def test_db_migrations_dir_is_the_default_folder(sqlite_url: str, project: Path) -> None:
    env = {"DB_MIGRATIONS_DIR": "migrations", "DATABASE_URL": sqlite_url}
    assert ok(tradestore(project, "migrate", env=env)) == "applied 0001_watchlist\n"
    assert ok(tradestore(project, "status", env=env)).splitlines()[-1] == "1 applied, 0 pending"
    # --migrations wins over the setting; without either, the built-in trading schema.
    assert "applied 0005_views" in ok(
        tradestore(project, "migrate", env={"DATABASE_URL": sqlite_url})
    )
    assert relation_names(sqlite_url) >= {"watchlist", "trades", "orders"}


def test_a_db_migrations_dir_that_is_not_there_is_one_line(project: Path) -> None:
    result = tradestore(project, "migrate", env={"DB_MIGRATIONS_DIR": "migratons"})
    one_error_line(result, "tradestore migrate: error:", "DB_MIGRATIONS_DIR=migratons", "no such")


def test_a_migrations_folder_that_is_not_there_is_one_line(project: Path) -> None:
    result = tradestore(project, "status", "--migrations", "nowhere")
    one_error_line(result, "tradestore status: error:", "nowhere does not exist")


# -- stubs and check-sql on a user's folder --------------------------------------------------


@pytest.mark.postgres
def test_stubs_types_parameters_from_the_users_migrations(
    postgres_base_url: str, project: Path
) -> None:
    # Before: --scratch migrated the trading schema, where the user's statements do not
    # compile, so every parameter was Any; and `--models my_models` was a ModuleNotFoundError
    # traceback without PYTHONPATH=.
    args = ["stubs", "my_sql", "--models", "my_models", "--class-name", "WatchQueries"]
    args += ["--migrations", "migrations", "--scratch", "-o", "my_queries.py"]
    env = {"TEST_DATABASE_URL": postgres_base_url}
    assert ok(tradestore(project, *args, env=env)) == "wrote my_queries.py (2 queries)\n"
    text = (project / "my_queries.py").read_text()
    assert text.splitlines()[0] == (
        "# Generated by `tradestore stubs my_sql --models my_models --class-name WatchQueries "
        "--migrations migrations --scratch -o my_queries.py`: do not edit, run it again."
    )
    assert "        symbol: str,\n        trigger_price: Decimal,\n    ) -> None:" in text
    assert "    ) -> list[WatchItem]:" in text
    assert "    from my_models import (\n        WatchItem,\n    )" in text
    assert ok(tradestore(project, *args, "--check", env=env)) == ""


def test_generated_stubs_import_at_run_time_and_type_check(project: Path, sqlite_url: str) -> None:
    """The generated module is a real module: a bot imports the Protocol and casts to it, and
    mypy --strict checks the calls through it."""
    args = ["stubs", "my_sql", "--models", "my_models", "--class-name", "WatchQueries"]
    ok(tradestore(project, *args, "-o", "my_queries.py"))
    bot = project / "bot.py"
    bot.write_text(
        textwrap.dedent(
            f"""\
            from decimal import Decimal
            from typing import cast

            import my_models
            import tradestore
            from my_queries import WatchQueries
            from tradestore.queries.loader import load_queries

            url = "{sqlite_url}"
            tradestore.migrate(url, source="migrations")
            q = cast(WatchQueries, load_queries("my_sql", models=my_models))
            with tradestore.connect(url) as db:
                q.watch(db, symbol="AAPL", trigger_price=Decimal("187.25"))
                print([(row.symbol, row.trigger_price) for row in q.watched(db)])
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "bot.py"], cwd=project, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "[('AAPL', Decimal('187.25'))]\n"
    typed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "bot.py", "my_queries.py", "my_models.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert typed.returncode == 0, typed.stdout


def test_a_pyi_output_gets_a_note(project: Path) -> None:
    result = tradestore(project, "stubs", "my_sql", "--models", "my_models", "-o", "q.pyi")
    assert result.returncode == 0, result.stderr
    assert "note: q.pyi is for type checkers only" in result.stderr


@pytest.mark.postgres
def test_check_sql_builds_its_scratch_schema_from_the_users_migrations(
    postgres_base_url: str, project: Path
) -> None:
    # Before: the scratch schema and file were the trading schema's: "no such table".
    env = {"TEST_DATABASE_URL": postgres_base_url}
    args = ["check-sql", "my_sql", "--models", "my_models", "--migrations", "migrations"]
    assert ok(tradestore(project, *args, env=env)).splitlines() == [
        "check-sql: 2 queries on postgresql: 0 problem(s)",
        "check-sql: 2 queries on sqlite: 0 problem(s)",
    ]
    # The setting does as well as the flag.
    env["DB_MIGRATIONS_DIR"] = "migrations"
    assert "0 problem(s)" in ok(tradestore(project, *args[:4], env=env))
    # A column the SQL names but the user's migration lacks: reported, exit 1.
    (project / "my_sql" / "watchlist.sql").write_text(
        QUERIES.replace("trigger_price\nFROM", "x\nFROM")
    )
    result = tradestore(project, *args, env=env)
    assert result.returncode == 1
    assert "query watched" in result.stderr


def test_check_sql_checks_the_dialects_the_folder_has(project: Path) -> None:
    for name in ("0001_watchlist.sql", "0001_watchlist.rollback.sql"):
        (project / "migrations" / "postgresql" / name).unlink()
    (project / "migrations" / "postgresql").rmdir()
    # Only sqlite/: no PostgreSQL needed, none asked for.
    env = {"TEST_DATABASE_URL": ""}
    args = ["check-sql", "my_sql", "--models", "my_models", "--migrations", "migrations"]
    assert ok(tradestore(project, *args, env=env)).splitlines() == [
        "check-sql: 2 queries on sqlite: 0 problem(s)"
    ]


def test_the_built_in_folder_keeps_the_built_in_schema(project: Path) -> None:
    """DB_MIGRATIONS_DIR is a user's folder's: `check-sql` of the built-in sql/ (what `make
    check-sql` runs) still checks it against the trading schema."""
    env = {"DB_MIGRATIONS_DIR": "migrations"}
    out = ok(tradestore(project, "check-sql", "--no-postgres", env=env))
    assert out.startswith("check-sql: ")
    assert out.endswith("queries on sqlite: 0 problem(s)\n")


# -- --models ----------------------------------------------------------------------------------


def test_models_may_use_the_trading_schemas_models_when_asked(project: Path) -> None:
    (project / "my_sql" / "trades.sql").write_text(
        "-- name: recent_trades :many Trade\n-- Newest trades.\nSELECT * FROM trades;\n"
    )
    result = tradestore(project, "stubs", "my_sql", "--models", "my_models")
    line = one_error_line(result, "unknown model 'Trade'", "--models tradestore.trading.models")
    assert line.startswith("tradestore stubs: error: ")
    args = ["--models", "my_models", "--models", "tradestore.trading.models"]
    text = ok(tradestore(project, "stubs", "my_sql", *args))
    assert "    from tradestore.trading.models import (\n        Trade,\n    )" in text
    assert "    from my_models import (\n        WatchItem,\n    )" in text


def test_models_from_a_package_of_the_current_directory(project: Path) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "__init__.py").write_text("")
    (project / "my_models.py").rename(project / "pkg" / "rows.py")
    text = ok(tradestore(project, "stubs", "my_sql", "--models", "pkg.rows"))
    assert "    from pkg.rows import (\n        WatchItem,\n    )" in text


@pytest.mark.parametrize(
    ("module", "source", "words"),
    [
        ("nowhere", None, ["--models nowhere", "no module named 'nowhere'", "or on sys.path"]),
        ("my_models.py", None, ["--models my_models.py", "not a file", "--models my_models"]),
        ("pkg/my_models", None, ["not a file", "--models pkg.my_models"]),
        ("plain", "X = 1\n", ["--models plain", "defines no pydantic model"]),
        ("broken", "import not_installed_anywhere\n", ["importing it failed", "not_installed"]),
        ("syntax", "def (:\n", ["--models syntax", "SyntaxError"]),
    ],
)
def test_a_models_module_that_cannot_serve_is_one_line(
    project: Path, module: str, source: str | None, words: list[str]
) -> None:
    if source is not None:
        (project / f"{module}.py").write_text(source)
    for command in ("stubs", "check-sql"):
        result = tradestore(project, command, "my_sql", "--models", module, "--url", "sqlite://")
        one_error_line(result, f"tradestore {command}: error:", *words)


def test_models_import_leaves_sys_path_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradestore.cli.models_option import import_models  # noqa: PLC0415

    monkeypatch.chdir(project)
    monkeypatch.delitem(sys.modules, "my_models", raising=False)
    before = list(sys.path)
    assert set(import_models("my_models")) == {"WatchItem"}
    assert sys.path == before
    monkeypatch.delitem(sys.modules, "my_models")


@pytest.mark.postgres
def test_the_url_of_a_stub_command_is_never_written(postgres_base_url: str, project: Path) -> None:
    base = parse_url(postgres_base_url)
    port = f":{base.port}" if base.port else ""
    # The test server trusts local connections: any password is accepted, and must not show.
    url = f"postgresql://{base.username or 'postgres'}:s3cret-pw@{base.host}{port}/{base.database}"
    text = ok(tradestore(project, "stubs", "my_sql", "--models", "my_models", "--url", url))
    assert text.splitlines()[0] == (
        "# Generated by `tradestore stubs my_sql --models my_models --url URL`: "
        "do not edit, run it again."
    )
    assert "s3cret-pw" not in text

"""A wrong TEST_DATABASE_URL (or --database-url) is one clear line and a non-zero exit, never a
driver traceback: `check-sql` and `stubs --scratch` make a scratch schema there first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradestore import parse_url

BIN = Path(sys.executable).parent
UNREACHABLE = "postgresql://postgres:s3cret-pw@127.0.0.1:1/test"
"""Port 1: nothing listens there, so the connection is refused at once (no server needed)."""


def tradestore(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "tradestore", *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "s3cret-pw" not in result.stderr + result.stdout


def unknown_database(postgres_base_url: str) -> str:
    base = parse_url(postgres_base_url)
    port = f":{base.port}" if base.port else ""
    user = base.username or "postgres"
    return f"postgresql://{user}:s3cret-pw@{base.host or '127.0.0.1'}{port}/tradestore_no_such_db"


@pytest.mark.parametrize("command", [["check-sql"], ["stubs", "--scratch"]])
def test_scratch_commands_report_an_unreachable_server_in_one_line(
    command: list[str], tmp_path: Path
) -> None:
    result = tradestore(
        *command,
        env={"TEST_DATABASE_URL": UNREACHABLE, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
    )
    assert_one_clear_line(result, "scratch schema", "127.0.0.1:1", "TEST_DATABASE_URL", "refused")


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["check-sql"], ["stubs", "--scratch"]])
def test_scratch_commands_report_an_unknown_database_in_one_line(
    command: list[str], postgres_base_url: str, tmp_path: Path
) -> None:
    result = tradestore(
        *command,
        env={
            "TEST_DATABASE_URL": unknown_database(postgres_base_url),
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
    )
    assert_one_clear_line(result, "tradestore_no_such_db", "does not exist")


@pytest.mark.parametrize("command", ["migrate", "status", "rollback", "break-lock"])
def test_migration_commands_report_an_unreachable_server_in_one_line(command: str) -> None:
    result = tradestore("--database-url", UNREACHABLE, command)
    assert_one_clear_line(result, f"tradestore {command}: error:", "127.0.0.1:1")

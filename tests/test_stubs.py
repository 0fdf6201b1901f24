"""The typed surface: generated from SQL + a migrated PostgreSQL, kept in step with sql/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from test_queries import FIXTURES, Fill, create_schema
from tradestore import Pool
from tradestore.cli import main
from tradestore.cli.queries import BUILTIN_STUB
from tradestore.queries.sqlfile import parse_sql_text
from tradestore.queries.stubs import generate, optional_params
from tradestore.trading.queries import load_queries

REPO = Path(__file__).resolve().parents[1]


def test_parameter_and_return_types_from_postgres(pg_url: str) -> None:
    with Pool(pg_url) as pool:
        create_schema(pool)
    q = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    text = generate(q, class_name="FixtureQueries", models_module="test_queries", url=pg_url)
    assert "class FixtureQueries(Protocol):" in text
    assert "    from test_queries import (\n        Fill,\n    )" in text
    assert (
        "    def get_fill(\n        self,\n        db: Pool | Connection,\n        /,\n"
        "        *,\n        id: int,\n    ) -> Fill | None:\n" in text
    )
    assert "        symbol: str | None,\n    ) -> list[Fill]:" in text  # IS NULL => optional
    assert "        ids: Sequence[int],\n    ) -> list[Fill]:" in text
    assert "        qty: Decimal,\n" in text
    assert "        ts: datetime.datetime,\n" in text
    # Both faces: each query is an overload on Pool/Connection and an `async def` on
    # AsyncPool/AsyncConnection (an :iter a plain def giving an async generator), so mypy
    # sees a missing `await`, or one too many.
    assert (
        "    @overload\n    async def get_fill(\n        self,\n"
        "        db: AsyncPool | AsyncConnection,\n        /,\n        *,\n        id: int,\n"
        "    ) -> Fill | None:\n" in text
    )
    assert (
        "    def stream_fills(\n        self,\n        db: Pool | Connection,\n        /,\n"
        "    ) -> Generator[Fill, None, None]:\n" in text
    )
    assert (
        "    @overload\n    def stream_fills(\n        self,\n"
        "        db: AsyncPool | AsyncConnection,\n        /,\n"
        "    ) -> AsyncGenerator[Fill, None]:\n" in text
    )
    assert "from collections.abc import AsyncGenerator, Generator\n" in text
    assert text.count("    async def ") == text.count("    @overload\n") // 2 - 1  # not :iter
    assert "    ) -> list[dict[str, Any]]:" in text
    assert "        symbol: str,\n    ) -> int | None:" in text  # :scalar COUNT(*) is bigint
    assert (
        "        rows: Iterable[Mapping[str, Any] | BaseModel],\n        /,\n    ) -> int:" in text
    )
    assert '        """One fill by id."""' in text
    # :execlastid and the :batch family; a batch's items are typed per query (sqlc's names).
    assert (
        '        meta: Any,\n    ) -> int | None:\n        """PostgreSQL has no lastrowid' in text
    )
    assert (
        "class AddFillsParams(TypedDict):\n"
        '    """One parameter set of `add_fills` (:batchone)."""\n\n'
        "    symbol: str\n    qty: Decimal\n    price: Decimal\n    ts: datetime.datetime\n"
        "    is_buy: bool\n    meta: Any\n" in text
    )
    assert "class SetMetasParams(TypedDict):" in text
    assert '    "AddFillsParams",\n' in text  # exported
    assert (
        "        items: Iterable[AddFillsParams | BaseModel],\n        /,\n"
        "    ) -> list[Fill | None]:" in text
    )
    assert "        items: Iterable[FillSymbolsParams | BaseModel],\n        /,\n" in text
    assert "    ) -> list[dict[str, Any] | None]:" in text
    assert (
        "        items: Iterable[FillsOfSymbolsParams | BaseModel],\n        /,\n"
        "    ) -> list[list[Fill]]:" in text
    )
    assert "        items: Iterable[SetMetasParams | BaseModel],\n        /,\n    ) -> int:" in text
    assert (
        "    async def add_fills(\n        self,\n        db: AsyncPool | AsyncConnection,\n"
        "        items: Iterable[AddFillsParams | BaseModel],\n        /,\n"
        "    ) -> list[Fill | None]:" in text
    )
    assert (
        "    async def load_fills(\n        self,\n        db: AsyncPool | AsyncConnection,\n"
        "        rows: Iterable[Mapping[str, Any] | BaseModel],\n        /,\n    ) -> int:" in text
    )
    # The output is already what ruff format would write, so `make lint` stays green.
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", "x.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert formatted.stdout == text


def test_without_database_parameters_are_any() -> None:
    q = load_queries(FIXTURES / "basic", models={"Fill": Fill}, echo=False, slow_query_ms=None)
    text = generate(q)
    assert "        id: Any,\n    ) -> Fill | None:" in text
    assert "class SetMetasParams(TypedDict):\n" in text
    assert "    meta: Any\n    id: Any\n" in text


def test_batch_parameter_classes_never_shadow_a_model(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text(
        "-- name: fill :batchone FillParams\nSELECT :id AS id;\n\n"
        "-- name: nothing :batchexec\nDELETE FROM t;\n"
    )

    class FillParams(BaseModel):
        id: int

    q = load_queries(tmp_path, models={"FillParams": FillParams}, echo=False, slow_query_ms=None)
    text = generate(q, models_module="test_queries")
    assert "class FillParams_(TypedDict):" in text
    assert "items: Iterable[FillParams_ | BaseModel]" in text
    assert "    ) -> list[FillParams | None]:" in text
    # No parameters: an empty parameter set, the docstring its whole body.
    assert 'class NothingParams(TypedDict):\n    """One parameter set of `nothing`' in text


@pytest.mark.parametrize(
    ("sql", "optional"),
    [
        ("WHERE (:s IS NULL OR s = :s)", {"s"}),
        ("WHERE (CAST(:s AS TEXT) IS NULL OR s = :s)", {"s"}),
        ("WHERE (CAST(:s AS character varying(10)) IS NULL OR s = :s)", {"s"}),
        ("WHERE (:s::text IS NULL OR s = :s)", {"s"}),
        ("WHERE s = :s AND t IS NULL", set()),
    ],
)
def test_optional_parameters(sql: str, optional: set[str]) -> None:
    (block,) = parse_sql_text(f"-- name: x :many\nSELECT a FROM t {sql};\n")
    assert optional_params(block) == optional


def test_builtin_surface_matches_sql(
    postgres_base_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fails when sql/ and src/tradestore/trading/builtin_queries.py drift: run `make stubs`.

    The command is the Makefile's, run where make runs it: the generated module's first line
    names it, so that line is part of what must not drift."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("TEST_DATABASE_URL", postgres_base_url)
    output = BUILTIN_STUB.relative_to(REPO).as_posix()
    assert f"tradestore stubs --scratch -o {output}" in (REPO / "Makefile").read_text()
    assert main(["stubs", "--scratch", "-o", output, "--check"]) == 0, capsys.readouterr().err
    first_line = BUILTIN_STUB.read_text().splitlines()[0]
    assert (
        first_line
        == f"# Generated by `tradestore stubs --scratch -o {output}`: do not edit, run it again."
    )


def test_cli_writes_and_checks_user_stub(tmp_path: Path) -> None:
    out = tmp_path / "out.py"
    args = ["stubs", str(FIXTURES / "basic"), "--models", "test_queries", "-o", str(out)]
    assert main([*args, "--check"]) == 1
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    assert "class BuiltinQueries(Protocol):" in out.read_text()

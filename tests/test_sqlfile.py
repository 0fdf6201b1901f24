"""The SQL-file parser: tricky tokens, block structure, and load-time errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradestore.errors import SqlFileError
from tradestore.sqlfile import (
    Cardinality,
    copy_target,
    parse_sql_file,
    parse_sql_text,
    render,
    scan,
)


def names(sql: str) -> list[str]:
    return [p.name for p in scan(sql).params]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT :a, :b_2", ["a", "b_2"]),
        ("SELECT :a::numeric", ["a"]),
        ("SELECT x::text FROM t WHERE y = :y", ["y"]),
        ("SELECT CAST(:s AS TEXT)", ["s"]),
        ("SELECT ':no' || :yes", ["yes"]),
        ("SELECT 'it''s :no' || :yes", ["yes"]),
        ("SELECT E'a\\' :no' || :yes", ["yes"]),
        ("SELECT e'\\\\' || :yes", ["yes"]),
        ("SELECT 'x\\' || :yes", ["yes"]),  # standard strings: backslash is a plain char
        ('SELECT ":no" FROM t WHERE a = :a', ["a"]),
        ('SELECT "a "":no" FROM t', []),
        ("SELECT 1 -- :no\n, :yes", ["yes"]),
        ("SELECT /* :no */ :yes", ["yes"]),
        ("SELECT /* outer /* :no */ still :no */ :yes", ["yes"]),
        ("SELECT $$ :no $$, :yes", ["yes"]),
        ("SELECT $fn$ it's :no $x$ $fn$, :yes", ["yes"]),
        ("SELECT $1, :yes", ["yes"]),
        ("SELECT a$b, :yes", ["yes"]),
        ("SELECT f(x := 1), :yes", ["yes"]),
        ("SELECT :1, ::, :", []),
        ("SELECT 'unterminated :no", []),
        ("SELECT /* unterminated :no", []),
        ("SELECT $$ unterminated :no", []),
        ("SELECT :a, :a", ["a", "a"]),
        ("SELECT arr[1:2]", []),
    ],
)
def test_parameters_found_only_in_code(sql: str, expected: list[str]) -> None:
    assert names(sql) == expected


def test_render_positional_and_percent_escaping() -> None:
    sql = "SELECT '50%' || :a WHERE b LIKE '%x' AND c = :a::int"
    found = scan(sql).params
    assert render(sql, found, "%s", escape_percent=True) == (
        "SELECT '50%%' || %s WHERE b LIKE '%%x' AND c = %s::int"
    )
    assert render(sql, found, "?", escape_percent=False) == (
        "SELECT '50%' || ? WHERE b LIKE '%x' AND c = ?::int"
    )


def test_blocks_docs_and_statements() -> None:
    text = """-- header comment, ignored

-- name: first :many Trade
-- Line one of the doc.
-- Line two.
SELECT id
FROM trades
WHERE symbol = :symbol; -- trailing comment

-- name: second :exec
DELETE FROM trades;
"""
    first, second = parse_sql_text(text, "t.sql")
    assert (first.name, first.cardinality, first.model) == ("first", Cardinality.MANY, "Trade")
    assert first.doc == "Line one of the doc.\nLine two."
    assert first.where == "t.sql:3"
    assert first.sql.startswith("SELECT id\nFROM trades\nWHERE symbol = :symbol")
    assert ";" not in first.sql
    assert first.param_names == ("symbol",)
    assert (second.name, second.cardinality, second.model, second.line) == (
        "second",
        Cardinality.EXEC,
        None,
        10,
    )


def test_semicolon_inside_string_is_not_the_end() -> None:
    (block,) = parse_sql_text("-- name: x :scalar\nSELECT ';' || :a;\n")
    assert block.sql == "SELECT ';' || :a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: x :many\n-- name: x :many\nSELECT 1;", r"f\.sql:1: query x has no statement"),
        ("-- name: x :one\nSELECT 1;\n-- name: x :one\nSELECT 2;", r"f\.sql:3: duplicate .*'x'"),
        ("-- name: x :lots\nSELECT 1;", r"f\.sql:1: query x: unknown cardinality ':lots'"),
        ("-- name: x\nSELECT 1;", r"f\.sql:1: malformed name line"),
        ("-- name: 9x :one\nSELECT 1;", r"f\.sql:1: query name '9x'"),
        ("-- name: x :one\nSELECT 1", r"f\.sql:1: query x: the statement must end with ';'"),
        ("-- name: x :one\nSELECT 1; SELECT 2;", r"f\.sql:1: query x: one statement per block"),
        ("-- name: x :exec Trade\nDELETE FROM t;", r"f\.sql:1: query x: a row model only fits"),
        ("SELECT 1;\n-- name: x :one\nSELECT 1;", r"f\.sql:1: SQL outside a '-- name:' block"),
    ],
)
def test_malformed_files(text: str, message: str) -> None:
    with pytest.raises(SqlFileError, match=message):
        parse_sql_text(text, "f.sql")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SqlFileError, match="cannot read SQL file"):
        parse_sql_file(tmp_path / "missing.sql")


def test_copy_target() -> None:
    (block,) = parse_sql_text(
        "-- name: load :copyfrom\nINSERT INTO fills (a, b)\nVALUES (:x, :y);\n", "c.sql"
    )
    target = copy_target(block)
    assert (target.table, target.columns, target.params) == ("fills", ("a", "b"), ("x", "y"))


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO t (a, b) VALUES (:a, now())",
        "INSERT INTO t (a) VALUES (:a, :b)",
        "UPDATE t SET a = :a",
    ],
)
def test_copy_target_rejects_other_shapes(statement: str) -> None:
    (block,) = parse_sql_text(f"-- name: load :copyfrom\n{statement};\n", "c.sql")
    with pytest.raises(SqlFileError, match=r"c\.sql:1: query load :copyfrom"):
        copy_target(block)


# -- fuzz -------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["'", "''", '"', "E'", "\\", "--", "\n", "/*", "*/", "$", "$$", "$t$", ":", "::", ";", "%"]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=40).map("".join)

# Each opaque context with a poisoned parameter name inside it.
_OPAQUE = st.sampled_from(
    [
        "':poison'",
        "'it''s :poison'",
        "E'\\' :poison'",
        '":poison"',
        "-- :poison\n",
        "/* :poison /* :poison */ :poison */",
        "$$ :poison $$",
        "$tag$ ' :poison $tag$",
    ]
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_fuzz_never_crashes(sql: str) -> None:
    found = scan(sql)
    for p in found.params:
        assert sql[p.start : p.end] == ":" + p.name
    render(sql, found.params, "%s", escape_percent=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_OPAQUE, st.sampled_from([" :p ", " x ", "::int ", " 1 "]))))
def test_fuzz_never_finds_parameters_in_strings_or_comments(parts: list[str]) -> None:
    sql = "SELECT " + " ".join(parts)
    found = names(sql)
    assert "poison" not in found
    assert found == ["p"] * sum(part == " :p " for part in parts)


@pytest.mark.parametrize(
    ("card", "model_ok"),
    [
        ("execlastid", False),
        ("batchexec", False),
        ("batchone", True),
        ("batchmany", True),
    ],
)
def test_sqlc_cardinalities_and_row_models(card: str, model_ok: bool) -> None:
    (block,) = parse_sql_text(f"-- name: x :{card}\nINSERT INTO t (a)\nVALUES (:a);\n", "f.sql")
    assert block.cardinality == Cardinality(card)
    text = f"-- name: x :{card} Trade\nINSERT INTO t (a)\nVALUES (:a);\n"
    if model_ok:
        assert parse_sql_text(text, "f.sql")[0].model == "Trade"
    else:
        with pytest.raises(
            SqlFileError, match=r"f\.sql:1: query x: a row model only fits :one, .*:batchmany"
        ):
            parse_sql_text(text, "f.sql")

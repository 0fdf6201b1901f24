"""The SQL-file parser: tricky tokens, block structure, and load-time errors with file:line."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from tradestore import Pool, load_queries
from tradestore.errors import SqlFileError
from tradestore.queries.sqlfile import (
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
        # array slices: inside a subscript `:` is the slice colon, never a parameter
        ("SELECT (ARRAY[1,2,3,4])[2:n] FROM (SELECT 3 AS n) t", []),
        ("SELECT arr[1:NULL], arr[:n::int], arr[1: n], f(x)[lo:hi], t.a[1][2:n]", []),
        ('SELECT "a"[lo:hi], :p[lo:hi], $1[lo:hi]', ["p"]),
        ("SELECT arr[(:i)], arr[(:lo):(:hi)], arr[f(:j):n]", ["i", "lo", "hi", "j"]),
        # array constructors and type brackets are no subscripts: parameters as written
        ("SELECT ARRAY[:a, :b], array [[:c], [:d]], ARRAY[x[1:n], :e]", ["a", "b", "c", "d", "e"]),
        ("SELECT CAST(:keys AS BIGINT[]), x::int[] = :y, '{1}'::int[][1:n]", ["keys", "y"]),
        # PostgreSQL's identifiers: non-ASCII letters, `$` inside a word, dollar-quote tags
        ("SELECT $ω$ratio a:b$ω$, :yes", ["yes"]),
        ("SELECT $é1$ :no $é1$, $_$ :no $_$, :yes", ["yes"]),
        ("SELECT é$x$, :id", ["id"]),
        ("SELECT a$$b$$, :id", ["id"]),
        ("SELECT x1$a$ :yes", ["yes"]),
        ("SELECT éE'\\' || :x", ["x"]),  # `éE` is one word: a standard string, not E'..'
        ("SELECT :prénom, :Ωmega, :名前", ["prénom", "Ωmega", "名前"]),
        ("SELECT :pre\u0301nom", ["prénom"]),  # NFKC, as Python normalizes identifiers
        ("SELECT :a$b, :a€", ["a$b", "a€"]),  # one name each (refused at load, see below)
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


# -- statements with `;` inside, and where a block starts -----------------------------------

_ATOMIC = """CREATE FUNCTION add_one(x INTEGER) RETURNS INTEGER
LANGUAGE sql
BEGIN ATOMIC
    SELECT CASE WHEN x IS NULL THEN NULL ELSE x + 1 END;
END"""
_RULE = "CREATE RULE t_delete AS ON DELETE TO t\nDO INSTEAD (DELETE FROM a; DELETE FROM b)"
_TRIGGER = """CREATE TEMP TRIGGER orders_logged AFTER INSERT ON orders
BEGIN
    INSERT INTO order_log (order_id, size)
    VALUES (new.id, CASE WHEN new.qty > 100 THEN 'big' ELSE 'small' END);
    UPDATE order_log SET size = upper(size) WHERE order_id = new.id;
END"""
_PLPGSQL = """CREATE OR REPLACE PROCEDURE p()
LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM 1; -- begin; end;
END
$body$"""


@pytest.mark.parametrize("statement", [_ATOMIC, _RULE, _TRIGGER, _PLPGSQL])
def test_one_statement_with_semicolons_inside(statement: str) -> None:
    text = f"-- name: make :exec\n{statement};\n\n-- name: after :scalar\nSELECT :x;\n"
    make, after = parse_sql_text(text, "f.sql")
    assert make.sql == statement
    assert (after.name, after.line, after.param_names) == (
        "after",
        statement.count("\n") + 4,
        ("x",),
    )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT id,\n-- name: the label, as the user typed it\n    label\nFROM t",
        "SELECT '\n-- name: inside :one\n' AS s",
        "SELECT $$\n-- name: inside :one\n$$ AS s",
        "CREATE FUNCTION f() RETURNS INT AS $fn$\n-- name: inner :one\nSELECT 1\n$fn$ LANGUAGE sql",
        "SELECT 1 /*\n-- name: inside :one\n*/",
        'SELECT "a\n-- name: inside :one\n" FROM t',
    ],
)
def test_name_line_inside_a_statement_starts_no_block(statement: str) -> None:
    text = f"-- name: only :many\n{statement};\n-- name: next :one\nSELECT 2;\n"
    only, following = parse_sql_text(text, "f.sql")
    assert only.sql == statement
    assert (following.name, following.line) == ("next", statement.count("\n") + 3)


@pytest.mark.parametrize("blank", ["\u00a0", "\x85", "\u2028", "\u3000", "\x1c"])
def test_invisible_blanks_between_blocks_are_blank(blank: str) -> None:
    text = f"{blank}\n-- name: a :one\nSELECT 1;{blank}\n{blank}\n-- name: b :one\nSELECT 2;"
    assert [(b.name, b.sql, b.line) for b in parse_sql_text(text, "f.sql")] == [
        ("a", "SELECT 1", 2),
        ("b", "SELECT 2", 5),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "-- name: a :one\nSELECT 1,\n    2\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:4: this '-- name:' line is inside the statement that starts at f\.sql:2, "
            r"which has no ';' yet: end that statement with ';' first, or, if this line is a "
            r"comment inside it, do not write it as a block header$",
        ),
        (
            "-- name: a :one\n-- doc\nSELECT (1,\n  2;\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:5: .* starts at f\.sql:3, .*\(the '\(' at f\.sql:3 is still open\)",
        ),
        (
            "-- name: a :exec\n" + _ATOMIC.replace("\nEND", "") + ";\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:6: .* starts at f\.sql:2, .*\(the BEGIN at f\.sql:4 is still open\)",
        ),
        (
            "-- name: a :one\nSELECT $$ 1;\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:1: query a: the statement must end with ';' "
            r"\(the \$\$ quote at f\.sql:2 is never closed\)$",
        ),
        (
            "-- name: a :one\nSELECT 'it;s\n\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:1: .* \(the 'string' at f\.sql:2 is never closed\)$",
        ),
        (
            "-- name: a :one\nSELECT 1 /* see;\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:1: .* \(the /\* comment at f\.sql:2 is never closed\)$",
        ),
        (
            "-- name: a :one\nSELECT 1;\n\nSELECT 2;\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:1: query a: one statement per block .*second statement starts at f\.sql:4\)$",
        ),
        (
            "-- name: a :one\nSELECT 1;\nSELECT 2\n-- name: b :one\nSELECT 2;",
            r"^f\.sql:4: .* starts at f\.sql:3, which has no ';' yet",
        ),
        (
            "-- name: a :one\nSELECT :a$b;",
            r"^f\.sql:2: query a: parameter ':a\$b' is not a Python identifier",
        ),
        (
            "-- name: a :one\nSELECT 1\n  + :a€;",
            r"^f\.sql:3: query a: parameter ':a€' is not a Python identifier",
        ),
        ("SELECT 1\n-- name: a :one\nSELECT 1;", r"^f\.sql:1: SQL outside a '-- name:' block$"),
    ],
)
def test_errors_name_the_right_line(text: str, message: str) -> None:
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


@settings(max_examples=examples(300), deadline=None)
@given(_TEXT)
def test_fuzz_never_crashes(sql: str) -> None:
    found = scan(sql)
    for p in found.params:
        assert sql[p.start] == ":"
        assert unicodedata.normalize("NFKC", sql[p.start + 1 : p.end]) == p.name
    render(sql, found.params, "%s", escape_percent=True)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.one_of(_OPAQUE, st.sampled_from([" :p ", " x ", "::int ", " 1 "]))))
def test_fuzz_never_finds_parameters_in_strings_or_comments(parts: list[str]) -> None:
    sql = "SELECT " + " ".join(parts)
    found = names(sql)
    assert "poison" not in found
    assert found == ["p"] * sum(part == " :p " for part in parts)


# Statements as token streams: every token is either text the renderer must leave byte for
# byte (words incl. non-ASCII and `$`, strings, quoted names, comments, dollar quotes, casts,
# slices, constructors, `%`) or holds parameters. Joined with blanks, so tokens never merge.
_INERT_TOKENS = st.sampled_from(
    [
        "SELECT", "a$b", "é$x$", "ω", "prénom", "t.col", "1", "1.5e3", "+", ",", "%", "=",
        "'it''s :no'", "E'\\' :no'", "'50%'", '":no"', "-- :no ; '\n", "/* :no /* ; */ */",
        "$$ :no ; $$", "$ω$ a:b $ω$", "$fn$ ' $x$ :no $fn$", "::int", "::numeric(20,8)[]",
        "arr[1:n]", "(ARRAY[1,2])[:n::int]", "arr[1:NULL]", "f(x)[lo: hi]", "ARRAY[[1], [2]]",
        "(1; 2)", "$1",
    ]
)  # fmt: skip
# (token, its parameter names, its psycopg rendering)
_PARAM_TOKENS = st.sampled_from(
    [
        (":p", ("p",), "%s"),
        (":prénom", ("prénom",), "%s"),
        (":名前", ("名前",), "%s"),
        ("(:q)", ("q",), "(%s)"),
        ("ARRAY[:a, :b]", ("a", "b"), "ARRAY[%s, %s]"),
        ("x[(:i)]", ("i",), "x[(%s)]"),
    ]
)
_TOKENS = st.one_of(_INERT_TOKENS.map(lambda t: (t, (), t.replace("%", "%%"))), _PARAM_TOKENS)


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(_TOKENS, max_size=30))
def test_render_replaces_parameters_and_nothing_else(
    tokens: list[tuple[str, tuple[str, ...], str]],
) -> None:
    sql = " ".join(text for text, _, _ in tokens)
    found = scan(sql).params
    assert [p.name for p in found] == [name for _, names, _ in tokens for name in names]
    rendered = render(sql, found, "%s", escape_percent=True)
    assert rendered == " ".join(psycopg for _, _, psycopg in tokens)
    if not found:  # without parameters a statement goes out exactly as written
        assert render(sql, found, "?", escape_percent=False) == sql


# Files as blocks: each statement may hide `-- name:` lines (and `;`) in a string, a dollar
# quote, a block comment, a comment line that is no block header, or a BEGIN ATOMIC body.
_HIDING = st.sampled_from(
    [
        "SELECT 1",
        "SELECT '\n-- name: fake :one\n;'",
        "SELECT $$\n-- name: fake :one\n;$$",
        "SELECT 1 /*\n-- name: fake :one\n; */",
        "SELECT a,\n-- name: a column, not a block\n    b\nFROM t",
        "CREATE FUNCTION f() RETURNS INTEGER LANGUAGE sql\nBEGIN ATOMIC\n    SELECT 1;\nEND",
        "CREATE RULE r AS ON DELETE TO t DO INSTEAD (DELETE FROM a; DELETE FROM b)",
    ]
)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(_HIDING, st.sampled_from(["", "\n", "\n-- trailing\n"])), max_size=8))
def test_blocks_split_only_between_statements(statements: list[tuple[str, str]]) -> None:
    text = "".join(
        f"-- name: q{n} :exec\n-- doc {n}\n{sql};{tail}\n"
        for n, (sql, tail) in enumerate(statements)
    )
    blocks = parse_sql_text(text, "f.sql")
    assert [(b.name, b.doc, b.sql) for b in blocks] == [
        (f"q{n}", f"doc {n}", (sql + tail).rstrip()) for n, (sql, tail) in enumerate(statements)
    ]
    assert [text.split("\n")[b.line - 1] for b in blocks] == [
        f"-- name: {b.name} :exec" for b in blocks
    ]


# -- on real databases: load each file (both dialects' variants) and run it where it is SQL ---

_SLICES = """-- name: slice_columns :scalar
SELECT (ARRAY[1, 2, 3, 4])[2:n] FROM (SELECT 3 AS n) AS t;

-- name: slice_null :scalar
SELECT (ARRAY[1, 2, 3, 4])[1:NULL];

-- name: slice_cast :scalar
SELECT (ARRAY[1, 2, 3, 4])[:n::int] FROM (SELECT '2' AS n) AS t;

-- name: slice_spaced :scalar
SELECT (ARRAY[1, 2, 3, 4])[1: n] FROM (SELECT 3 AS n) AS t;

-- name: slice_params :scalar
SELECT (ARRAY[10, 20, 30, 40])[(:lo):(:hi)];

-- name: constructor :scalar
SELECT ARRAY[CAST(:a AS INTEGER), CAST(:b AS INTEGER)];
"""
_DOLLAR_TAGS = """-- name: tagged :scalar
SELECT $ω$ratio a:b$ω$;
"""
_NON_ASCII = """-- name: word_then_tag :one
SELECT v AS é$x$, CAST(:id AS INTEGER) AS id FROM (SELECT 1 AS v) AS t;

-- name: greet :scalar
SELECT CAST(:prénom AS TEXT);

-- name: greet_decomposed :scalar
SELECT CAST(:pre\u0301nom AS TEXT);
"""
_ATOMIC_FILE = f"""-- name: create_add_one :exec
{_ATOMIC};

-- name: add_one :scalar
SELECT add_one(CAST(:x AS INTEGER));
"""
_RULE_FILE = """-- name: create_t :exec
CREATE TABLE t (id INTEGER);

-- name: create_a :exec
CREATE TABLE a (id INTEGER);

-- name: create_b :exec
CREATE TABLE b (id INTEGER);

-- name: fill_a :exec
INSERT INTO a (id) VALUES (1);

-- name: fill_b :exec
INSERT INTO b (id) VALUES (2);

-- name: create_rule :exec
CREATE RULE t_delete AS ON DELETE TO t
DO INSTEAD (DELETE FROM a; DELETE FROM b);

-- name: purge :exec
DELETE FROM t;

-- name: left_over :scalar
SELECT (SELECT COUNT(*) FROM a) + (SELECT COUNT(*) FROM b);
"""
# Plain (not TEMP) objects: the pool drops a connection that holds temp objects on return, so
# a temp table made by one pooled call is gone for the next one.
_TRIGGER_FILE = f"""-- name: create_orders :exec
CREATE TABLE orders (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL);

-- name: create_log :exec
CREATE TABLE order_log (order_id INTEGER, size TEXT);

-- name: create_trigger :exec
{_TRIGGER.replace("CREATE TEMP TRIGGER", "CREATE TRIGGER")};

-- name: add_order :exec
INSERT INTO orders (id, qty) VALUES (:id, :qty);

-- name: order_log :many
SELECT order_id, size FROM order_log ORDER BY order_id;
"""
_NAME_LINES = """-- name: labels :many
SELECT id,
-- name: the label, as the user typed it
    label
FROM (SELECT 1 AS id, 'x' AS label) AS t
WHERE id = :id;

-- name: quoted :scalar
SELECT '
-- name: fake :one
';
"""
_NAME_LINE_IN_BODY = """-- name: create_answer :exec
CREATE FUNCTION answer() RETURNS INTEGER LANGUAGE sql AS $$
-- name: inner :one
SELECT 42
$$;

-- name: answer :scalar
SELECT answer();
"""

_BOTH = ("sqlite", "postgresql")
_PG = ("postgresql",)
_SQLITE = ("sqlite",)
# (file, where it is valid SQL, calls in order, what the last call returns)
_Run = tuple[str, tuple[str, ...], list[tuple[str, dict[str, Any]]], Any]
_RUNS: dict[str, _Run] = {
    "slice_columns": (_SLICES, _PG, [("slice_columns", {})], [2, 3]),
    "slice_null": (_SLICES, _PG, [("slice_null", {})], None),
    "slice_cast": (_SLICES, _PG, [("slice_cast", {})], [1, 2]),
    "slice_spaced": (_SLICES, _PG, [("slice_spaced", {})], [1, 2, 3]),
    "slice_params": (_SLICES, _PG, [("slice_params", {"lo": 2, "hi": 3})], [20, 30]),
    "constructor": (_SLICES, _PG, [("constructor", {"a": 1, "b": 2})], [1, 2]),
    "dollar_tag": (_DOLLAR_TAGS, _PG, [("tagged", {})], "ratio a:b"),
    "word_then_tag": (_NON_ASCII, _BOTH, [("word_then_tag", {"id": 7})], {"é$x$": 1, "id": 7}),
    "prénom": (_NON_ASCII, _BOTH, [("greet", {"prénom": "Zoé"})], "Zoé"),
    "prénom_nfd": (_NON_ASCII, _BOTH, [("greet_decomposed", {"prénom": "Zoé"})], "Zoé"),
    "begin_atomic": (
        _ATOMIC_FILE,
        _PG,
        [("create_add_one", {}), ("add_one", {"x": 41})],
        42,
    ),
    "rule": (
        _RULE_FILE,
        _PG,
        [
            (name, {})
            for name in (
                "create_t",
                "create_a",
                "create_b",
                "fill_a",
                "fill_b",
                "create_rule",
                "purge",
                "left_over",
            )
        ],
        0,
    ),
    "trigger": (
        _TRIGGER_FILE,
        _SQLITE,
        [
            ("create_orders", {}),
            ("create_log", {}),
            ("create_trigger", {}),
            ("add_order", {"id": 1, "qty": 500}),
            ("add_order", {"id": 2, "qty": 5}),
            ("order_log", {}),
        ],
        [{"order_id": 1, "size": "BIG"}, {"order_id": 2, "size": "SMALL"}],
    ),
    "name_line_in_statement": (
        _NAME_LINES,
        _BOTH,
        [("labels", {"id": 1})],
        [{"id": 1, "label": "x"}],
    ),
    "name_line_in_string": (_NAME_LINES, _BOTH, [("quoted", {})], "\n-- name: fake :one\n"),
    "name_line_in_body": (
        _NAME_LINE_IN_BODY,
        _PG,
        [("create_answer", {}), ("answer", {})],
        42,
    ),
}


@pytest.mark.parametrize(
    ("case", "backend"),
    [(case, backend) for case, (_, where, _, _) in _RUNS.items() for backend in where],
)
def test_statement_loads_and_runs(
    case: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    text, _, calls, expected = _RUNS[case]
    (tmp_path / "q.sql").write_text(text, encoding="utf-8")
    queries = load_queries(tmp_path, echo=False, slow_query_ms=None)
    url = request.getfixturevalue("pg_url" if backend == "postgresql" else "sqlite_url")
    with Pool(url, min_size=1, max_size=1) as pool:
        results = [getattr(queries, name)(pool, **params) for name, params in calls]
    assert results[-1] == expected


@pytest.mark.parametrize("case", list(_RUNS))
def test_statement_loads_for_both_dialects(case: str, tmp_path: Path) -> None:
    """Where a statement is not SQL on one backend, loading it still renders both variants."""
    text, _, calls, _ = _RUNS[case]
    (tmp_path / "q.sql").write_text(text, encoding="utf-8")
    queries = load_queries(tmp_path, echo=False, slow_query_ms=None)
    for name, params in calls:
        query = getattr(queries, name)
        assert set(query.variants) == {"postgresql", "sqlite"}
        assert set(query.param_names) == set(params)
    assert "inner" not in queries
    assert "fake" not in queries


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

"""Parse named SQL files: `-- name:` blocks, their doc comments, statements and `:parameters`.

Knows nothing of connections. The parameter finder is a tokenizer, not a regex: it steps
over ``'strings'`` (``''`` escapes), ``E'..'`` (backslash escapes), ``"identifiers"``,
``-- comments``, nested ``/* comments */``, ``$tag$ bodies $tag$`` and ``::casts``, so none
of those is ever mistaken for a parameter. Unterminated quotes or comments simply run to the
end of the text: the tokenizer never raises, the database reports the syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tradestore.errors import SqlFileError

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | frozenset("0123456789")
_NAME_LINE = re.compile(r"^--\s*name\s*:")
_NAME_SPEC = re.compile(
    r"^--\s*name\s*:\s*(?P<name>\S+)\s+:(?P<card>\S+)(?:\s+(?P<model>\S+))?\s*$"
)
_PY_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Cardinality(StrEnum):
    """What a query returns; sqlc's words where they fit."""

    ONE = "one"
    MANY = "many"
    ITER = "iter"
    SCALAR = "scalar"
    EXEC = "exec"
    EXECROWS = "execrows"
    EXECLASTID = "execlastid"
    COPYFROM = "copyfrom"
    BATCHEXEC = "batchexec"
    BATCHONE = "batchone"
    BATCHMANY = "batchmany"


#: The cardinalities that return rows, so may name a row model (in this order in messages).
ROW_CARDINALITIES = frozenset(
    {
        Cardinality.ONE,
        Cardinality.MANY,
        Cardinality.ITER,
        Cardinality.BATCHONE,
        Cardinality.BATCHMANY,
    }
)
#: Called with an iterable of parameter sets instead of keyword parameters.
BATCH_CARDINALITIES = frozenset(
    {Cardinality.BATCHEXEC, Cardinality.BATCHONE, Cardinality.BATCHMANY}
)


@dataclass(frozen=True)
class Param:
    """One `:name` occurrence: its name and its [start, end) offsets in the statement."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Scan:
    """What the tokenizer found: parameter occurrences and top-level `;` offsets."""

    params: tuple[Param, ...]
    semicolons: tuple[int, ...]
    #: Offset just past the last code character (comments and blanks excluded).
    last_code: int


def _skip_quoted(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    """Return the offset just past the closing `quote` (doubled quotes escape), or len(sql)."""
    n = len(sql)
    while i < n:
        ch = sql[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _skip_block_comment(sql: str, i: int) -> int:
    """`i` points just past the opening ``/*``; comments nest as in PostgreSQL."""
    n = len(sql)
    depth = 1
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _dollar_tag(sql: str, i: int) -> str | None:
    """The ``$tag$`` starting at `i`, or None (``$1`` positional parameters are not tags)."""
    j = i + 1
    n = len(sql)
    if j < n and sql[j] == "$":
        return "$$"
    if j >= n or sql[j] not in _IDENT_START:
        return None
    while j < n and sql[j] in _IDENT_CHARS:
        j += 1
    if j < n and sql[j] == "$":
        return sql[i : j + 1]
    return None


def scan(sql: str) -> Scan:  # noqa: PLR0912  (one branch per token kind reads best)
    """Tokenize `sql` just enough to find `:name` parameters and statement-ending `;`."""
    params: list[Param] = []
    semicolons: list[int] = []
    n = len(sql)
    i = 0
    last_code = 0
    while i < n:
        ch = sql[i]
        if ch == "'":
            prev = sql[i - 1] if i else ""
            escaped = prev in ("e", "E") and (i < 2 or sql[i - 2] not in _IDENT_CHARS)
            i = _skip_quoted(sql, i + 1, "'", backslash=escaped)
            last_code = i
        elif ch == '"':
            i = _skip_quoted(sql, i + 1, '"', backslash=False)
            last_code = i
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and sql.startswith("/*", i):
            i = _skip_block_comment(sql, i + 2)
        elif ch == "$" and (i == 0 or sql[i - 1] not in _IDENT_CHARS):
            tag = _dollar_tag(sql, i)
            if tag is None:
                i += 1
            else:
                end = sql.find(tag, i + len(tag))
                i = n if end < 0 else end + len(tag)
            last_code = i
        elif ch == ":":
            if sql.startswith("::", i):
                i += 2
                last_code = i
                continue
            j = i + 1
            if j < n and sql[j] in _IDENT_START:
                while j < n and sql[j] in _IDENT_CHARS:
                    j += 1
                params.append(Param(sql[i + 1 : j], i, j))
            i = j
            last_code = i
        elif ch == ";":
            semicolons.append(i)
            i += 1
            last_code = i
        else:
            if not ch.isspace():
                last_code = i + 1
            i += 1
    return Scan(tuple(params), tuple(semicolons), last_code)


def render(sql: str, params: tuple[Param, ...], placeholder: str, *, escape_percent: bool) -> str:
    """Replace every parameter occurrence by `placeholder`; double `%` for psycopg."""
    out: list[str] = []
    pos = 0
    for p in params:
        chunk = sql[pos : p.start]
        out.append(chunk.replace("%", "%%") if escape_percent else chunk)
        out.append(placeholder)
        pos = p.end
    tail = sql[pos:]
    out.append(tail.replace("%", "%%") if escape_percent else tail)
    return "".join(out)


@dataclass(frozen=True)
class SqlBlock:
    """One named statement as written in its file (the `;` removed)."""

    name: str
    cardinality: Cardinality
    model: str | None
    doc: str
    sql: str
    params: tuple[Param, ...]
    path: str
    line: int

    @property
    def where(self) -> str:
        """``file:line`` of the block's name line, for every message about it."""
        return f"{self.path}:{self.line}"

    @property
    def param_names(self) -> tuple[str, ...]:
        """Distinct parameter names in order of first use."""
        return tuple(dict.fromkeys(p.name for p in self.params))


def _finish_block(
    path: str, line: int, spec: re.Match[str], doc: list[str], body: list[str]
) -> SqlBlock:
    name, card, model = spec["name"], spec["card"], spec["model"]
    where = f"{path}:{line}"
    if not _PY_IDENT.match(name) or name.startswith("_"):
        raise SqlFileError(f"{where}: query name {name!r} is not a usable Python identifier")
    try:
        cardinality = Cardinality(card)
    except ValueError:
        allowed = " ".join(f":{c.value}" for c in Cardinality)
        raise SqlFileError(
            f"{where}: query {name}: unknown cardinality ':{card}' (one of {allowed})"
        ) from None
    if model is not None and not _PY_IDENT.match(model):
        raise SqlFileError(f"{where}: query {name}: model {model!r} is not a class name")
    if model is not None and cardinality not in ROW_CARDINALITIES:
        fits = ", ".join(f":{c.value}" for c in Cardinality if c in ROW_CARDINALITIES)
        raise SqlFileError(
            f"{where}: query {name}: a row model only fits {fits}, not :{cardinality.value}"
        )
    text = "\n".join(body).strip()
    found = scan(text)
    if not text or found.last_code == 0:
        raise SqlFileError(f"{where}: query {name} has no statement")
    if not found.semicolons or found.semicolons[-1] + 1 != found.last_code:
        raise SqlFileError(f"{where}: query {name}: the statement must end with ';'")
    if len(found.semicolons) > 1:
        raise SqlFileError(f"{where}: query {name}: one statement per block (found several ';')")
    statement = text[: found.semicolons[-1]] + text[found.semicolons[-1] + 1 :]
    statement = statement.rstrip()
    params = scan(statement).params
    return SqlBlock(name, cardinality, model, "\n".join(doc).strip(), statement, params, path, line)


def parse_sql_text(text: str, path: str = "<string>") -> list[SqlBlock]:
    """Parse the blocks of one file's text; `path` only labels messages (file:line)."""
    blocks: list[SqlBlock] = []
    spec: re.Match[str] | None = None
    spec_line = 0
    doc: list[str] = []
    body: list[str] = []
    in_doc = False
    # Only a newline ends a line, as in editors and `sed -n Np`: str.splitlines() also splits
    # at \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029, which put every later file:line off.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if _NAME_LINE.match(stripped):
            if spec is not None:
                blocks.append(_finish_block(path, spec_line, spec, doc, body))
            spec = _NAME_SPEC.match(stripped)
            if spec is None:
                raise SqlFileError(
                    f"{path}:{number}: malformed name line, expected "
                    "'-- name: NAME :CARDINALITY [Model]'"
                )
            spec_line, doc, body, in_doc = number, [], [], True
            continue
        if spec is None:
            if stripped and not stripped.startswith("--"):
                raise SqlFileError(f"{path}:{number}: SQL outside a '-- name:' block")
            continue
        if in_doc and stripped.startswith("--"):
            doc.append(stripped[2:].strip())
            continue
        in_doc = False
        body.append(raw)
    if spec is not None:
        blocks.append(_finish_block(path, spec_line, spec, doc, body))
    seen: dict[str, SqlBlock] = {}
    for block in blocks:
        first = seen.get(block.name)
        if first is not None:
            raise SqlFileError(
                f"{block.where}: duplicate query name {block.name!r} (first at {first.where})"
            )
        seen[block.name] = block
    return blocks


def parse_sql_file(path: Path) -> list[SqlBlock]:
    """Parse one ``.sql`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SqlFileError(f"{path}: cannot read SQL file: {exc}") from exc
    return parse_sql_text(text, str(path))


_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<table>[A-Za-z_][\w.]*|\"[^\"]+\")\s*"
    r"\((?P<cols>[^()]*)\)\s*VALUES\s*\((?P<vals>[^()]*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class CopyTarget:
    """Table and columns of a :copyfrom block, and which parameter fills each column."""

    table: str
    columns: tuple[str, ...]
    params: tuple[str, ...]


def copy_target(block: SqlBlock) -> CopyTarget:
    """Derive COPY's table and columns from ``INSERT INTO t (cols) VALUES (:a, :b, ...)``."""
    match = _INSERT.match(block.sql)
    if match is None:
        raise SqlFileError(
            f"{block.where}: query {block.name} :copyfrom must be exactly "
            "'INSERT INTO table (col, ...) VALUES (:param, ...);'"
        )
    cols = tuple(c.strip() for c in match["cols"].split(","))
    vals = [v.strip() for v in match["vals"].split(",")]
    names: list[str] = []
    for value in vals:
        if not (value.startswith(":") and _PY_IDENT.match(value[1:])):
            raise SqlFileError(
                f"{block.where}: query {block.name} :copyfrom values must be plain :params, "
                f"got {value!r}"
            )
        names.append(value[1:])
    if len(cols) != len(names) or not all(cols):
        raise SqlFileError(
            f"{block.where}: query {block.name} :copyfrom lists {len(cols)} columns "
            f"but {len(names)} values"
        )
    return CopyTarget(match["table"], cols, tuple(names))

"""Parse named SQL files: `-- name:` blocks, their doc comments, statements and `:parameters`.

Knows nothing of connections. The parameter finder and the statement splitter are a
tokenizer (`tradestore.queries.scan`), not a regex: strings, quoted names, comments, dollar
quotes, casts and slices are never mistaken for parameters, and a block's boundaries come
from the tokenizer's state, so a ``-- name:`` line inside a string, a ``$$`` body or a
statement never starts a block.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tradestore.errors import SqlFileError
from tradestore.queries.scan import Opening, Param, Scan, scan

__all__ = [
    "ROW_CARDINALITIES",
    "Cardinality",
    "CopyTarget",
    "Param",
    "Scan",
    "SqlBlock",
    "copy_target",
    "parse_sql_file",
    "parse_sql_text",
    "render",
    "scan",
]

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


class _Lines:
    """Line numbers of offsets in one file's text (1-based, a newline ends a line)."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect_right(self._starts, offset)

    def where(self, offset: int) -> str:
        return f"{self.path}:{self.at(offset)}"


def _describe(lines: _Lines, opening: Opening, base: int, state: str) -> str:
    return f"the {opening.what} at {lines.where(base + opening.offset)} {state}"


def _check_spec(where: str, spec: re.Match[str]) -> tuple[str, Cardinality, str | None]:
    name, card, model = spec["name"], spec["card"], spec["model"]
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
    return name, cardinality, model


@dataclass(frozen=True)
class _Header:
    """A block's ``-- name:`` line: its parsed spec, its offset, where the block's text starts."""

    spec: re.Match[str]
    offset: int
    body: int


def _finish_block(text: str, lines: _Lines, header: _Header, end: int) -> SqlBlock:
    """The block of `header`: its doc comment and its statement fill ``text[header.body:end]``."""
    line = lines.at(header.offset)
    where = f"{lines.path}:{line}"
    name, cardinality, model = _check_spec(where, header.spec)
    doc: list[str] = []
    pos = header.body
    while pos < end:  # the comment lines right after the name line are the docstring
        eol = text.find("\n", pos, end)
        eol = end if eol < 0 else eol
        stripped = text[pos:eol].strip()
        if not stripped.startswith("--"):
            break
        doc.append(stripped[2:].strip())
        pos = eol + 1
    raw = text[pos:end] if pos < end else ""
    body = raw.strip()
    base = pos + len(raw) - len(raw.lstrip())  # file offset of body[0]
    found = scan(body)
    if not body or found.last_code == 0:
        raise SqlFileError(f"{where}: query {name} has no statement")
    if not found.semicolons or found.semicolons[-1] + 1 != found.last_code:
        unclosed = found.unclosed
        why = f" ({_describe(lines, unclosed, base, 'is never closed')})" if unclosed else ""
        raise SqlFileError(f"{where}: query {name}: the statement must end with ';'{why}")
    if len(found.semicolons) > 1:
        raise SqlFileError(
            f"{where}: query {name}: one statement per block (found several ';'; the second "
            f"statement starts at {lines.where(base + found.statements[1])})"
        )
    semicolon = found.semicolons[-1]
    statement = (body[:semicolon] + body[semicolon + 1 :]).rstrip()
    params = tuple(p for p in found.params if p.start < semicolon)
    for p in params:
        if not p.name.isidentifier():
            raise SqlFileError(
                f"{lines.where(base + p.start)}: query {name}: parameter ':{p.name}' is not a "
                "Python identifier, so no keyword argument can fill it; name it with letters, "
                "digits and '_' only (a '$' or a symbol right after a parameter is part of "
                "its name, as in PostgreSQL: put a space or ')' after the name)"
            )
    return SqlBlock(
        name, cardinality, model, "\n".join(doc).strip(), statement, params, lines.path, line
    )


def parse_sql_text(text: str, path: str = "<string>") -> list[SqlBlock]:
    """Parse the blocks of one file's text; `path` only labels messages (file:line).

    A block starts at a ``-- name:`` line that stands between statements: after the previous
    statement's ``;``, and not inside a string, a quote or a comment. Inside a statement such
    a line is part of the statement (a comment), unless it reads like a complete block
    header: then the statement above it most likely lacks its ``;``, and that is the error.
    """
    # Only a newline ends a line, as in editors and `sed -n Np`: str.splitlines() also splits
    # at \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029, which put every later file:line off.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = _Lines(text, path)
    found = scan(text)
    first_header = found.name_lines[0].offset if found.name_lines else len(text)
    if found.statements and found.statements[0] < first_header:
        raise SqlFileError(f"{lines.where(found.statements[0])}: SQL outside a '-- name:' block")
    blocks: list[SqlBlock] = []
    current: _Header | None = None
    for header in found.name_lines:
        eol = text.find("\n", header.offset)
        eol = len(text) if eol < 0 else eol
        spec = _NAME_SPEC.match(text[header.offset : eol].strip())
        if header.statement_start is not None:
            if spec is None:
                continue  # a comment that happens to start with "-- name:" (see above)
            opened = header.open
            still_open = f" ({_describe(lines, opened, 0, 'is still open')})" if opened else ""
            raise SqlFileError(
                f"{lines.where(header.offset)}: this '-- name:' line is inside the statement "
                f"that starts at {lines.where(header.statement_start)}, which has no ';' yet"
                f"{still_open}: end that statement with ';' first, or, "
                "if this line is a comment inside it, do not write it as a block header"
            )
        if current is not None:
            blocks.append(_finish_block(text, lines, current, header.offset))
        if spec is None:
            raise SqlFileError(
                f"{lines.where(header.offset)}: malformed name line, expected "
                "'-- name: NAME :CARDINALITY [Model]'"
            )
        current = _Header(spec, header.offset, eol + 1)
    if current is not None:
        blocks.append(_finish_block(text, lines, current, len(text)))
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

"""Generate the sync twin of every ``*_async.py`` module: one source for both faces.

(Hand-written async-only modules are named ``*_aio.py``; a twin that does not start with the
generated header is never overwritten.)

The async module is the one written by hand; its sync twin (the same name without
``_async``) is derived from it here, token by token, so comments, docstrings and layout
survive and the generated file reads like the source it came from (psycopg does the same
with an AST transform, ``tools/async_to_sync.py`` in its repository). What changes:

- ``async def`` / ``async with`` / ``async for`` lose ``async``; ``await x`` becomes ``x``;
- names are renamed by `NAMES` (``AsyncPool`` -> ``Pool``, ``__aenter__`` -> ``__enter__``,
  ``asleep`` -> ``sleep``, module ``pool_async`` -> ``pool``, ...), in code and, as whole
  words, in docstrings and comments;
- a block ``if ASYNC:`` keeps only its ``else:`` body (dedented); the condition is the
  constant `tradestore.db._acompat.ASYNC`, true in the source, so both branches type-check.

Usage: ``python tools/async_to_sync.py`` rewrites every twin; ``--check`` fails (exit 1)
naming each twin that differs from what its source gives (CI runs it through the tests).
The output does not depend on any formatter: the same source gives the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "src" / "tradestore"

#: Async name -> sync name. Identifiers are renamed exactly; the same words are renamed in
#: docstrings and comments when they stand alone.
NAMES: dict[str, str] = {
    # the kit's own classes and helpers
    "AsyncPool": "Pool",
    "AsyncConnection": "Connection",
    "AsyncPooledConnection": "PooledConnection",
    "AsyncBackend": "Backend",
    "AsyncDbScope": "DbScope",
    "AsyncLender": "Lender",
    "async_backend_for": "backend_for",
    "AEvent": "Event",
    "asleep": "sleep",
    "aspawn": "spawn",
    "acurrent_owner": "current_owner",
    "AsyncRunner": "Runner",
    "AsyncStream": "Stream",
    "AsyncWork": "Work",
    "AsyncDb": "SyncDb",
    "AsyncCalls": "Calls",
    "amarking_session": "marking_session",
    "not_an_async_runner": "not_a_runner",
    "_acall": "_call",
    "_aiterate": "_iterate",
    "_achecked_out": "_checked_out",
    "_arunners": "_runners",
    "_astreams": "_streams_of",
    # the trading layer
    "AsyncTradeStore": "TradeStore",
    "AsyncRunRecordWrites": "RunRecordWrites",
    "AsyncRunRecordReads": "RunRecordReads",
    "AsyncStoreMaintenance": "StoreMaintenance",
    "AsyncWrite": "Write",
    "AsyncAuditTrail": "AuditTrail",
    "AsyncRepository": "Repository",
    "AsyncAccountRepository": "AccountRepository",
    "AsyncPortfolioRepository": "PortfolioRepository",
    "AsyncOrderRepository": "OrderRepository",
    "AsyncTradeRepository": "TradeRepository",
    "AsyncPositionRepository": "PositionRepository",
    "AsyncRepositories": "Repositories",
    "async_bind_all": "bind_all",
    # modules
    "pool_async": "pool",
    "connection_async": "connection",
    "scope_async": "scope",
    "runners_postgres_async": "runners_postgres",
    "calls_async": "calls",
    "batch_postgres_async": "batch_postgres",
    "postgres_deadline_async": "postgres_deadline",
    "postgres_session_async": "postgres_session",
    "introspect_async": "introspect",
    "backup_aio": "backup",
    "store_async": "store",
    "store_writes_async": "store_writes",
    "store_reads_async": "store_reads",
    "store_maintenance_async": "store_maintenance",
    "audit_async": "audit",
    "retention_async": "retention",
    "_repository_async": "_repository",
    "accounts_async": "accounts",
    "portfolios_async": "portfolios",
    "orders_async": "orders",
    "trades_async": "trades",
    "positions_async": "positions",
    "bundle_async": "bundle",
    # the standard library and psycopg
    "asynccontextmanager": "contextmanager",
    "aclosing": "closing",
    "AsyncIterator": "Iterator",
    "AsyncGenerator": "Generator",
    "AsyncIterable": "Iterable",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "StopAsyncIteration": "StopIteration",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "AsyncCursor": "Cursor",
    "AsyncServerCursor": "ServerCursor",
    "AsyncPipeline": "Pipeline",
    "AsyncCopy": "Copy",
    "aclose": "close",
    "anext": "next",
}
HEADER = (
    "# Generated from {source} by tools/async_to_sync.py: do not edit, edit the async\n"
    "# source and run `make generate` (a test fails while this file is stale).\n"
)
_WORDS = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, NAMES), key=len, reverse=True)) + r")\b"
)


def twins() -> list[tuple[Path, Path]]:
    """Every (async source, sync twin) pair under src/tradestore."""
    return [
        (source, source.with_name(source.name.replace("_async.py", ".py")))
        for source in sorted(SOURCES.rglob("*_async.py"))
    ]


def _drop_async_branches(text: str) -> str:
    """Replace each ``if ASYNC: ... else: ...`` by its else body, dedented to the if."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "ASYNC":
            indent = node.col_offset
            kept: list[str] = []
            if node.orelse:
                first = node.orelse[0].lineno - 1
                # The else body starts on the line after `else:`; keep its comments too.
                start = first
                while start > 0 and lines[start - 1].strip().startswith("#"):
                    start -= 1
                body_indent = node.orelse[0].col_offset
                for line in lines[start : node.orelse[-1].end_lineno]:
                    kept.append(line[body_indent - indent :] if line.strip() else line)
            assert node.end_lineno is not None
            start, end = node.lineno - 1, node.end_lineno
            if not kept:
                # A block dropped whole between blank lines takes the shorter run of them
                # along, so the twin keeps the usual spacing rather than twice of it.
                before = after = 0
                while before < start and not lines[start - before - 1].strip():
                    before += 1
                while end + after < len(lines) and not lines[end + after].strip():
                    after += 1
                if after > before:
                    start -= before
                else:
                    end += after
            edits.append((start, end, kept))
    for start, end, kept in sorted(edits, reverse=True):
        lines[start:end] = kept
    return "".join(lines)


def _rename_words(text: str) -> str:
    return _WORDS.sub(lambda m: NAMES[m.group(1)], text)


def convert(text: str, source_name: str) -> str:
    """The sync twin of async module `text` (named `source_name` in the header)."""
    text = _drop_async_branches(text)
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def at(position: tuple[int, int]) -> int:
        return starts[position[0] - 1] + position[1]

    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in text offsets
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NAME and tok.string in ("async", "await"):
            after = tokens[i + 1]
            if tok.string == "async" and after.string not in ("def", "with", "for"):
                continue
            # Drop the keyword and the blanks up to the next token on the same line.
            end = after.start if after.start[0] == tok.start[0] else tok.end
            edits.append((at(tok.start), at(end), ""))
        elif tok.type == tokenize.NAME and tok.string in NAMES:
            edits.append((at(tok.start), at(tok.end), NAMES[tok.string]))
        elif tok.type in (tokenize.STRING, tokenize.COMMENT):
            renamed = _rename_words(tok.string)
            if renamed != tok.string:
                edits.append((at(tok.start), at(tok.end), renamed))
    for first, last, new in sorted(edits, reverse=True):
        text = text[:first] + new + text[last:]
    return HEADER.format(source=source_name) + _dedupe_imports(text)


def _dedupe_imports(text: str) -> str:
    """``from m import AsyncIterator, Iterator`` became ``Iterator, Iterator``: keep one."""
    lines = text.splitlines(keepends=True)
    for node in reversed(ast.parse(text).body):
        if not isinstance(node, ast.ImportFrom):
            continue
        names = [(a.name, a.asname) for a in node.names]
        unique = list(dict.fromkeys(names))
        if len(unique) == len(names):
            continue
        listed = ", ".join(f"{n} as {a}" if a else n for n, a in unique)
        assert node.end_lineno is not None
        lines[node.lineno - 1 : node.end_lineno] = [f"from {node.module} import {listed}\n"]
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a twin is stale")
    args = parser.parse_args(argv)
    stale: list[str] = []
    for source, twin in twins():
        expected = convert(source.read_text(encoding="utf-8"), source.name)
        current = twin.read_text(encoding="utf-8") if twin.exists() else None
        if current is not None and not current.startswith(HEADER.split("{", 1)[0]):
            print(f"{twin.relative_to(ROOT)} is written by hand: not overwritten", file=sys.stderr)
            return 2
        if current == expected:
            continue
        if args.check:
            stale.append(str(twin.relative_to(ROOT)))
        else:
            twin.write_text(expected, encoding="utf-8")
            print(f"wrote {twin.relative_to(ROOT)}")
    if stale:
        print("stale generated modules (run `make generate`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

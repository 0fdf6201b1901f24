"""Generate the typed surface of a SQL folder: a `Protocol` with one method per query.

mypy then sees ``q.trade_history(db, symbol=..., since=...) -> list[TradeHistoryRecord]``.
Return types come from the block (cardinality + model). Parameter types come from
PostgreSQL: each statement is prepared on a migrated database and ``describe_prepared``
gives the parameter type OIDs (``:scalar`` return types likewise); a parameter used as
``:p IS NULL`` / ``CAST(:p AS T) IS NULL`` is optional (``T | None``). Without a database
every parameter is ``Any``. The output is deterministic, so a test can compare it with the
checked-in file and fail when sql/ and the typed surface drift.

The module is meant to be imported at run time (``cast(MyQueries, load_queries(...))`` needs
the name): everything only a type checker needs (the pool, the row models) is imported under
``TYPE_CHECKING``, and its first line says which command wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tradestore.db.pool import Pool
from tradestore.queries.describe import PG_ARRAYS, PG_TYPES, describe_pg
from tradestore.queries.loader import Queries
from tradestore.queries.query import Query
from tradestore.queries.sqlfile import BATCH_CARDINALITIES, Cardinality, SqlBlock

_NULL_TEST = re.compile(
    r"^\s*(?:::\s*\w+(?:\s*\([^)]*\))?)?\s*(?:AS\s+[\w ]+(?:\([^)]*\))?\s*\))?\s*IS\s+NULL",
    re.IGNORECASE,
)


def _py_type(oid: int) -> str:
    if oid in PG_ARRAYS:
        return f"Sequence[{_py_type(PG_ARRAYS[oid])}]"
    known = PG_TYPES.get(oid)
    if known is None:
        return "Any"
    got = known[1]
    if got is dict:
        return "Any"  # json(b) parameters accept dicts, lists and scalars
    return {"Decimal": "Decimal", "datetime": "datetime.datetime"}.get(
        got.__name__,
        f"{got.__module__}.{got.__name__}" if got.__module__ != "builtins" else got.__name__,
    )


def optional_params(block: SqlBlock) -> set[str]:
    """Parameters tested with IS NULL somewhere: callers may pass None for them."""
    return {p.name for p in block.params if _NULL_TEST.match(block.sql[p.end :])}


@dataclass(frozen=True)
class Signature:
    """Parameter annotations and return annotation of one query."""

    params: dict[str, str]
    returns: str


def signature(query: Query, pg_types: dict[str, int] | None, scalar_oid: int | None) -> Signature:
    block = next(iter(query.variants.values())).block
    optional = optional_params(block)
    params: dict[str, str] = {}
    for name in query.param_names:
        ann = _py_type(pg_types[name]) if pg_types and name in pg_types else "Any"
        if name in optional and ann != "Any":
            ann += " | None"
        params[name] = ann
    row = query.model.__name__ if query.model is not None else "dict[str, Any]"
    card = query.cardinality
    returns = {
        Cardinality.ONE: f"{row} | None",
        Cardinality.MANY: f"list[{row}]",
        # A generator, not just an iterator: `closing()` / `close()` stop it early.
        Cardinality.ITER: f"Generator[{row}, None, None]",
        Cardinality.EXEC: "None",
        Cardinality.EXECROWS: "int",
        Cardinality.EXECLASTID: "int | None",
        Cardinality.COPYFROM: "int",
        Cardinality.BATCHEXEC: "int",
        Cardinality.BATCHONE: f"list[{row} | None]",
        Cardinality.BATCHMANY: f"list[list[{row}]]",
        Cardinality.SCALAR: (
            f"{_py_type(scalar_oid)} | None"
            if scalar_oid is not None and _py_type(scalar_oid) != "Any"
            else "Any"
        ),
    }[card]
    return Signature(params, returns)


def describe_all(queries: Queries, url: str | None) -> dict[str, tuple[dict[str, int], int | None]]:
    """PostgreSQL parameter OIDs (and a :scalar's column OID) per query, if `url` is given."""
    found: dict[str, tuple[dict[str, int], int | None]] = {}
    if url is None:
        return found
    with Pool(url, min_size=1, max_size=1) as pool, pool.connection() as conn:
        for query in queries:
            variant = query.variants.get("postgresql")
            if variant is None:
                continue
            desc = describe_pg(conn.raw.pgconn, variant.block)
            if desc.error is None:
                scalar = desc.columns[0][1] if len(desc.columns) == 1 else None
                found[query.name] = (desc.params, scalar)
    return found


def params_class_name(query: Query, taken: set[str]) -> str:
    """sqlc's name for a batch query's parameter set (``add_fills`` -> ``AddFillsParams``)."""
    base = "".join(part[:1].upper() + part[1:] for part in query.name.split("_")) + "Params"
    name = base
    while name in taken:  # a model (or another query's set) of that name already
        name += "_"
    taken.add(name)
    return name


def _params_class(query: Query, sig: Signature, class_name: str) -> list[str]:
    """A TypedDict of one batch item: exactly the declared parameters, each one required."""
    lines = [
        f"class {class_name}(TypedDict):",
        f'    """One parameter set of `{query.name}` (:{query.cardinality.value})."""',
        "",
    ]
    lines += [f"    {name}: {ann}" for name, ann in sig.params.items()]
    if not sig.params:
        lines.pop()  # the docstring is the whole body
    return [*lines, "", ""]


def _described(
    described: dict[str, tuple[dict[str, int], int | None]], name: str, url: str | None
) -> tuple[dict[str, int] | None, int | None]:
    pg_types, scalar_oid = described.get(name, ({}, None))
    return (pg_types if url else None), scalar_oid


def _method(query: Query, sig: Signature, items_type: str | None = None) -> list[str]:
    """Two overloads, one per face: the sync call on a `Pool`/`Connection`, the async one
    (``async def``, or an async iterator for :iter) on an `AsyncPool`/`AsyncConnection`, so
    mypy catches a missing ``await``, or an ``await`` on the sync face."""
    block = next(iter(query.variants.values())).block
    rest: list[str]
    if query.cardinality is Cardinality.COPYFROM:
        rest = ["rows: Iterable[Mapping[str, Any] | BaseModel]", "/"]
    elif items_type is not None:
        rest = [f"items: Iterable[{items_type} | BaseModel]", "/"]
    else:
        rest = ["/"]
        if sig.params:
            rest.append("*")
            rest += [f"{n}: {a}" for n, a in sig.params.items()]
    doc = (block.doc or f"{block.name} ({block.path.rsplit('/', 1)[-1]}).").replace('"""', "'''")
    doc_lines = doc.splitlines()
    body = [f'        """{doc_lines[0]}']
    body += [f"        {line}" if line else "" for line in doc_lines[1:]]
    body[-1] += '"""' if len(doc_lines) == 1 else ""
    if len(doc_lines) > 1:
        body.append('        """')
    streams = query.cardinality is Cardinality.ITER
    faces = (
        ("def", "Pool | Connection", sig.returns),
        (
            "def" if streams else "async def",
            "AsyncPool | AsyncConnection",
            # An async generator: `aclosing()` / `aclose()` stop it early.
            f"Async{sig.returns.removesuffix(', None]')}]" if streams else sig.returns,
        ),
    )
    lines: list[str] = []
    for keyword, db, returns in faces:
        args = ["self", f"db: {db}", *rest]
        lines += [
            "    @overload",
            f"    {keyword} {query.name}(",
            *(f"        {arg}," for arg in args),
            f"    ) -> {returns}:",
            *body,
            "        ...",
            "",
        ]
    return lines


def _model_imports(queries: Queries, models_module: str | None) -> list[str]:
    """``from MODULE import (...)`` lines for the row models, each from where it is defined
    (or all from `models_module`, a module that re-exports them)."""
    by_module: dict[str, set[str]] = {}
    for query in queries:
        if query.model is not None:
            module = models_module or query.model.__module__
            by_module.setdefault(module, set()).add(query.model.__name__)
    lines: list[str] = []
    for module, names in sorted(by_module.items()):
        lines.append(f"    from {module} import (")
        lines += [f"        {name}," for name in sorted(names)]
        lines.append("    )")
    return lines


def generate(
    queries: Queries,
    *,
    class_name: str = "BuiltinQueries",
    models_module: str | None = None,
    url: str | None = None,
    command: str = "tradestore stubs",
) -> str:
    """The source of a module declaring `class_name`, a Protocol over `queries`.

    `command` is what wrote it (its first line says so, for whoever wonders how to refresh
    it). `models_module`, when given, is where every row model is imported from; by default
    each comes from the module that defines it.
    """
    described = describe_all(queries, url)
    model_names = sorted({q.model.__name__ for q in queries if q.model is not None})
    signatures = {
        query.name: signature(query, *_described(described, query.name, url)) for query in queries
    }
    taken = {*model_names, class_name}
    params_classes = {
        query.name: params_class_name(query, taken)
        for query in queries
        if query.cardinality in BATCH_CARDINALITIES
    }
    lines = [
        f"# Generated by `{command}`: do not edit, run it again.",
        f'"""Typed surface of the named queries: `{class_name}`.',
        "",
        f"``cast({class_name}, load_queries(...))`` lets mypy check every call: its keyword",
        "parameters and its return type.",
        '"""',
        "",
        "# ruff: noqa: F401, E501, I001  (generated: imports cover whatever the queries need)",
        "",
        "from __future__ import annotations",
        "",
        "import datetime",
        "from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence",
        *(
            ["from collections.abc import AsyncGenerator, Generator"]
            if any(query.cardinality is Cardinality.ITER for query in queries)
            else []
        ),
        "from decimal import Decimal",
        "from typing import TYPE_CHECKING, Any, Protocol, overload"
        + (", TypedDict" if params_classes else ""),
        "",
        "if TYPE_CHECKING:",
        "    from pydantic import BaseModel",
        "",
        "    from tradestore.db.connection import Connection",
        "    from tradestore.db.connection_async import AsyncConnection",
        "    from tradestore.db.pool import Pool",
        "    from tradestore.db.pool_async import AsyncPool",
    ]
    lines += _model_imports(queries, models_module)
    lines += [
        "",
        "__all__ = [",
        *(f'    "{name}",' for name in sorted([class_name, *params_classes.values()])),
        "]",
        "",
        "",
    ]
    for query in queries:
        if query.name in params_classes:
            lines += _params_class(query, signatures[query.name], params_classes[query.name])
    lines += [
        f"class {class_name}(Protocol):",
        '    """One method per named query; `load_queries()` returns an object of this shape."""',
        "",
    ]
    for query in queries:
        lines += _method(query, signatures[query.name], params_classes.get(query.name))
    while lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"

"""Load a SQL folder into a namespace of callables: ``q = load_queries(path); q.name(db, ...)``.

Everything that can be decided once is decided here, at load time: every file is parsed
(`sqlfile`), each block bound to each dialect (`binding`: placeholders, parameter order, COPY),
its row model looked up (`registry`), and wrapped in the query class its cardinality calls for
(`query.Query`, `query.CopyQuery`, `batch.BatchQuery`). A portable file serves both dialects;
a file of the same name in ``postgresql/`` or ``sqlite/`` overrides its blocks there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel

from tradestore.errors import SqlFileError, TradestoreError
from tradestore.queries.binding import DIALECTS, bind
from tradestore.queries.query import CopyQuery, Query
from tradestore.queries.registry import ModelsArg, build_registry
from tradestore.queries.sqlfile import BATCH_CARDINALITIES, Cardinality, SqlBlock, parse_sql_file

# -- the namespace -----------------------------------------------------------------------


class Queries:
    """All queries of one SQL folder as attributes: ``q.trade_history(db, ...)``.

    Iterating yields the `Query` objects in name order; ``q["name"]`` and ``"name" in q``
    work too.
    """

    def __init__(self, queries: Mapping[str, Query], source: Path) -> None:
        self._queries = dict(sorted(queries.items()))
        self._source = source
        for name, query in self._queries.items():
            setattr(self, name, query)

    def __getattr__(self, name: str) -> Query:
        # Only reached for names that are not queries (real ones are instance attributes).
        raise AttributeError(f"no query named {name!r} in {self._source}")

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no query named {name!r} in {self._source}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._queries

    def __iter__(self) -> Iterator[Query]:
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def __repr__(self) -> str:
        return f"<Queries {len(self._queries)} from {self._source}>"


def read_blocks(path: Path) -> dict[str, dict[str, SqlBlock]]:
    """Blocks per dialect: ``{"postgresql": {name: block}, "sqlite": {...}}``.

    Portable files (``path/*.sql``) count for both dialects; ``path/postgresql/*.sql`` and
    ``path/sqlite/*.sql`` override a portable block of the same name on their dialect. `path`
    may also name one ``.sql`` file: then that file, and its namesakes in the dialect folders
    beside it, are read (a library's own few queries out of a larger folder).
    """
    if path.is_file():
        folder, pattern = path.parent, path.name
    elif path.is_dir():
        folder, pattern = path, "*.sql"
    else:
        raise SqlFileError(f"{path}: SQL folder not found")
    portable: dict[str, SqlBlock] = {}
    for file in sorted(folder.glob(pattern)):
        for block in parse_sql_file(file):
            _add_unique(portable, block)
    result: dict[str, dict[str, SqlBlock]] = {}
    for dialect in DIALECTS:
        own: dict[str, SqlBlock] = {}
        for file in sorted((folder / dialect).glob(pattern)):
            for block in parse_sql_file(file):
                _add_unique(own, block)
                base = portable.get(block.name)
                if base is not None:
                    _check_override(base, block)
        result[dialect] = {**portable, **own}
    return result


def _add_unique(seen: dict[str, SqlBlock], block: SqlBlock) -> None:
    first = seen.get(block.name)
    if first is not None:
        raise SqlFileError(
            f"{block.where}: duplicate query name {block.name!r} (first at {first.where})"
        )
    seen[block.name] = block


def _check_override(base: SqlBlock, block: SqlBlock) -> None:
    if (base.cardinality, base.model) != (block.cardinality, block.model) or set(
        base.param_names
    ) != set(block.param_names):
        raise SqlFileError(
            f"{block.where}: dialect override of {block.name} must keep the signature of "
            f"{base.where} (:{base.cardinality.value} {base.model or ''}, parameters "
            f"{', '.join(base.param_names) or 'none'})"
        )


def _query_class(cardinality: Cardinality) -> type[Query]:
    if cardinality is Cardinality.COPYFROM:
        return CopyQuery
    if cardinality in BATCH_CARDINALITIES:
        # Imported here: tradestore.queries.batch builds on this module's Query.
        from tradestore.queries.batch import BatchQuery  # noqa: PLC0415

        return BatchQuery
    return Query


def _logging_defaults(echo: bool | None, slow_query_ms: float | None) -> tuple[bool, float | None]:
    if echo is not None and slow_query_ms is not None:
        return echo, slow_query_ms
    from tradestore.db.settings import load_settings  # noqa: PLC0415  (only when not given)

    try:
        settings = load_settings()
    except TradestoreError:
        return bool(echo), slow_query_ms
    return (
        settings.database_echo if echo is None else echo,
        settings.db_slow_query_ms if slow_query_ms is None else slow_query_ms,
    )


def load_queries(
    path: str | Path,
    *,
    models: ModelsArg = None,
    base_models: Mapping[str, type[BaseModel]] | None = None,
    echo: bool | None = None,
    slow_query_ms: float | None = None,
) -> Queries:
    """Load every named query under `path` (a SQL folder, or one ``.sql`` file) into one
    namespace.

    `models` names the row models the blocks may use (a mapping of names to classes, or a
    module: every model class defined in it), over `base_models` (a layer's own registry;
    ``tradestore.load_queries`` passes the trading schema's). `echo` (DATABASE_ECHO) logs
    every call at INFO on the ``tradestore.queries`` logger with name, file:line and time;
    `slow_query_ms` (DB_SLOW_QUERY_MS) logs slower calls at WARNING. Parameter values are
    never logged. Malformed files raise `SqlFileError` naming file:line.

    Typed as `Queries` (attributes are `Any` to mypy): generate a Protocol for your folder
    with `tradestore stubs` and ``cast()`` the result to it.
    """
    folder = Path(path)
    registry = build_registry(models, base_models)
    echo_on, slow = _logging_defaults(echo, slow_query_ms)
    per_dialect = read_blocks(folder)
    names = sorted({n for blocks in per_dialect.values() for n in blocks})
    queries: dict[str, Query] = {}
    for name in names:
        variants = {
            dialect: bind(blocks[name], dialect)
            for dialect, blocks in per_dialect.items()
            if name in blocks
        }
        block = next(iter(variants.values())).block
        model: type[BaseModel] | None = None
        if block.model is not None:
            model = registry.get(block.model)
            if model is None:
                known = ", ".join(sorted(registry)) or "none"
                raise SqlFileError(
                    f"{block.where}: query {name}: unknown model {block.model!r} "
                    f"(known: {known}; pass models= to add your own)"
                )
        queries[name] = _query_class(block.cardinality)(
            variants, model, echo=echo_on, slow_query_ms=slow
        )
    return Queries(queries, folder)


__all__ = ["Queries", "load_queries", "read_blocks"]

"""A named query as a callable: ``q.name(db, **params)``, and :copyfrom's ``q.name(db, rows)``.

`db` is a `Pool` (a connection is checked out for the call: one statement, one autocommit
transaction) or a `Connection` (the call joins whatever transaction the caller has open); or
their async twins, `AsyncPool` and `AsyncConnection`, and then the call returns a coroutine
to await (an async iterator for :iter). One `Query` serves both faces: the SQL is parsed and
bound once. Runners work on the `PooledConnection` itself: with a pool the kit checks one out
without a lease (no user code ever sees it), with a connection the lease is checked once per
call. Result columns that share a name are refused (`tradestore.queries.columns`); the
:batch family lives in `tradestore.queries.batch`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tradestore.db.connection import Connection, wrap_driver_error
from tradestore.db.pool import Pool
from tradestore.db.pool_async import AsyncPool
from tradestore.errors import QueryError, TradestoreError
from tradestore.queries import (
    runners_postgres,
    runners_postgres_async,
    runners_sqlite,
    runners_sqlite_aio,
)
from tradestore.queries.binding import (
    AsyncRunner,
    AsyncStream,
    Db,
    RowBuilder,
    Runner,
    Stream,
    Variant,
    amarking_session,
    marking_session,
)
from tradestore.queries.calls import Calls
from tradestore.queries.calls_async import AsyncCalls
from tradestore.queries.copying import copy_chunks
from tradestore.queries.sqlfile import Cardinality

if TYPE_CHECKING:
    from tradestore.db.backends.base import AsyncBackend, Backend

logger = logging.getLogger("tradestore.queries")
#: The runners of each dialect, per face.
_SYNC = {"postgresql": runners_postgres, "sqlite": runners_sqlite}
_ASYNC = {"postgresql": runners_postgres_async, "sqlite": runners_sqlite_aio}


def _identity(row: dict[str, Any]) -> Any:
    return row


class Query(Calls, AsyncCalls):
    """One named query; call it as ``query(db, **params)`` (``await`` it on the async face).

    Attributes describe it for tooling (stubs, check-sql): `name`, `cardinality`, `model`,
    `variants` (per dialect), `param_names`.
    """

    def __init__(
        self,
        variants: dict[str, Variant],
        model: type[BaseModel] | None,
        *,
        echo: bool,
        slow_query_ms: float | None,
    ) -> None:
        first = next(iter(variants.values())).block
        self.name = first.name
        self.cardinality = first.cardinality
        self.model = model
        self.variants = variants
        self.param_names = first.param_names
        self.__doc__ = first.doc or None
        self._echo = echo
        self._slow_ms = slow_query_ms
        self._quiet = not echo and slow_query_ms is None
        self._streams = self.cardinality is Cardinality.ITER
        self._build: RowBuilder = (
            model.__pydantic_validator__.validate_python if model is not None else _identity
        )
        self._runners: dict[str, Runner] = {
            dialect: module.RUNNERS[self.cardinality] for dialect, module in _SYNC.items()
        }
        self._arunners: dict[str, AsyncRunner] = {
            dialect: module.RUNNERS[self.cardinality] for dialect, module in _ASYNC.items()
        }
        self._streams_of: dict[str, Stream] = {d: m.stream for d, m in _SYNC.items()}
        self._astreams: dict[str, AsyncStream] = {d: m.stream for d, m in _ASYNC.items()}
        for dialect, variant in variants.items():
            if variant.changes_session:  # wrapped at load: other queries pay nothing
                self._runners[dialect] = marking_session(self._runners[dialect])
                self._arunners[dialect] = amarking_session(self._arunners[dialect])

    def __repr__(self) -> str:
        model = f" {self.model.__name__}" if self.model else ""
        where = ", ".join(f"{d}: {v.block.where}" for d, v in self.variants.items())
        return f"<Query {self.name} :{self.cardinality.value}{model} ({where})>"

    # -- helpers shared by the call paths ----------------------------------------------

    def _variant(self, dialect: str) -> Variant:
        variant = self.variants.get(dialect)
        if variant is None:
            where = ", ".join(f"{d} at {v.block.where}" for d, v in self.variants.items())
            raise QueryError(
                f"query {self.name} has no statement for {dialect} (defined for {where})",
                query=self.name,
            )
        return variant

    def _args(self, variant: Variant, params: Mapping[str, Any], item: str = "") -> tuple[Any, ...]:
        """Values in placeholder order, or an error naming the missing or unexpected parameter.

        `item` prefixes the problem (``items[3]: ``) for one parameter set of a batch.
        """
        if params.keys() != variant.names:
            missing = sorted(variant.names - params.keys())
            extra = sorted(params.keys() - variant.names)
            problem = (
                f"missing parameter {', '.join(missing)}"
                if missing
                else f"unexpected parameter {', '.join(extra)}"
            )
            declared = ", ".join(self.param_names) or "none"
            raise QueryError(
                f"query {self.name} ({variant.block.where}): {item}{problem} "
                f"(declared: {declared})",
                query=self.name,
            )
        return variant.pick(params)

    def _fail(self, exc: Exception, backend: Backend | AsyncBackend, variant: Variant) -> Exception:
        if isinstance(exc, TradestoreError) or backend.error_info(exc) is None:
            return exc
        error = wrap_driver_error(
            exc, backend, f"query {self.name} ({variant.block.where})", query=self.name
        )
        return _without_values(error)

    def _observe(self, db: Db, variant: Variant, start: float, *, failed: bool) -> None:
        seconds = time.perf_counter() - start
        if isinstance(db, Pool | AsyncPool):
            db.metrics.record(self.name, seconds, failed=failed)
        ms = seconds * 1000.0
        if self._slow_ms is not None and ms >= self._slow_ms:
            logger.warning("slow query %s (%s): %.3f ms", self.name, variant.block.where, ms)
        elif self._echo:
            logger.info("query %s (%s): %.3f ms", self.name, variant.block.where, ms)

    # -- the call ----------------------------------------------------------------------

    def __call__(self, db: Db, /, *args: Any, **params: Any) -> Any:
        dialect = db.dialect
        variant = self.variants.get(dialect) or self._variant(dialect)
        if args:
            raise QueryError(
                f"query {self.name} ({variant.block.where}) takes keyword parameters only: "
                f"q.{self.name}(db, {', '.join(f'{n}=...' for n in self.param_names)})",
                query=self.name,
            )
        values = (
            variant.pick(params) if params.keys() == variant.names else self._args(variant, params)
        )
        if self._streams:
            if isinstance(db, Pool | Connection):
                return self._iterate(db, variant, values)
            return self._aiterate(db, variant, values)
        if self._quiet and type(db) is Connection:
            # The hot path of a bot's own transaction: nothing to time, log or count.
            # (A failure would be neither logged nor counted either: `_observe` is a no-op.)
            pooled = db._pooled or db._refuse()  # a returned Connection is refused here
            try:
                return self._runners[dialect](pooled, variant, values, self._build)
            except Exception as exc:
                error = self._fail(exc, db.backend, variant)
                if error is exc:
                    raise
                raise error from exc
        if isinstance(db, Pool | Connection):
            return self._call(db, variant, values)
        return self._acall(db, variant, values)


def _without_values(error: TradestoreError) -> TradestoreError:
    """Drop PostgreSQL's DETAIL/CONTEXT lines: they quote row values ("Failing row contains")."""
    lines = str(error).splitlines()
    kept = [lines[0], *(line for line in lines[1:] if line.startswith("HINT:"))]
    if len(kept) == len(lines) or not isinstance(error, QueryError):
        return error
    return type(error)("\n".join(kept), query=error.query, sqlstate=error.sqlstate)


class CopyQuery(Query):
    """A :copyfrom query; call it as ``query(db, rows)`` with mappings or models."""

    def __call__(self, db: Db, /, *rows_arg: Any, **params: Any) -> Any:
        if len(rows_arg) != 1 or params:
            raise QueryError(
                f"query {self.name} ({next(iter(self.variants.values())).block.where}) is "
                ":copyfrom: call it as q.{self.name}(db, rows) with rows an iterable of "
                "mappings or models",
                query=self.name,
            )
        variant = self._variant(db.dialect)
        rows = copy_chunks(self.name, variant, rows_arg[0])
        if isinstance(db, Pool | Connection):
            copy = _SYNC[db.dialect].copy
            return self._checked_out(db, variant, lambda conn: copy(conn, variant, rows))
        acopy = _ASYNC[db.dialect].copy
        return self._achecked_out(db, variant, lambda conn: acopy(conn, variant, rows))

"""A named query as a callable: ``q.name(db, **params)``, and :copyfrom's ``q.name(db, rows)``.

`db` is a `Pool` (a connection is checked out for the call: one statement, one autocommit
transaction) or a `Connection` (the call joins whatever transaction the caller has open).
Runners work on the `PooledConnection` itself: with a Pool the kit checks one out without a
lease (no user code ever sees it), with a Connection the lease is checked once per call.
Result columns that share a name are refused (`tradestore.queries.columns`); the :batch
family lives in `tradestore.queries.batch`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tradestore.db.connection import Connection, wrap_driver_error
from tradestore.db.pool import Pool
from tradestore.errors import QueryError, TradestoreError
from tradestore.queries import runners_postgres, runners_sqlite
from tradestore.queries.binding import Db, RowBuilder, Runner, T, Variant, marking_session
from tradestore.queries.copying import copy_chunks
from tradestore.queries.sqlfile import Cardinality

if TYPE_CHECKING:
    from tradestore.db.backends.base import Backend

logger = logging.getLogger("tradestore.queries")
_RUNNERS = {"postgresql": runners_postgres, "sqlite": runners_sqlite}


def _identity(row: dict[str, Any]) -> Any:
    return row


class Query:
    """One named query; call it as ``query(db, **params)``.

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
            dialect: module.RUNNERS[self.cardinality] for dialect, module in _RUNNERS.items()
        }
        for dialect, variant in variants.items():
            if variant.changes_session:  # wrapped at load: other queries pay nothing
                self._runners[dialect] = marking_session(self._runners[dialect])

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

    def _fail(self, exc: Exception, backend: Backend, variant: Variant) -> Exception:
        if isinstance(exc, TradestoreError) or backend.error_info(exc) is None:
            return exc
        error = wrap_driver_error(
            exc, backend, f"query {self.name} ({variant.block.where})", query=self.name
        )
        return _without_values(error)

    def _checked_out(self, db: Db, variant: Variant, work: Callable[[Connection], T]) -> T:
        """`work` on the caller's connection or one checked out of the pool for it: timed,
        logged and counted like a call, driver errors turned into the kit's."""
        start = time.perf_counter()
        try:
            if isinstance(db, Pool):
                conn = db.getconn()
                try:
                    result = work(conn)
                finally:
                    db.putconn(conn)
            else:
                result = work(db)
        except Exception as exc:
            self._observe(db, variant, start, failed=True)
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        self._observe(db, variant, start, failed=False)
        return result

    def _observe(self, db: Db, variant: Variant, start: float, *, failed: bool) -> None:
        seconds = time.perf_counter() - start
        if isinstance(db, Pool):
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
            return self._iterate(db, variant, values)
        run = self._runners[dialect]
        if self._quiet and not isinstance(db, Pool):
            # The hot path of a bot's own transaction: nothing to time, log or count.
            # (A failure would be neither logged nor counted either: `_observe` is a no-op.)
            pooled = db._pooled or db._refuse()  # a returned Connection is refused here
            try:
                return run(pooled, variant, values, self._build)
            except Exception as exc:
                error = self._fail(exc, db.backend, variant)
                if error is exc:
                    raise
                raise error from exc
        start = time.perf_counter()
        try:
            if isinstance(db, Pool):
                # The pool's internal checkout, not ``with db.connection()``: no generator-based
                # context manager (10 us a call, W1) and no lease (user code never sees it).
                pooled = db._checkout()
                try:
                    result = run(pooled, variant, values, self._build)
                finally:
                    db._checkin(pooled)
            else:
                result = run(db._live(), variant, values, self._build)
        except Exception as exc:
            self._observe(db, variant, start, failed=True)
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        if self._echo or self._slow_ms is not None or isinstance(db, Pool):
            self._observe(db, variant, start, failed=False)
        return result

    def _iterate(self, db: Db, variant: Variant, args: tuple[Any, ...]) -> Iterator[Any]:
        """Stream rows; with a pool the connection is held until the iterator ends or closes."""
        start = time.perf_counter()
        failed = False
        conn = db.getconn() if isinstance(db, Pool) else db
        stream = _RUNNERS[db.dialect].stream
        try:
            for row in stream(conn, variant, args):
                yield self._build(row)
        except Exception as exc:
            failed = True
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        finally:
            if isinstance(db, Pool):
                db.putconn(conn)
            self._observe(db, variant, start, failed=failed)


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
        copy = _RUNNERS[db.dialect].copy
        return self._checked_out(db, variant, lambda conn: copy(conn, variant, rows))

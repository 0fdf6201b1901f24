# Generated from calls_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""How a named query runs on one face: check a connection out (or join the caller's), run,
give it back, time, log, count, and turn driver errors into the kit's.

Written once for the async face; the sync twin (``calls.py``) is generated from it. `Query`
inherits both faces' call paths and picks by what it is called on (`tradestore.queries.query`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from typing import TYPE_CHECKING, Any

from tradestore.db.pool import Pool
from tradestore.queries.binding import SyncDb, Runner, Stream, Work, Variant

if TYPE_CHECKING:
    from tradestore.db.backends.base import Backend, Backend


class Calls:
    """The async call paths of `Query` (see the module docstring)."""

    _runners: dict[str, Runner]
    _streams_of: dict[str, Stream]
    _build: Any
    _echo: bool
    _slow_ms: float | None

    def _fail(self, exc: Exception, backend: Backend | Backend, variant: Variant) -> Exception:
        raise NotImplementedError  # pragma: no cover  (Query's)

    def _observe(self, db: Any, variant: Variant, start: float, *, failed: bool) -> None:
        raise NotImplementedError  # pragma: no cover  (Query's)

    def _call(self, db: SyncDb, variant: Variant, values: tuple[Any, ...]) -> Any:
        """One statement on `db`: the pool's connection for the call, or the caller's."""
        run = self._runners[db.dialect]
        start = time.perf_counter()
        try:
            if isinstance(db, Pool):
                # The pool's internal checkout: no context manager and no lease (user code
                # never sees this connection), so the per-call path stays short.
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

    def _iterate(
        self, db: SyncDb, variant: Variant, args: tuple[Any, ...]
    ) -> Iterator[Any]:
        """Stream rows; with a pool the connection is held until the iterator ends or closes."""
        start = time.perf_counter()
        failed = False
        own = isinstance(db, Pool)  # the stream's own checkout, not the caller's
        conn = db.getconn() if isinstance(db, Pool) else db
        try:
            # The dialect's stream is closed here, before the connection goes back: an async
            # generator left to the garbage collector closes later, in a task of asyncio's.
            with closing(self._streams_of[db.dialect](conn, variant, args, own)) as rows:
                for row in rows:
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

    def _checked_out(self, db: SyncDb, variant: Variant, work: Work) -> Any:
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


__all__ = ["Calls"]

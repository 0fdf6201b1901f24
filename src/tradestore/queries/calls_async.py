"""How a named query runs on one face: check a connection out (or join the caller's), run,
give it back, time, log, count, and turn driver errors into the kit's.

Written once for the async face; the sync twin (``calls.py``) is generated from it. `Query`
inherits both faces' call paths and picks by what it is called on (`tradestore.queries.query`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from tradestore.db.pool_async import AsyncPool
from tradestore.queries.binding import AsyncDb, AsyncRunner, AsyncStream, AsyncWork, Variant

if TYPE_CHECKING:
    from tradestore.db.backends.base import AsyncBackend, Backend


class AsyncCalls:
    """The async call paths of `Query` (see the module docstring)."""

    _arunners: dict[str, AsyncRunner]
    _astreams: dict[str, AsyncStream]
    _build: Any
    _echo: bool
    _slow_ms: float | None

    def _fail(self, exc: Exception, backend: Backend | AsyncBackend, variant: Variant) -> Exception:
        raise NotImplementedError  # pragma: no cover  (Query's)

    def _observe(self, db: Any, variant: Variant, start: float, *, failed: bool) -> None:
        raise NotImplementedError  # pragma: no cover  (Query's)

    async def _acall(self, db: AsyncDb, variant: Variant, values: tuple[Any, ...]) -> Any:
        """One statement on `db`: the pool's connection for the call, or the caller's."""
        run = self._arunners[db.dialect]
        start = time.perf_counter()
        try:
            if isinstance(db, AsyncPool):
                # The pool's internal checkout: no context manager and no lease (user code
                # never sees this connection), so the per-call path stays short.
                pooled = await db._checkout()
                try:
                    result = await run(pooled, variant, values, self._build)
                finally:
                    await db._checkin(pooled)
            else:
                result = await run(db._live(), variant, values, self._build)
        except Exception as exc:
            self._observe(db, variant, start, failed=True)
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        if self._echo or self._slow_ms is not None or isinstance(db, AsyncPool):
            self._observe(db, variant, start, failed=False)
        return result

    async def _aiterate(
        self, db: AsyncDb, variant: Variant, args: tuple[Any, ...]
    ) -> AsyncIterator[Any]:
        """Stream rows; with a pool the connection is held until the iterator ends or closes."""
        start = time.perf_counter()
        failed = False
        own = isinstance(db, AsyncPool)  # the stream's own checkout, not the caller's
        conn = await db.getconn() if isinstance(db, AsyncPool) else db
        try:
            # The dialect's stream is closed here, before the connection goes back: an async
            # generator left to the garbage collector closes later, in a task of asyncio's.
            async with aclosing(self._astreams[db.dialect](conn, variant, args, own)) as rows:
                async for row in rows:
                    yield self._build(row)
        except Exception as exc:
            failed = True
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        finally:
            if isinstance(db, AsyncPool):
                await db.putconn(conn)
            self._observe(db, variant, start, failed=failed)

    async def _achecked_out(self, db: AsyncDb, variant: Variant, work: AsyncWork) -> Any:
        """`work` on the caller's connection or one checked out of the pool for it: timed,
        logged and counted like a call, driver errors turned into the kit's."""
        start = time.perf_counter()
        try:
            if isinstance(db, AsyncPool):
                conn = await db.getconn()
                try:
                    result = await work(conn)
                finally:
                    await db.putconn(conn)
            else:
                result = await work(db)
        except Exception as exc:
            self._observe(db, variant, start, failed=True)
            error = self._fail(exc, db.backend, variant)
            if error is exc:
                raise
            raise error from exc
        self._observe(db, variant, start, failed=False)
        return result


__all__ = ["AsyncCalls"]

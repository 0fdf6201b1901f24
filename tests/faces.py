"""Run the sync tests of the store on its async face too: a thread of the test is a task.

`Bridge` runs an event loop on a thread of its own. Each thread that calls through it gets one
task of its own on that loop, and every call the thread makes runs (and is awaited) inside
that task, in order. So what a sync test means by "this thread" is, on the async face, "this
task": ``with store.transaction():`` in a test thread opens the transaction in its task, the
thread's next calls join it, and another thread's calls (another task) do not.

`SyncFace` wraps an async object (`AsyncTradeStore`, a repository, an `AsyncDbScope`, an
`AsyncPool`, a connection, a cursor...) so that a sync test can use it as written for the sync
face: attribute reads, calls and ``with`` blocks go through the bridge; what comes back is
wrapped again when it has an async API of its own (rows, lists and other values come back
as they are). Nothing is mocked: every call runs the real async code on the real database.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, cast

from tradestore.db.scope_async import AsyncDbScope
from tradestore.trading.repositories import AsyncRepositories
from tradestore.trading.store import TradeStore
from tradestore.trading.store_async import AsyncTradeStore

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], "concurrent.futures.Future[Any]"]


class Bridge:
    """An event loop on its own thread; each calling thread's calls run in one task of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bridge", daemon=True)
        self._thread.start()
        self._queues: dict[int, asyncio.Queue[Call | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = threading.Lock()

    def run(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)`` in the calling thread's task, awaited when awaitable."""
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        queue = self._queue_of_this_thread()
        self.loop.call_soon_threadsafe(queue.put_nowait, (call, args, kwargs, done))
        return done.result()

    def _queue_of_this_thread(self) -> asyncio.Queue[Call | None]:
        ident = threading.get_ident()
        with self._lock:
            queue = self._queues.get(ident)
            if queue is None:
                queue = asyncio.run_coroutine_threadsafe(self._start_task(), self.loop).result()
                self._queues[ident] = queue
        return queue

    async def _start_task(self) -> asyncio.Queue[Call | None]:
        queue: asyncio.Queue[Call | None] = asyncio.Queue()
        self._tasks.append(asyncio.create_task(self._serve(queue)))
        return queue

    @staticmethod
    async def _serve(queue: asyncio.Queue[Call | None]) -> None:
        while (item := await queue.get()) is not None:
            call, args, kwargs, done = item
            try:
                result = call(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
            except BaseException as exc:  # noqa: BLE001  (handed to the calling thread)
                done.set_exception(exc)
            else:
                done.set_result(result)

    def close(self) -> None:
        async def finish() -> None:
            for queue in self._queues.values():
                queue.put_nowait(None)
            await asyncio.gather(*self._tasks)

        asyncio.run_coroutine_threadsafe(finish(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_ASYNC_API: dict[type, bool] = {}


def _has_async_api(cls: type) -> bool:
    known = _ASYNC_API.get(cls)
    if known is None:
        known = _ASYNC_API[cls] = issubclass(cls, AsyncDbScope | AsyncRepositories) or any(
            inspect.iscoroutinefunction(getattr(cls, name, None))
            for name in dir(cls)
            if not name.startswith("__") or name == "__aenter__"
        )  # a scope and the repositories have plain methods, but hand out async objects
    return known


class SyncFace:
    """An async object as a sync test sees its sync twin (see the module docstring)."""

    __slots__ = ("_bridge", "target")

    def __init__(self, target: Any, bridge: Bridge) -> None:
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "_bridge", bridge)

    def wrap(self, value: Any) -> Any:
        """`value` as the test should see it: wrapped when it has an async API."""
        return SyncFace(value, self._bridge) if _has_async_api(type(value)) else value

    def __getattr__(self, name: str) -> Any:
        value = self._bridge.run(getattr, self.target, name)  # properties may need the task
        if not callable(value) or isinstance(value, type):
            return self.wrap(value)

        def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(_unwrap(a) for a in args)
            kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
            return self.wrap(self._bridge.run(value, *args, **kwargs))

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        self._bridge.run(setattr, self.target, name, _unwrap(value))

    def __enter__(self) -> Any:
        return self.wrap(self._bridge.run(self.target.__aenter__))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        suppressed: bool | None = self._bridge.run(self.target.__aexit__, exc_type, exc, tb)
        return suppressed

    def __repr__(self) -> str:
        return repr(self.target)


def _unwrap(value: Any) -> Any:
    return value.target if isinstance(value, SyncFace) else value


@contextmanager
def trade_store(face: str, *args: Any, **kwargs: Any) -> Iterator[TradeStore]:
    """``with TradeStore(*args, **kwargs)`` on the sync face; on the async face an
    `AsyncTradeStore` opened and closed by ``async with``, driven through a `Bridge`."""
    if face == "sync":
        with TradeStore(*args, **kwargs) as store:
            yield store
        return
    with Bridge() as bridge, SyncFace(bridge.run(AsyncTradeStore, *args, **kwargs), bridge) as s:
        yield cast(TradeStore, s)


__all__ = ["Bridge", "SyncFace", "trade_store"]

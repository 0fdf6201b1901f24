"""The few primitives that differ between the async face and the sync one, in pairs.

The I/O modules are written once, for asyncio (``pool_async.py``, ``connection_async.py``,
...); ``tools/async_to_sync.py`` derives their sync twins by dropping ``async``/``await`` and
renaming each async name here to its sync partner (``AEvent`` -> ``Event``, ``asleep`` ->
``sleep``, ``aspawn`` -> ``spawn``). `ASYNC` marks a block that only one face runs:
``if ASYNC: ... else: ...`` keeps the ``else`` body in the sync twin (mypy sees `ASYNC` as
always true through its ``always_true`` setting, and checks each twin on its own).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Final

ASYNC: Final = True

sleep = time.sleep


async def asleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class Event(threading.Event):
    """A thread's wait, bounded: True when set within `timeout` seconds."""

    def wait_timeout(self, timeout: float) -> bool:
        return self.wait(timeout)


class AEvent:
    """A task's wait, bounded: True when set within `timeout` seconds.

    The pool's waiter: one task waits, `set` is called once, from the event loop's thread. So
    one future and one timer do, not an `asyncio.Event` (a deque of waiters) inside
    `asyncio.timeout()` (a Timeout object, rescheduled on entry and exit): 3 us less for each
    checkout that waits (benchmarks A5, 200 tasks on 4 connections). Cancelling the waiting
    task raises `CancelledError` here, as any await does; the pool catches it to leave its
    queue (and give back what it was handed meanwhile).
    """

    __slots__ = ("_flag", "_future")

    def __init__(self) -> None:
        self._flag = False
        self._future: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        future = self._future
        if future is not None and not future.done():
            future.set_result(None)

    async def wait_timeout(self, timeout: float) -> bool:
        if self._flag:
            return True
        loop = asyncio.get_running_loop()
        future = self._future = loop.create_future()
        timer = loop.call_later(timeout, _expire, future)
        try:
            await future
        finally:
            timer.cancel()
            self._future = None
        return self._flag


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def current_owner() -> object:
    """Who is running: the thread (its id). A transaction scope joins its owner's calls only."""
    return threading.get_ident()


def acurrent_owner() -> object:
    """Who is running: the task. A task created inside a transaction block copies the
    context, not the transaction: its calls go to the pool, as another thread's would."""
    return asyncio.current_task()


def spawn(target: Callable[[], object], name: str) -> threading.Thread:
    """Run `target` in a daemon thread (a pool's background refill)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


# Tasks keep a strong reference here until done: the event loop holds only weak ones.
_TASKS: set[asyncio.Task[Any]] = set()


def aspawn(target: Callable[[], Coroutine[Any, Any, object]], name: str) -> asyncio.Task[Any]:
    """Run coroutine function `target` as a task of the running loop (a background refill)."""
    task = asyncio.get_running_loop().create_task(target(), name=name)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    return task


__all__ = [
    "ASYNC",
    "AEvent",
    "Event",
    "acurrent_owner",
    "asleep",
    "aspawn",
    "current_owner",
    "sleep",
    "spawn",
]

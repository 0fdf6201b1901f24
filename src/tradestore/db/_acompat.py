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


class AEvent(asyncio.Event):
    """A task's wait, bounded: True when set within `timeout` seconds.

    Cancelling the waiting task raises `CancelledError` here, as any await does; the pool
    catches it to leave its queue (and give back what it was handed meanwhile).
    """

    async def wait_timeout(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self.wait()
        except TimeoutError:
            return self.is_set()
        return True


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

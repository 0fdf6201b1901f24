"""Bounded waits for tests: a regression that hangs must fail its test, not stall the run.

Threads a test starts should be daemons (``threading.Thread(..., daemon=True)``): one still
stuck after its test has failed then cannot keep the test process alive at exit, which a
non-daemon thread would (the interpreter joins them all before it exits).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable


def join_all(threads: Iterable[threading.Thread], timeout: float = 60.0) -> None:
    """Join every thread within `timeout` seconds in all; fail naming those still running."""
    threads = list(threads)
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after {timeout} s (hung?): {stuck}"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail saying `what` did not happen within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.005)

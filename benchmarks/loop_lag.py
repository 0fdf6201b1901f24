"""Event-loop lag: how late a task that sleeps 1 ms at a time wakes up while others work.

A coroutine that blocks the loop (a driver call that does not yield, a long stretch of row
building, a pool that spins) shows up here as a late wake-up for every other task: the
bot's order-placing task would be that late too. The ticker sleeps `interval` seconds in a
loop and records each gap minus the interval; `summary_ms` gives the percentiles over every
gap recorded across all the samples of one contender.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time


class LagProbe:
    """Start before a sample, stop after it; the gaps of all samples accumulate."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.gaps: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        clock, interval, gaps = time.perf_counter, self.interval, self.gaps
        while True:
            before = clock()
            await asyncio.sleep(interval)
            gaps.append(clock() - before - interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick(), name="loop-lag")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def summary_ms(self) -> dict[str, float]:
        """p50, p99 and max of the lag in milliseconds, and how many ticks were measured."""
        if not self.gaps:
            return {}
        ms = sorted(g * 1000.0 for g in self.gaps)
        p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
        return {"p50": statistics.median(ms), "p99": p99, "max": ms[-1], "ticks": len(ms)}

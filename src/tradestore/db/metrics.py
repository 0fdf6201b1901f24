"""Per-query timing counters, kept by the pool and filled in by the query layer."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class QueryTiming:
    """How often one named query ran and how long it took (milliseconds)."""

    name: str
    count: int
    errors: int
    total_ms: float
    max_ms: float

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.count if self.count else 0.0


class QueryMetrics:
    """Thread-safe counters keyed by query name: count, errors, total and max time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, list[float]] = {}

    def record(self, name: str, seconds: float, *, failed: bool = False) -> None:
        ms = seconds * 1000.0
        with self._lock:
            row = self._data.get(name)
            if row is None:
                self._data[name] = [1, 1 if failed else 0, ms, ms]
                return
            row[0] += 1
            row[1] += 1 if failed else 0
            row[2] += ms
            row[3] = max(row[3], ms)

    def snapshot(self) -> dict[str, QueryTiming]:
        with self._lock:
            return {
                name: QueryTiming(name, int(c), int(e), round(t, 3), round(m, 3))
                for name, (c, e, t, m) in sorted(self._data.items())
            }

    def reset(self) -> None:
        with self._lock:
            self._data.clear()

"""Timing core: contenders of one workload run interleaved, round-robin, in one process.

Why round-robin: the machine is shared, so load from neighbours comes and goes. Timing every
contender once per round spreads that noise over all of them alike; the median of the rounds
is reported with the min-max, and each contender's ratio to the baseline of the same run.
Nothing here asserts on time: correctness is checked, speed is only reported.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Contender:
    """One way of doing a workload's operation.

    `run` does one operation and returns its result; `check` gets that result and raises
    AssertionError when it is wrong (run once before any timing); `before` runs untimed ahead
    of every sample (e.g. truncating the bulk-load table).
    """

    name: str
    run: Callable[[], Any]
    check: Callable[[Any], None]
    baseline: bool = False
    before: Callable[[], None] | None = None
    note: str = ""


@dataclass
class Workload:
    """Operations of one shape, timed `number` times per sample over `rounds` rounds."""

    key: str
    title: str
    unit: str  # "us" or "ms": how the table prints the per-operation time
    number: int
    rounds: int
    contenders: list[Contender]
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    workload: str
    title: str
    contender: str
    unit: str
    samples: list[float]  # seconds per operation, one per round
    baseline: bool
    note: str = ""
    ratio: float | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    def as_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "title": self.title,
            "contender": self.contender,
            "unit": self.unit,
            "median_s": self.median if self.samples else None,
            "min_s": min(self.samples) if self.samples else None,
            "max_s": max(self.samples) if self.samples else None,
            "samples_s": self.samples,
            "ratio_to_baseline": self.ratio,
            "baseline": self.baseline,
            "note": self.note,
            "error": self.error,
            **self.extra,
        }


def _sample(contender: Contender, number: int) -> float:
    if contender.before is not None:
        contender.before()
    run = contender.run
    gc.collect()
    start = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - start) / number


def run_workload(workload: Workload, log: Callable[[str], None]) -> list[Result]:
    """Check every contender, then time them round-robin; a failing contender is reported."""
    results: dict[str, Result] = {}
    live: list[Contender] = []
    for contender in workload.contenders:
        result = Result(
            workload.key,
            workload.title,
            contender.name,
            workload.unit,
            [],
            contender.baseline,
            contender.note,
        )
        results[contender.name] = result
        try:
            if contender.before is not None:
                contender.before()
            contender.check(contender.run())  # correctness first; doubles as the warm-up
        except Exception as exc:  # noqa: BLE001  (any failure disqualifies and is reported)
            result.error = f"{type(exc).__name__}: {exc}"
            log(f"  {workload.key} {contender.name}: FAILED its check: {result.error}")
            continue
        live.append(contender)
    for round_no in range(workload.rounds):
        for contender in live:
            results[contender.name].samples.append(_sample(contender, workload.number))
        if (round_no + 1) % 10 == 0 or round_no + 1 == workload.rounds:
            log(f"  {workload.key} round {round_no + 1}/{workload.rounds} done")
    base = next((r for r in results.values() if r.baseline and r.samples), None)
    operations = workload.extra.get("operations")
    for result in results.values():
        if base is not None and result.samples:
            result.ratio = result.median / base.median
        if operations and result.samples:
            result.extra["ops_per_s"] = operations / result.median
            result.note = f"{operations / result.median:,.0f} selects/s"
    return list(results.values())


def _fmt(seconds: float, unit: str) -> str:
    value = seconds * (1e6 if unit == "us" else 1e3)
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def markdown(results: list[Result], workload_notes: dict[str, list[str]]) -> str:
    """One table for all workloads: median, min-max and ratio to that workload's baseline."""
    lines = [
        "| workload | contender | median | min-max | ratio to baseline |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        unit = "µs" if r.unit == "us" else "ms"
        name = f"**{r.contender}** (baseline)" if r.baseline else r.contender
        if r.note:
            name += f" ({r.note})"
        if r.error or not r.samples:
            lines.append(f"| {r.workload} {r.title} | {name} | failed: {r.error} | | |")
            continue
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "n/a"
        span = f"{_fmt(min(r.samples), r.unit)}-{_fmt(max(r.samples), r.unit)}"
        lines.append(
            f"| {r.workload} {r.title} | {name} | {_fmt(r.median, r.unit)} {unit} | "
            f"{span} | {ratio} |"
        )
    notes = [f"- {key}: {note}" for key, items in workload_notes.items() for note in items]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)

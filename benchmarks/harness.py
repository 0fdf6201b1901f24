"""Timing core: contenders of one workload run interleaved, round-robin, in one process.

Why round-robin: the machine is shared, so load from neighbours comes and goes. Timing every
contender once per round spreads that noise over all of them alike. The order rotates from
round to round (round r starts with contender r mod n), so no contender always runs right
after the same neighbour or always first after a collection. The ratio to the baseline is
taken per round (each contender's sample over the baseline's sample of the same round) and the
median of those ratios is reported with their min-max: a slow patch of the machine moves both
sides of one round's ratio, where a ratio of medians would mix rounds.

Async workloads (`Workload.aio`) run the same schedule on the running event loop, awaiting
each operation; with `loop_lag` a ticker task measures how late its 1 ms sleeps wake up while
each sample runs (`loop_lag.LagProbe`). Nothing here asserts on time: correctness is checked,
speed is only reported.
"""

from __future__ import annotations

import gc
import inspect
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loop_lag import LagProbe


@dataclass
class Contender:
    """One way of doing a workload's operation.

    `run` does one operation and returns its result (a coroutine function in an async
    workload); `check` gets that result and raises AssertionError when it is wrong (run once
    before any timing); `before` runs untimed ahead of every sample (e.g. truncating the
    bulk-load table; it may be a coroutine function in an async workload).
    """

    name: str
    run: Callable[[], Any]
    check: Callable[[Any], None]
    baseline: bool = False
    before: Callable[[], Any] | None = None
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
    aio: bool = False  # operations are awaited on the running loop (`arun_workload`)
    loop_lag: bool = False  # async: measure the event loop's lag during every sample


@dataclass
class Result:
    workload: str
    title: str
    contender: str
    unit: str
    samples: list[float]  # seconds per operation, one per round
    baseline: bool
    note: str = ""
    ratio: float | None = None  # median of the per-round ratios to the baseline
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    ratios: list[float] = field(default_factory=list)  # one per round, against its baseline

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
            "ratio_min": min(self.ratios) if self.ratios else None,
            "ratio_max": max(self.ratios) if self.ratios else None,
            "ratios": self.ratios,
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


async def _asample(contender: Contender, number: int, probe: LagProbe | None) -> float:
    if contender.before is not None:
        done = contender.before()
        if inspect.isawaitable(done):
            await done
    run = contender.run
    gc.collect()
    if probe is not None:
        probe.start()
    try:
        start = time.perf_counter()
        for _ in range(number):
            await run()
        return (time.perf_counter() - start) / number
    finally:
        if probe is not None:
            await probe.stop()


def _rotated(live: list[Contender], round_no: int) -> list[Contender]:
    """This round's order: the list rotated by the round number."""
    if not live:
        return live
    k = round_no % len(live)
    return live[k:] + live[:k]


def _new_results(workload: Workload) -> dict[str, Result]:
    return {
        c.name: Result(workload.key, workload.title, c.name, workload.unit, [], c.baseline, c.note)
        for c in workload.contenders
    }


def _disqualify(
    workload: Workload, result: Result, exc: Exception, log: Callable[[str], None]
) -> None:
    result.error = f"{type(exc).__name__}: {exc}"
    log(f"  {workload.key} {result.contender}: FAILED its check: {result.error}")


def _log_round(workload: Workload, round_no: int, log: Callable[[str], None]) -> None:
    if (round_no + 1) % 10 == 0 or round_no + 1 == workload.rounds:
        log(f"  {workload.key} round {round_no + 1}/{workload.rounds} done")


def _finish(workload: Workload, results: dict[str, Result]) -> list[Result]:
    """Per-round ratios to the baseline (their median is the ratio), selects/s, loop lag."""
    base = next((r for r in results.values() if r.baseline and r.samples), None)
    operations = workload.extra.get("operations")
    for result in results.values():
        if not result.samples:
            continue
        if base is not None:
            result.ratios = [
                mine / theirs for mine, theirs in zip(result.samples, base.samples, strict=True)
            ]
            result.ratio = statistics.median(result.ratios)
        notes = [result.note] if result.note else []
        if operations:
            result.extra["ops_per_s"] = operations / result.median
            notes = [f"{operations / result.median:,.0f} selects/s"]
        lag = result.extra.get("loop_lag_ms")
        if lag:
            notes.append(f"loop lag p99 {lag['p99']:.2f} ms")
        result.note = ", ".join(notes)
    return list(results.values())


def run_workload(workload: Workload, log: Callable[[str], None]) -> list[Result]:
    """Check every contender, then time them round-robin; a failing contender is reported."""
    results = _new_results(workload)
    live: list[Contender] = []
    for contender in workload.contenders:
        try:
            if contender.before is not None:
                contender.before()
            contender.check(contender.run())  # correctness first; doubles as the warm-up
        except Exception as exc:  # noqa: BLE001  (any failure disqualifies and is reported)
            _disqualify(workload, results[contender.name], exc, log)
            continue
        live.append(contender)
    for round_no in range(workload.rounds):
        for contender in _rotated(live, round_no):
            results[contender.name].samples.append(_sample(contender, workload.number))
        _log_round(workload, round_no, log)
    return _finish(workload, results)


async def arun_workload(workload: Workload, log: Callable[[str], None]) -> list[Result]:
    """`run_workload` for an async workload, on the running event loop."""
    results = _new_results(workload)
    live: list[Contender] = []
    for contender in workload.contenders:
        try:
            if contender.before is not None:
                done = contender.before()
                if inspect.isawaitable(done):
                    await done
            contender.check(await contender.run())  # correctness first; the warm-up too
        except Exception as exc:  # noqa: BLE001  (any failure disqualifies and is reported)
            _disqualify(workload, results[contender.name], exc, log)
            continue
        live.append(contender)
    probes = {c.name: LagProbe() for c in live} if workload.loop_lag else {}
    for round_no in range(workload.rounds):
        for contender in _rotated(live, round_no):
            sample = await _asample(contender, workload.number, probes.get(contender.name))
            results[contender.name].samples.append(sample)
        _log_round(workload, round_no, log)
    for name, probe in probes.items():
        results[name].extra["loop_lag_ms"] = probe.summary_ms()
    return _finish(workload, results)


def _fmt(seconds: float, unit: str) -> str:
    value = seconds * (1e6 if unit == "us" else 1e3)
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def markdown(results: list[Result], workload_notes: dict[str, list[str]]) -> str:
    """One table for all workloads: median, min-max and ratio to that workload's baseline."""
    lines = [
        "| workload | contender | median | min-max | ratio to baseline (min-max) |",
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
        ratio = "n/a"
        if r.ratio is not None:
            ratio = f"{r.ratio:.2f}"
            if len(r.ratios) > 1 and not r.baseline:
                ratio += f" ({min(r.ratios):.2f}-{max(r.ratios):.2f})"
        span = f"{_fmt(min(r.samples), r.unit)}-{_fmt(max(r.samples), r.unit)}"
        lines.append(
            f"| {r.workload} {r.title} | {name} | {_fmt(r.median, r.unit)} {unit} | "
            f"{span} | {ratio} |"
        )
    notes = [f"- {key}: {note}" for key, items in workload_notes.items() for note in items]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)

"""W6: stream rows through `:iter` and report the process's peak memory.

Peak RSS can only grow within a process, so every measurement runs in a fresh child process
(`python workload_iter.py --child ...`) that streams N rows, building every model, and prints
its time and ru_maxrss. Flat streaming means the peak does not depend on N.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness import Result

HERE = Path(__file__).resolve().parent
CONTENDERS = {
    "raw": "raw psycopg server-side cursor + validate_python",
    "kit": "tradestore :iter (Pool)",
    # Contrast: proves the measurement sees growth when rows are held (tuples, no models).
    "fetchall": "raw psycopg fetchall, client-side (contrast: not streaming)",
}


def _vm_hwm_kb() -> int:
    """This process's peak RSS. Not ru_maxrss: Linux carries that over from the parent
    across fork+exec, so a child of a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: best effort


def _child(kind: str, n: int, conninfo: str, schema: str, url: str) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415

    from bench_model import COLUMNS, BenchTrade, validate  # noqa: PLC0415
    from tradestore import Pool  # noqa: PLC0415
    from tradestore.trading.queries import load_queries  # noqa: PLC0415

    start = time.perf_counter()
    count = 0
    last_id = 0
    if kind == "raw":
        sql = (
            "SELECT id, symbol, side, qty, price, ts FROM stream_trades WHERE id <= %s ORDER BY id"
        )
        with (
            psycopg.connect(conninfo, options=f"-c search_path={schema}") as conn,
            conn.cursor(name="w6") as cur,
        ):
            cur.itersize = 1000
            cur.execute(sql, (n,))
            for row in cur:
                trade = validate(dict(zip(COLUMNS, row, strict=True)))
                count += 1
                last_id = trade.id
    elif kind == "fetchall":
        sql = (
            "SELECT id, symbol, side, qty, price, ts FROM stream_trades WHERE id <= %s ORDER BY id"
        )
        with psycopg.connect(conninfo, options=f"-c search_path={schema}") as conn:
            rows = conn.execute(sql, (n,)).fetchall()
            count = len(rows)
            last_id = rows[-1][0] if rows else 0
            del rows
    else:
        q = load_queries(HERE / "sql", models={"BenchTrade": BenchTrade}, echo=False)
        with Pool(url, min_size=1, max_size=1) as pool:
            for trade in q.stream_trades(pool, n=n):
                count += 1
                last_id = trade.id
    seconds = time.perf_counter() - start
    peak_kb = _vm_hwm_kb()
    return {"count": count, "last_id": last_id, "seconds": seconds, "peak_kb": peak_kb}


def measure(kind: str, n: int, conninfo: str, schema: str, url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", kind, str(n), schema],
        # URLs go through the environment, not argv: argv is visible to every local user.
        env={**os.environ, "BENCH_CHILD_CONNINFO": conninfo, "BENCH_CHILD_URL": url},
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["count"] != n or result["last_id"] != n:
        raise AssertionError(f"{kind}: streamed {result['count']} rows, expected {n}")
    return result


def run(
    *,
    sizes_small: int,
    sizes_big: int,
    rounds: int,
    conninfo: str,
    schema: str,
    url: str,
    log: Any,
) -> list[Result]:
    """Each contender at both row counts, `rounds` times, children interleaved."""
    samples: dict[tuple[str, int], list[dict[str, Any]]] = {
        (k, n): [] for k in CONTENDERS for n in (sizes_big, sizes_small)
    }
    errors: dict[str, str] = {}
    for round_no in range(rounds):
        for kind, n in list(samples):
            if kind in errors:
                continue
            try:
                samples[kind, n].append(measure(kind, n, conninfo, schema, url))
            except (subprocess.CalledProcessError, AssertionError, ValueError) as exc:
                detail = getattr(exc, "stderr", "") or str(exc)
                errors[kind] = detail.strip().splitlines()[-1] if detail.strip() else repr(exc)
                log(f"  W6 {kind}: FAILED: {errors[kind]}")
        log(f"  W6 round {round_no + 1}/{rounds} done")
    results: list[Result] = []
    base_time = {
        n: statistics.median(s["seconds"] for s in samples["raw", n]) if samples["raw", n] else None
        for n in (sizes_big, sizes_small)
    }
    for (kind, n), items in samples.items():
        peaks = [s["peak_kb"] / 1024 for s in items]
        small = samples[kind, sizes_small]
        extra: dict[str, Any] = {"rows": n, "peak_rss_mb": max(peaks) if peaks else None}
        note = ""
        if items:
            note = f"peak RSS {max(peaks):.1f} MB"
            if n == sizes_big and small:
                growth = max(peaks) / max(s["peak_kb"] / 1024 for s in small)
                extra["rss_big_over_small"] = growth
                note += f", {growth:.3f}x the {sizes_small:,}-row run"
        result = Result(
            "W6",
            f"stream {n:,} rows via :iter",
            CONTENDERS[kind],
            "ms",
            [s["seconds"] for s in items],
            kind == "raw",
            note,
            error=errors.get(kind),
            extra=extra,
        )
        base = base_time[n]
        if base and result.samples:
            result.ratio = result.median / base
        results.append(result)
    return results


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--child":
    sys.path.insert(0, str(HERE))
    env = os.environ
    child = _child(
        sys.argv[2],
        int(sys.argv[3]),
        env["BENCH_CHILD_CONNINFO"],
        sys.argv[4],
        env["BENCH_CHILD_URL"],
    )
    print(json.dumps(child))

"""Text and chart output of `tradestore trades` and `tradestore equity` (no database here).

Plain functions over row models, so what an operator reads can be tested without a terminal:
an aligned table of trade history, an equity-curve summary (change, peak, max drawdown) and
an optional PNG chart drawn with matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradestore.trading.models import EquityPoint, TradeHistoryRecord

PLOT_INSTALL_HINT = "pip install 'tradestore[plot]' (or: pip install matplotlib)"


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed; the message says how to install it."""


def number(value: Decimal | float | int | None) -> str:
    """A number as an operator reads it: no exponent, no trailing zeros (100, 187.25)."""
    if value is None:
        return ""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def when(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    """Columns padded to their widest cell; columns in `numeric` are right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


TRADE_HEADERS = ("signal time (UTC)", "symbol", "action", "quantity", "price", "executed")
TRADE_HEADERS_TAIL = ("strategy", "correlation id")


def trades_table(records: Sequence[TradeHistoryRecord]) -> str:
    """Trade history as an aligned table; price is the fill price, else the signal price."""
    rows = [
        [
            when(r.signal_time),
            r.symbol,
            r.action,
            number(r.quantity),
            number(r.fill_price if r.fill_price is not None else r.signal_price),
            "yes" if r.executed else "no",
            r.strategy_name,
            r.correlation_id,
        ]
        for r in records
    ]
    return format_table((*TRADE_HEADERS, *TRADE_HEADERS_TAIL), rows, numeric={3, 4})


@dataclass(frozen=True)
class EquitySummary:
    """What an equity curve says at a glance; drawdown is measured from the running peak."""

    points: int
    start: dt.datetime
    end: dt.datetime
    start_equity: Decimal
    end_equity: Decimal
    change: Decimal
    change_pct: Decimal | None
    peak_equity: Decimal
    low_equity: Decimal
    max_drawdown: Decimal
    max_drawdown_pct: Decimal | None


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else (part / whole * 100).quantize(Decimal("0.01"))


def summarize_equity(points: Sequence[EquityPoint]) -> EquitySummary | None:
    """Summary of the curve in time order, or None when there is no point."""
    if not points:
        return None
    ordered = sorted(points, key=lambda p: (p.recorded_at, p.id))
    peak = ordered[0].equity
    worst = Decimal(0)
    worst_pct: Decimal | None = None
    for point in ordered:
        peak = max(peak, point.equity)
        drop = peak - point.equity
        if drop > worst:
            worst, worst_pct = drop, _pct(drop, peak)
    first, last = ordered[0], ordered[-1]
    return EquitySummary(
        points=len(ordered),
        start=first.recorded_at,
        end=last.recorded_at,
        start_equity=first.equity,
        end_equity=last.equity,
        change=last.equity - first.equity,
        change_pct=_pct(last.equity - first.equity, first.equity),
        peak_equity=max(p.equity for p in ordered),
        low_equity=min(p.equity for p in ordered),
        max_drawdown=worst,
        max_drawdown_pct=worst_pct if worst else Decimal("0.00"),
    )


def equity_text(summary: EquitySummary) -> str:
    """The summary as aligned ``label  value`` lines."""

    def pct(value: Decimal | None) -> str:
        return "" if value is None else f" ({value:+}%)"

    lines = [
        ("points", str(summary.points)),
        ("from", when(summary.start)),
        ("to", when(summary.end)),
        ("start equity", number(summary.start_equity)),
        ("end equity", number(summary.end_equity)),
        ("change", f"{number(summary.change)}{pct(summary.change_pct)}"),
        ("peak equity", number(summary.peak_equity)),
        ("lowest equity", number(summary.low_equity)),
        (
            "max drawdown",
            number(summary.max_drawdown)
            + ("" if summary.max_drawdown_pct is None else f" ({-summary.max_drawdown_pct}%)"),
        ),
    ]
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in lines)


def plot_equity(points: Sequence[EquityPoint], path: str | Path) -> Path:
    """Draw equity over time to an image file (format from the suffix, e.g. .png)."""
    try:
        # The object API with no pyplot: no GUI backend, no global state, works headless.
        from matplotlib.figure import Figure  # noqa: PLC0415  (optional dependency)
    except ImportError:
        raise PlotUnavailable(f"--plot needs matplotlib: {PLOT_INSTALL_HINT}") from None
    ordered = sorted(points, key=lambda p: (p.recorded_at, p.id))
    figure = Figure(figsize=(10, 4), layout="constrained")
    axes = figure.subplots()
    # matplotlib converts datetimes itself (date axis); its stubs only admit arrays.
    axes.plot(
        [p.recorded_at for p in ordered],  # type: ignore[arg-type]
        [float(p.equity) for p in ordered],
        linewidth=1.5,
    )
    figure.autofmt_xdate()
    axes.set_title("Equity curve")
    axes.set_xlabel("time (UTC)")
    axes.set_ylabel("equity")
    axes.grid(visible=True, alpha=0.3)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target)
    return target

"""The README's first command (`make demo`): a simulated trading bot on the kit, end to end.

It migrates DATABASE_URL (default: the embedded SQLite file ``data/tradestore.db``), then runs
a small momentum bot over a few symbols for a few hundred one-minute iterations: signals and
their executions, limit orders filled in two parts, trades, positions opened, marked and
closed, equity snapshots, risk metrics, iteration logs, audit rows and one risk-limit breach.
Each iteration is one transaction. It ends by printing the trade history, a summary of the
equity curve and the audit trail of one order. ``DATABASE_URL=postgresql://... make demo``
runs the same bot on PostgreSQL.

Written once for asyncio: ``make demo-async`` runs the same bot on the async store, and also
reports the longest its event loop was ever kept from running; the sync bot of ``make demo``
(``demo.py``) is generated from it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

import tradestore
from tradestore.db._acompat import ASYNC
from tradestore.trading.inputs import AuditReport, ExecutionResult, IterationSummary, TradeSignal
from tradestore.trading.models import Account, Order, Portfolio, Position, TradeAction
from tradestore.trading.store_async import AsyncTradeStore

if ASYNC:
    import asyncio
    import contextlib

CENT = Decimal("0.01")
STRATEGY = "momentum"
#: Share of equity one new position may take, and the exposure limit the bot watches:
#: two positions at once cross the limit, so the run shows a breach and its audit row.
POSITION_SHARE = Decimal("0.25")
MAX_EXPOSURE_SHARE = Decimal("0.40")
START_PRICES = {"AAPL": Decimal("187.50"), "MSFT": Decimal("411.20"), "BTC-USD": Decimal("64250")}


@dataclass
class Book:
    """What the bot holds: cash and its open positions (by symbol)."""

    cash: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    partially_filled_order: Order | None = None
    breaches: int = 0
    in_breach: bool = False


class SimulatedBot:
    """A deterministic momentum bot (seeded random walk) that persists through its store."""

    def __init__(
        self,
        store: AsyncTradeStore,
        symbols: Sequence[str],
        seed: int,
        account: Account,
        portfolio: Portfolio,
    ) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.prices = {s: START_PRICES.get(s, Decimal("100")) for s in symbols}
        self.history: dict[str, list[Decimal]] = {s: [] for s in symbols}
        self.book = Book(cash=portfolio.cash)
        self.account = account
        self.portfolio = portfolio

    @classmethod
    async def start(cls, store: AsyncTradeStore, symbols: Sequence[str], seed: int) -> SimulatedBot:
        """A bot with a fresh account and portfolio of its own (a rerun never collides)."""
        cash = Decimal("100000")
        run = uuid.uuid4().hex[:8]
        account = await store.accounts.create(name=f"demo-{run}", cash_balance=cash, user_id="demo")
        portfolio = await store.portfolios.create(
            account_id=account.id, name=STRATEGY, cash=cash, user_id="demo"
        )
        return cls(store, symbols, seed, account, portfolio)

    # -- the market --------------------------------------------------------------------

    def _tick(self, symbol: str) -> Decimal:
        drift = 0.0001 if symbol != "BTC-USD" else 0.00005
        step = math.exp(self.rng.gauss(drift, 0.003))
        price = (self.prices[symbol] * Decimal(repr(step))).quantize(CENT)
        self.prices[symbol] = price
        self.history[symbol].append(price)
        return price

    def _signal(self, symbol: str) -> tuple[str, Decimal]:
        """BUY when the short average is above the long one, SELL when below; confidence
        grows with the gap."""
        prices = self.history[symbol]
        if len(prices) < 20:
            return "HOLD", Decimal(0)
        short = sum(prices[-5:], Decimal(0)) / 5
        long = sum(prices[-20:], Decimal(0)) / 20
        gap = (short - long) / long
        confidence = min(Decimal(1), abs(gap) * 200).quantize(Decimal("0.0001"))
        held = symbol in self.book.positions
        if gap > Decimal("0.001") and not held:
            return "BUY", confidence
        if gap < Decimal("-0.001") and held:
            return "SELL", confidence
        return "HOLD", confidence

    # -- one iteration -------------------------------------------------------------------

    def equity(self) -> Decimal:
        return self.book.cash + self.exposure()

    def exposure(self) -> Decimal:
        """Market value of the open positions, to the cent."""
        value = sum(
            (p.quantity * self.prices[s] for s, p in self.book.positions.items()), Decimal(0)
        )
        return value.quantize(CENT)

    async def iterate(self, number: int, now: dt.datetime) -> None:
        started = time.perf_counter()
        generated = approved = executed = 0
        async with self.store.transaction():
            for symbol in self.prices:
                price = self._tick(symbol)
                action, confidence = self._signal(symbol)
                if action == "HOLD":
                    continue
                generated += 1
                if action == "BUY" and await self._blocked_by_risk(now):
                    continue
                approved += 1
                if action == "BUY":
                    await self._buy(symbol, price, confidence, now)
                else:
                    await self._sell(symbol, price, confidence, now)
                executed += 1
            if number % 10 == 0:
                await self._mark_and_measure(now)
            equity = self.equity()
            await self.store.log_equity_snapshot(
                equity, cash=self.book.cash, buying_power=self.book.cash, ts=now
            )
            await self.store.log_iteration(
                IterationSummary(
                    iteration_number=number,
                    started_at=now,
                    symbols_processed=list(self.prices),
                    signals_generated=generated,
                    signals_validated=generated,
                    signals_approved=approved,
                    signals_executed=executed,
                    duration_seconds=time.perf_counter() - started,
                )
            )

    async def _blocked_by_risk(self, now: dt.datetime) -> bool:
        equity = self.equity()
        limit = (equity * MAX_EXPOSURE_SHARE).quantize(CENT)
        current = self.exposure().quantize(CENT)
        breached = current > limit
        if breached and not self.book.in_breach:
            self.book.breaches += 1
            await self.store.audit.log_risk_limit_breached(
                "max_exposure",
                limit,
                current,
                "portfolio",
                self.portfolio.id,
                "block_new_entries",
                user_id="demo",
                strategy_id=STRATEGY,
            )
        self.book.in_breach = breached
        return breached

    async def _buy(
        self, symbol: str, price: Decimal, confidence: Decimal, now: dt.datetime
    ) -> None:
        budget = self.equity() * POSITION_SHARE
        quantity = (budget / price).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
        orders = self.store.orders
        order = await orders.submit(
            portfolio_id=self.portfolio.id,
            account_id=self.account.id,
            symbol=symbol,
            side="buy",
            order_type="limit",
            quantity=quantity,
            limit_price=price + CENT * 5,
            strategy_id=STRATEGY,
            user_id="demo",
        )
        # Two partial fills at slightly different prices: the order's average is exact.
        first = (quantity * Decimal("0.4")).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
        order, _ = await orders.fill(order.id, quantity=first, price=price, executed_at=now)
        if self.book.partially_filled_order is None:
            self.book.partially_filled_order = order
        order, _ = await orders.fill(
            order.id, quantity=quantity - first, price=price + CENT, executed_at=now
        )
        average = order.average_fill_price or price
        self.book.cash = (self.book.cash - quantity * average).quantize(CENT)
        self.book.positions[symbol] = await self.store.positions.open(
            portfolio_id=self.portfolio.id,
            symbol=symbol,
            side="long",
            quantity=quantity,
            entry_price=average,
            entry_time=now,
            strategy_id=STRATEGY,
            user_id="demo",
        )
        await self._log_signal(order, "BUY", price=price, confidence=confidence, now=now)

    async def _sell(
        self, symbol: str, price: Decimal, confidence: Decimal, now: dt.datetime
    ) -> None:
        position = self.book.positions.pop(symbol)
        order = await self.store.orders.submit(
            portfolio_id=self.portfolio.id,
            account_id=self.account.id,
            symbol=symbol,
            side="sell",
            order_type="market",
            quantity=position.quantity,
            strategy_id=STRATEGY,
            user_id="demo",
        )
        order, _ = await self.store.orders.fill(
            order.id, quantity=position.quantity, price=price, executed_at=now
        )
        await self.store.positions.close(
            position.id, exit_price=price, exit_time=now, user_id="demo"
        )
        self.book.cash = (self.book.cash + position.quantity * price).quantize(CENT)
        await self._log_signal(order, "SELL", price=price, confidence=confidence, now=now)

    async def _log_signal(
        self,
        order: Order,
        action: TradeAction,
        *,
        price: Decimal,
        confidence: Decimal,
        now: dt.datetime,
    ) -> None:
        await self.store.log_trade(
            TradeSignal(
                symbol=order.symbol,
                action=action,
                strategy_name=STRATEGY,
                quantity=order.quantity,
                signal_price=price,
                confidence=confidence,
                signal_time=now,
                reasoning=f"5-minute average crossed the 20-minute average ({action})",
            ),
            ExecutionResult(
                executed=True,
                fill_price=order.average_fill_price,
                execution_time=now,
                broker_order_id=f"SIM-{order.id}",
            ),
        )

    async def _mark_and_measure(self, now: dt.datetime) -> None:
        for symbol, position in list(self.book.positions.items()):
            self.book.positions[symbol] = await self.store.positions.mark_to_market(
                position.id, price=self.prices[symbol]
            )
        equity = self.equity()
        exposures = [p.quantity * self.prices[s] for s, p in self.book.positions.items()]
        await self.store.log_risk_metrics(
            recorded_at=now,
            portfolio_value=equity.quantize(CENT),
            open_positions=len(self.book.positions),
            total_exposure=sum(exposures, Decimal(0)).quantize(CENT),
            largest_position=max(exposures, default=Decimal(0)).quantize(CENT),
            total_pnl=(equity - Decimal(100000)).quantize(CENT),
            daily_loss_limit=Decimal("2000"),
            risk_per_trade=POSITION_SHARE,
        )

    async def finish(self, now: dt.datetime) -> None:
        equity = self.equity().quantize(CENT)
        account = await self.store.accounts.get(self.account.id)
        await self.store.accounts.update(
            account.id,
            version=account.version,
            cash_balance=self.book.cash.quantize(CENT),
            total_equity=equity,
            user_id="demo",
        )
        await self.store.log_audit_report(
            AuditReport(
                report_type="daily",
                generated_at=now,
                summary=f"Simulated session: equity {equity}, {self.book.breaches} risk breach(es)",
                recommendations=["review max_exposure"] if self.book.breaches else [],
                metrics={"equity": str(equity), "open_positions": len(self.book.positions)},
            )
        )


# -- the printout ------------------------------------------------------------------------


async def _print_trade_history(store: AsyncTradeStore, since: dt.datetime) -> None:
    rows = await store.get_trade_history(start_date=since, limit=10)
    print("\nTrade history (newest 10):")
    print(
        f"  {'signal time (UTC)':<20} {'symbol':<8} {'action':<6} {'quantity':>12} "
        f"{'fill price':>12}  executed"
    )
    for row in rows:
        when = row.signal_time.strftime("%Y-%m-%d %H:%M")
        print(
            f"  {when:<20} {row.symbol:<8} {row.action:<6} {row.quantity:>12.4f} "
            f"{row.fill_price or 0:>12.4f}  {row.executed}"
        )


async def _print_equity(store: AsyncTradeStore, since: dt.datetime) -> None:
    curve = await store.get_equity_curve(start_date=since)  # newest first
    if not curve:
        return
    values = [p.equity for p in curve]
    first, last = curve[-1].equity, curve[0].equity
    print(
        f"\nEquity curve of this run: {len(curve)} points, start {first:.2f}, end {last:.2f}, "
        f"low {min(values):.2f}, high {max(values):.2f}, "
        f"return {(last - first) / first * 100:.3f}%"
    )


async def _print_order_trail(store: AsyncTradeStore, order: Order | None) -> None:
    if order is None:
        return
    print(f"\nAudit trail of order {order.id} ({order.symbol}, two partial fills):")
    for row in await store.audit.get_entity_history("order", order.id):
        values = row.new_values or {}
        state = f"status={values.get('status')} filled={values.get('filled_quantity')}"
        print(f"  {row.occurred_at:%H:%M:%S.%f} {row.action:<16} {row.severity:<8} {state}")


async def _simulation_start(store: AsyncTradeStore, iterations: int) -> dt.datetime:
    """The run's simulated minutes end now, or, when an earlier run's equity curve reaches
    further, continue after it: a rerun extends the curve instead of interleaving with it."""
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    start -= dt.timedelta(minutes=iterations)
    latest = await store.get_equity_curve(limit=1)
    if latest and latest[0].recorded_at >= start:
        start = latest[0].recorded_at.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return start


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--symbols", default=",".join(START_PRICES))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    settings = tradestore.load_settings()
    print(f"database: {settings.url.redacted}")
    if ASYNC:
        applied = await asyncio.to_thread(tradestore.migrate, settings.url)  # yoyo blocks
    else:
        applied = tradestore.migrate(settings.url)
    print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    started = time.perf_counter()
    async with AsyncTradeStore(settings.url, min_size=1, max_size=4) as store:
        if ASYNC:
            heartbeat = Heartbeat()
        bot = await SimulatedBot.start(store, args.symbols.split(","), args.seed)
        start = await _simulation_start(store, args.iterations)
        for number in range(1, args.iterations + 1):
            await bot.iterate(number, start + dt.timedelta(minutes=number))
        await bot.finish(start + dt.timedelta(minutes=args.iterations))
        elapsed = time.perf_counter() - started
        print(
            f"simulated {args.iterations} iterations over {len(bot.prices)} symbols in "
            f"{elapsed:.2f}s; {bot.book.breaches} risk-limit breach(es) audited"
        )
        since = start + dt.timedelta(minutes=1)
        await _print_trade_history(store, since)
        await _print_equity(store, since)
        await _print_order_trail(store, bot.book.partially_filled_order)
        stats = store.pool.stats()
        health = await store.health_check()
        print(
            f"\npool: {stats.checkouts} checkouts, {stats.created} connections opened, "
            f"health {health['status']}"
        )
        if ASYNC:
            print(await heartbeat.stop())
    return 0


if ASYNC:

    class Heartbeat:
        """A task beside the bot that wakes every millisecond: the longest gap between two
        wake-ups is the longest the bot's database work kept the event loop from running."""

        def __init__(self) -> None:
            self.ticks = 0
            self.longest = 0.0
            self._task = asyncio.create_task(self._beat())

        async def _beat(self) -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                self.ticks += 1
                self.longest = max(self.longest, now - last)
                last = now

        async def stop(self) -> str:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            return (
                f"event loop: {self.ticks} heartbeats, longest gap {self.longest * 1000:.1f} ms "
                "(the database work never ran on it)"
            )


if __name__ == "__main__":
    if ASYNC:
        raise SystemExit(asyncio.run(main()))
    else:
        raise SystemExit(main())

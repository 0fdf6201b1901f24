"""Fault 4: optimistic locking under contention, on both backends.

Eight threads, released together by a `threading.Barrier`, amend the same order with
``orders.update(order_id, version=<the version they read>, ...)``. Optimistic locking promises:
of the writers holding one version, exactly one wins and every other one gets
`StaleVersionError` (never another error, never a silent overwrite), every win bumps the
version by exactly one, and every win leaves exactly one ``update`` audit row.

Two shapes of contention:

- Rounds: all eight read the SAME version before the barrier, so at most one can win each
  round. The test asserts exactly 1 success and 7 `StaleVersionError` per round, which a lost
  update (two winners) or a spurious refusal (no winner) would break.
- Retry until done: each thread needs several wins and re-reads after every refusal, as a bot
  would. Every acknowledged win must show up as its own version (no two wins on one version),
  in the final version count and as one audit row.

Each thread holds its own pooled connection (``min_size = max_size = 8``), so the eight
transactions really run at once: on PostgreSQL they queue on the row's ``FOR UPDATE`` lock, on
SQLite on ``BEGIN IMMEDIATE``; the losers then see the winner's version and are refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from tradestore import TradeStore, migrate
from tradestore.errors import StaleVersionError
from tradestore.trading.models import Order

THREADS = 8
ROUNDS = 5
WINS_PER_THREAD = 3
# A thread's refusals are bounded by the other threads' wins (each refusal means another
# writer committed after this thread's read, and the next attempt reads after that commit),
# so it needs at most (THREADS - 1) * WINS_PER_THREAD + WINS_PER_THREAD attempts. The cap is
# only there to turn a livelock bug into a failure instead of a hang.
MAX_ATTEMPTS = 10 * THREADS * WINS_PER_THREAD
JOIN_SECONDS = 120.0


@dataclass
class Outcomes:
    """What the racing threads saw; appended to under a lock."""

    wins: list[Order] = field(default_factory=list)
    stale: int = 0
    other: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def win(self, row: Order) -> None:
        with self.lock:
            self.wins.append(row)

    def refused(self) -> None:
        with self.lock:
            self.stale += 1

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            self.other.append(exc)


@pytest.fixture
def store(db_url: str) -> Iterator[TradeStore]:
    migrate(db_url)
    # One connection per thread, opened up front: nobody waits for the pool, only for the
    # database's own lock, which is the contention under test.
    with TradeStore(db_url, min_size=THREADS, max_size=THREADS, timeout=60) as s:
        yield s


@pytest.fixture
def order(store: TradeStore) -> Order:
    account = store.accounts.create(name="contention", cash_balance=Decimal("1000000"))
    portfolio = store.portfolios.create(account_id=account.id, name="core")
    return store.orders.submit(
        portfolio_id=portfolio.id,
        symbol="AAPL",
        side="buy",
        order_type="limit",
        quantity=Decimal("100"),
        limit_price=Decimal("150"),
    )


def run_threads(target: Callable[[int], None]) -> None:
    """Start THREADS threads on `target(n)` and join them (bounded: a hang is a failure)."""
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=JOIN_SECONDS)
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"threads still running after {JOIN_SECONDS}s: {alive}"


def amend(store: TradeStore, order_id: int, version: int, tag: int) -> Order:
    """Amend the order with a quantity AND a limit price unique to `tag`: a final row mixing
    two writers' values (a torn or lost update) would then match no single win."""
    return store.orders.update(
        order_id,
        version=version,
        quantity=Decimal(1000 + tag),
        limit_price=Decimal(f"150.{tag:04d}"),
    )


def update_rows(store: TradeStore, order_id: int) -> list[dict[str, object]]:
    """The ``new_values`` of the order's ``update`` audit rows, oldest first."""
    rows = [a for a in store.audit.get_entity_history("order", order_id) if a.action == "update"]
    return [a.new_values or {} for a in rows]


def race_once(store: TradeStore, order_id: int, tag_base: int) -> tuple[list[int], Outcomes]:
    """One round: eight threads read the order, meet at the barrier, then all update it."""
    outcomes = Outcomes()
    seen_versions: list[int] = []
    barrier = threading.Barrier(THREADS, timeout=60)

    def racer(n: int) -> None:
        try:
            # Each thread reads the order itself; nobody writes before the barrier, so all
            # eight hold the same version when they are released.
            version = store.orders.get(order_id).version
            with outcomes.lock:
                seen_versions.append(version)
            barrier.wait()
            row = amend(store, order_id, version, tag_base + n)
        except StaleVersionError:
            outcomes.refused()
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            outcomes.failed(exc)
        else:
            outcomes.win(row)

    run_threads(racer)
    return seen_versions, outcomes


def test_same_version_racers_exactly_one_wins_each_round(
    store: TradeStore, order: Order, db_url: str
) -> None:
    v0 = order.version
    round_winners: list[Order] = []
    for rnd in range(ROUNDS):
        seen_versions, outcomes = race_once(store, order.id, rnd * THREADS)
        assert outcomes.other == [], f"round {rnd}: unexpected errors {outcomes.other!r}"
        expected_version = v0 + rnd
        assert seen_versions == [expected_version] * THREADS
        # The core property: one version, one winner, everybody else told to re-read.
        assert len(outcomes.wins) == 1, f"round {rnd}: {len(outcomes.wins)} winners"
        assert outcomes.stale == THREADS - 1
        (winner,) = outcomes.wins
        assert winner.version == expected_version + 1
        round_winners.append(winner)

    final = store.orders.get(order.id)
    assert final.version == v0 + ROUNDS
    last = round_winners[-1]
    # The row is the last winner's, whole: both columns from the same write.
    assert (final.quantity, final.limit_price) == (last.quantity, last.limit_price)
    # One audit row per win, each recording exactly the row that win wrote.
    audited = update_rows(store, order.id)
    assert [r["version"] for r in audited] == [w.version for w in round_winners]
    assert [Decimal(str(r["quantity"])) for r in audited] == [w.quantity for w in round_winners]
    print(  # the figures for the report (shown with -s)
        f"\n[{db_url.split(':', 1)[0]}] rounds={ROUNDS} wins={len(round_winners)} "
        f"stale={ROUNDS * (THREADS - 1)} final_version={final.version}"
    )


def test_retrying_racers_every_win_lands_exactly_once(
    store: TradeStore, order: Order, db_url: str
) -> None:
    v0 = order.version
    outcomes = Outcomes()
    attempts = [0] * THREADS
    barrier = threading.Barrier(THREADS, timeout=60)

    def racer(n: int) -> None:
        # The first attempt uses the version read before the barrier (the same for all eight),
        # so at least seven refusals are certain; after that, re-read and retry like a bot.
        version = store.orders.get(order.id).version
        barrier.wait()
        wins = 0
        while wins < WINS_PER_THREAD and attempts[n] < MAX_ATTEMPTS:
            attempts[n] += 1
            try:
                row = amend(store, order.id, version, n * 1000 + attempts[n])
            except StaleVersionError:
                outcomes.refused()
                version = store.orders.get(order.id).version
            except Exception as exc:  # noqa: BLE001  (collected and asserted below)
                outcomes.failed(exc)
                return
            else:
                outcomes.win(row)
                wins += 1
                version = row.version

    run_threads(racer)
    assert outcomes.other == [], f"unexpected errors {outcomes.other!r}"
    total = THREADS * WINS_PER_THREAD
    assert len(outcomes.wins) == total, f"attempts per thread: {attempts}"
    # Each refusal is explained by a distinct win of another thread (see MAX_ATTEMPTS).
    assert max(attempts) <= total, f"attempts per thread: {attempts}"
    assert outcomes.stale >= THREADS - 1
    assert sum(attempts) == total + outcomes.stale
    # Every acknowledged win holds its own version: two wins on one version would be a lost
    # update; a gap would be a write nobody was told about.
    versions = sorted(w.version for w in outcomes.wins)
    assert versions == list(range(v0 + 1, v0 + total + 1))
    final = store.orders.get(order.id)
    assert final.version == v0 + total
    last = max(outcomes.wins, key=lambda w: w.version)
    assert (final.quantity, final.limit_price) == (last.quantity, last.limit_price)
    audited = update_rows(store, order.id)
    assert len(audited) == total
    by_version = {w.version: w for w in outcomes.wins}
    assert sorted(int(str(r["version"])) for r in audited) == versions
    for r in audited:
        assert Decimal(str(r["quantity"])) == by_version[int(str(r["version"]))].quantity
    print(  # the figures for the report (shown with -s)
        f"\n[{db_url.split(':', 1)[0]}] wins={total} stale={outcomes.stale} "
        f"attempts/thread={attempts} final_version={final.version}"
    )

"""The README's first command (`make demo`): the kit end to end on the embedded SQLite default.

Interim version (issue 2): opens the pool on DATABASE_URL (default sqlite:///data/tradestore.db),
does a round trip with exact Decimal and aware datetime values from several threads, and prints
the pool's stats and health.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import tradestore


def main() -> None:
    pool = tradestore.connect(min_size=1, max_size=4, name="demo")
    print(f"pool: {pool!r}")
    with pool.transaction() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS demo_ticks (symbol TEXT, price TEXT, ts TEXT)")
        conn.execute("DELETE FROM demo_ticks")

    def writer(symbol: str) -> None:
        for i in range(25):
            price = Decimal("100.12345678") + i
            with pool.transaction() as conn:
                conn.execute(
                    "INSERT INTO demo_ticks (symbol, price, ts) VALUES (?, ?, ?)"
                    if pool.dialect == "sqlite"
                    else "INSERT INTO demo_ticks (symbol, price, ts) VALUES (%s, %s, %s)",
                    (symbol, price, dt.datetime.now(dt.UTC)),
                )

    threads = [threading.Thread(target=writer, args=(s,)) for s in ("AAPL", "MSFT", "BTC-USD")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT symbol, COUNT(*), MAX(price) FROM demo_ticks GROUP BY symbol ORDER BY symbol"
        ).fetchall()
    for symbol, count, top in rows:
        print(f"{symbol:8} {count:3} ticks, last price {Decimal(top)} (exact)")
    print(f"stats: {pool.stats()}")
    print(f"health: {pool.health_check()}")
    pool.close()


if __name__ == "__main__":
    main()

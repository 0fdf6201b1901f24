"""Fault 5: 4 writer threads + 4 reader threads on one WAL file for a bounded time.

No "database is locked" may reach a caller (BEGIN IMMEDIATE + busy_timeout make writers
queue instead of failing), and every acknowledged write is counted exactly.
"""

from __future__ import annotations

import threading
import time

from tradestore import Pool

RUN_SECONDS = 2.0


def test_writers_and_readers_on_one_wal_file(sqlite_url: str) -> None:
    with Pool(sqlite_url, min_size=1, max_size=8, timeout=30) as pool:
        with pool.transaction() as conn:
            conn.execute("CREATE TABLE fills (writer INTEGER, seq INTEGER, qty TEXT)")
        stop = time.monotonic() + RUN_SECONDS
        acknowledged = [0] * 4
        reads = [0] * 4
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            seq = 0
            while time.monotonic() < stop:
                try:
                    with pool.transaction() as conn:
                        conn.execute("INSERT INTO fills VALUES (?, ?, '1.5')", (n, seq))
                        conn.execute("INSERT INTO fills VALUES (?, ?, '2.5')", (n, seq + 1))
                except Exception as exc:  # noqa: BLE001  (collected and asserted below)
                    errors.append(exc)
                    return
                acknowledged[n] += 2
                seq += 2

        def reader(n: int) -> None:
            while time.monotonic() < stop:
                try:
                    with pool.connection() as conn:
                        total = conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
                        # Readers never see half a transaction: rows come in pairs.
                        if total % 2:
                            errors.append(AssertionError(f"odd row count {total}"))
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
                    return
                reads[n] += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        threads += [threading.Thread(target=reader, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        with pool.connection() as conn:
            per_writer = dict(
                conn.execute("SELECT writer, COUNT(*) FROM fills GROUP BY writer").fetchall()
            )
        assert per_writer == {n: acknowledged[n] for n in range(4) if acknowledged[n]}
        assert all(r > 0 for r in reads)
        assert sum(acknowledged) > 0

"""`make soak`, short: tools/soak.py runs 5 s against the test PostgreSQL as a real process.

It must exit 0 with a summary line saying nothing was lost, after at least one fault really
hit the pool; and its own schema must be gone afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg

SOAK = Path(__file__).resolve().parents[2] / "tools" / "soak.py"
SUMMARY = re.compile(
    r"^soak: (?P<seconds>[\d.]+) s, (?P<threads>\d+) threads, "
    r"writes (?P<acknowledged>\d+) acknowledged / (?P<stored>\d+) stored, "
    r"(?P<faults>\d+) faults injected, (?P<raised>\d+) raised .*"
    r"unexplained (?P<unexplained>\d+), lost (?P<lost>\d+)$"
)


def test_short_soak_loses_nothing(postgres_base_url: str) -> None:
    env = dict(os.environ, DATABASE_URL=postgres_base_url)
    done = subprocess.run(
        [sys.executable, str(SOAK), "--seconds", "5", "--fault-every", "1.5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    last = done.stdout.strip().splitlines()[-1]
    match = SUMMARY.match(last)
    assert match, f"no summary line in:\n{output}"
    assert int(match["lost"]) == 0
    assert int(match["unexplained"]) == 0
    assert int(match["faults"]) >= 1
    assert int(match["acknowledged"]) > 0
    assert int(match["stored"]) >= int(match["acknowledged"])
    schema = re.search(r"schema (soak_\w+)", output)
    assert schema, output
    with psycopg.connect(postgres_base_url, autocommit=True) as admin:
        left = admin.execute(
            "SELECT COUNT(*) FROM pg_namespace WHERE nspname = %s", (schema[1],)
        ).fetchone()
    assert left == (0,), f"the soak left its schema {schema[1]} behind"

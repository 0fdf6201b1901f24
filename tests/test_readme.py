"""Every Python example in README.md runs, as written, in a fresh folder (SQLite files there).

A block right after an ``<!-- not run: reason -->`` line is skipped (it needs a server the
reader has, not the test); the reason is reported. This keeps the README true.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", re.DOTALL)
_SKIP = re.compile(r"<!--\s*not run:\s*(?P<reason>.*?)\s*-->")


def readme_blocks() -> list[tuple[str, str, str | None]]:
    """(id, code, skip reason) of every python block, the id naming its line in README.md."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        skip = _SKIP.search(match["before"])
        blocks.append((f"README.md:{line}", match["code"], skip["reason"] if skip else None))
    return blocks


BLOCKS = readme_blocks()


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(("where", "code", "skip"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_readme_example_runs(where: str, code: str, skip: str | None, tmp_path: Path) -> None:
    if skip:
        pytest.skip(f"{where}: {skip}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/env.db"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{where} failed:\n{done.stderr[-3000:]}"

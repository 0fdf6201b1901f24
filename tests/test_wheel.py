"""The wheel, installed into a fresh venv outside the checkout, finds its own SQL and migrations."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import pathlib, tradestore
from tradestore import load_queries
from tradestore.resources import builtin_sql_dir
package = pathlib.Path(tradestore.__file__).parent
assert "site-packages" in str(package), package
assert builtin_sql_dir() == package / "sql", builtin_sql_dir()
assert (package / "migrations").is_dir()
assert (package / "py.typed").is_file()
q = load_queries(echo=False, slow_query_ms=None)
shipped = sorted(p.name for p in (package / "sql").rglob("*.sql"))
print(len(q), len(shipped))
"""


@pytest.mark.slow
def test_wheel_installs_and_loads_builtin_queries(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        timeout=600,  # may fetch the build backend from the package index
    )
    (wheel,) = dist.glob("tradestore-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        timeout=600,
    )
    probe = subprocess.run(
        [str(python), "-c", PROBE],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    loaded, files = (int(n) for n in probe.stdout.split())
    source_files = sorted((ROOT / "sql").rglob("*.sql"))
    assert files == len(source_files)
    assert loaded >= (1 if source_files else 0)

"""The sync twins of the async sources are what `make generate` makes of them, byte for byte.

One source for both faces holds only while nobody edits a twin by hand and every source change
is regenerated: this fails, naming the stale twins, until `make generate` has run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "async_to_sync.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("async_to_sync", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["async_to_sync"] = module
    spec.loader.exec_module(module)
    return module


TOOL_MODULE = _tool()
TWINS = TOOL_MODULE.twins()


def test_there_are_twins() -> None:
    assert len(TWINS) >= 5


@pytest.mark.parametrize(("source", "twin"), TWINS, ids=[t.name for _, t in TWINS])
def test_twin_is_generated_from_its_source(source: Path, twin: Path) -> None:
    expected = TOOL_MODULE.convert(source.read_text(encoding="utf-8"), source.name)
    assert twin.exists(), f"{twin} is missing: run `make generate`"
    assert twin.read_text(encoding="utf-8") == expected, (
        f"{twin.name} is stale or edited by hand: edit {source.name} and run `make generate`"
    )


def test_the_tool_turns_async_into_sync() -> None:
    source = '''"""An AsyncPool, awaited."""
from tradestore.db._acompat import ASYNC, asleep


class AsyncPool:
    async def __aenter__(self) -> "AsyncPool":
        if ASYNC:
            await self.open()
        return self

    async def go(self) -> int:
        if ASYNC:
            x = 1
        else:
            # the sync face's own branch
            x = await one()
        async with self.lock:
            await asleep(0.1)
        return x
'''
    out = TOOL_MODULE.convert(source, "demo_async.py")
    assert out.splitlines()[0].startswith("# Generated from demo_async.py")
    body = out.split("\n", 2)[2]
    assert (
        body
        == '''"""An Pool, awaited."""
from tradestore.db._acompat import ASYNC, sleep


class Pool:
    def __enter__(self) -> "Pool":
        return self

    def go(self) -> int:
        # the sync face's own branch
        x = one()
        with self.lock:
            sleep(0.1)
        return x
'''
    )


def test_check_mode_passes_on_this_tree() -> None:
    assert TOOL_MODULE.main(["--check"]) == 0


def test_ruff_leaves_the_twins_alone() -> None:
    """ruff would reformat or re-sort a twin and make it stale: each is excluded (and linted
    through its source instead)."""
    pyproject = (TOOL.parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    root = TOOL.parent.parent
    missing = [
        str(t.relative_to(root)) for _, t in TWINS if f'"{t.relative_to(root)}"' not in pyproject
    ]
    assert not missing, f"add to [tool.ruff] extend-exclude in pyproject.toml: {missing}"


def test_a_block_dropped_whole_keeps_the_spacing() -> None:
    source = """import os

if ASYNC:
    import asyncio


class AsyncPool:
    # -- lifetime

    if ASYNC:

        async def open(self) -> None:
            pass

    async def close(self) -> None:
        pass
"""
    body = TOOL_MODULE.convert(source, "x_async.py").split("\n", 2)[2]
    assert (
        body
        == """import os


class Pool:
    # -- lifetime

    def close(self) -> None:
        pass
"""
    )

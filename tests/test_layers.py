"""The package's imports flow one way: base → db → queries → schema → trading → cli.

Every module is parsed with `ast` (nothing is imported to find its imports), so imports
inside functions and under ``if TYPE_CHECKING:`` are seen too, and both count:

- a deferred import (inside a function) runs whenever that function is called: it is as real
  a dependency as one at the top, only later;
- a TYPE_CHECKING import is a dependency of the module's *API*: its annotations name the
  upper layer's types, so the lower layer cannot be type-checked, read or reused without the
  upper one, and anything that evaluates annotations at run time (pydantic,
  ``typing.get_type_hints``) turns it into a real import. It is also the usual way a cycle
  gets hidden rather than removed.

The root ``tradestore/__init__.py`` is exempt (it re-exports every layer's public names,
lazily), but eagerly it may import only the standard library; ``from tradestore import X``
elsewhere counts as an import of the module the root takes X from.

``python tests/test_layers.py`` prints the graph: per layer, each module and what it imports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import tradestore

ROOT = "tradestore"
PACKAGE_DIR = Path(tradestore.__file__).parent
#: Low to high: a module may import its own layer and the ones before it, never after.
LAYERS = ("base", "db", "queries", "schema", "trading", "cli")
BASE_MODULES = frozenset({"tradestore.errors", "tradestore.resources"})
#: How an import is reached: at import time, when a function runs, or by the type checker.
EAGER, DEFERRED, TYPING = "eager", "deferred", "typing"


@dataclass(frozen=True)
class Edge:
    """One import of one package module by another."""

    source: str
    target: str
    line: int
    kind: str

    @property
    def where(self) -> str:
        return f"{module_path(self.source)}:{self.line}"


def module_path(module: str) -> str:
    return MODULES[module].relative_to(PACKAGE_DIR.parent).as_posix()


def discover() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = discover()


def layer_of(module: str) -> str | None:
    """The module's layer; None for the root (and for a root module nobody placed yet)."""
    if module in BASE_MODULES:
        return "base"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return None


def rank(module: str) -> int:
    layer = layer_of(module)
    assert layer is not None, module
    return LAYERS.index(layer)


class _Imports(ast.NodeVisitor):
    """The package-internal imports of one module, with line and kind."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[str, tuple[str, ...], int, str]] = []
        self.root_aliases: set[str] = set()
        self.root_attributes: list[tuple[str, int, str]] = []
        self._kind = [EAGER]

    def _visit_as(self, kind: str, nodes: list[ast.stmt]) -> None:
        # Once deferred or typing-only, everything nested stays so.
        self._kind.append(kind if self._kind[-1] == EAGER else self._kind[-1])
        for node in nodes:
            self.visit(node)
        self._kind.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_as(DEFERRED, node.body)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_as(DEFERRED, node.body)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name != "TYPE_CHECKING":
            self.generic_visit(node)
            return
        self._visit_as(TYPING, node.body)
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == ROOT:
                self.root_aliases.add(alias.asname or ROOT)
            elif alias.name.startswith(ROOT + "."):
                self.found.append((alias.name, (), node.lineno, self._kind[-1]))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        if source == ROOT or source.startswith(ROOT + "."):
            names = tuple(alias.name for alias in node.names)
            self.found.append((source, names, node.lineno, self._kind[-1]))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        # `import tradestore` then `tradestore.migrate(...)`: an import of migrate's home.
        if isinstance(node.value, ast.Name) and node.value.id in self.root_aliases:
            self.root_attributes.append((node.attr, node.lineno, self._kind[-1]))
        self.generic_visit(node)


def parse(module: str) -> _Imports:
    path = MODULES[module]
    visitor = _Imports(module, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return visitor


@cache
def reexports() -> dict[str, str]:
    """Public name → the module the root takes it from (its TYPE_CHECKING block names them)."""
    homes: dict[str, str] = {}
    for source, names, _line, _kind in parse(ROOT).found:
        for name in names:
            homes[name] = source
    return homes


def resolve(source: str, name: str | None) -> str:
    """The package module that `from source import name` (or `import source`) loads."""
    if source == ROOT and name is not None:
        if f"{ROOT}.{name}" in MODULES:
            return f"{ROOT}.{name}"
        assert name in reexports(), f"tradestore.{name} is not re-exported by the root"
        return reexports()[name]
    if name is not None and f"{source}.{name}" in MODULES:
        return f"{source}.{name}"
    assert source in MODULES, f"no module {source}"
    return source


@cache
def edges() -> tuple[Edge, ...]:
    """Every import of a package module by another one (the root excluded as a source)."""
    found: set[Edge] = set()
    for module in MODULES:
        if module == ROOT:
            continue
        imports = parse(module)
        for source, names, line, kind in imports.found:
            for name in names or (None,):
                target = resolve(source, name)
                if target not in (module, ROOT):
                    found.add(Edge(module, target, line, kind))
        for attribute, line, kind in imports.root_attributes:
            found.add(Edge(module, resolve(ROOT, attribute), line, kind))
    return tuple(sorted(found, key=lambda e: (e.source, e.target, e.line)))


def cycles() -> list[list[str]]:
    """The import cycles (strongly connected components of more than one module), Tarjan."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES if module != ROOT}
    for edge in edges():
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def short(module: str) -> str:
    return module.removeprefix(ROOT + ".")


def _mark(kinds: set[str]) -> str:
    """How the strongest import of a target is reached: eager (no mark), deferred, typing."""
    if EAGER in kinds:
        return ""
    return "~" if DEFERRED in kinds else "?"


def graph_table() -> Iterator[str]:
    """Per layer: the layers it imports, then each module and what it imports.

    A target marked ``~`` is imported only inside functions, ``?`` only under TYPE_CHECKING.
    """
    by_source: dict[str, dict[str, set[str]]] = {}
    for edge in edges():
        by_source.setdefault(edge.source, {}).setdefault(edge.target, set()).add(edge.kind)
    for layer in LAYERS:
        members = [m for m in MODULES if layer_of(m) == layer]
        uses = sorted(
            {layer_of(t) or ROOT for m in members for t in by_source.get(m, {})} - {layer},
            key=lambda name: LAYERS.index(name) if name in LAYERS else -1,
        )
        yield f"[{layer}] {len(members)} modules; imports from: {', '.join(uses) or '-'}"
        for module in members:
            targets = by_source.get(module, {})
            names = [short(t) + _mark(kinds) for t, kinds in sorted(targets.items())]
            yield f"  {short(module):<34} {', '.join(names) or '-'}"


# ---------------------------------------------------------------------------- the checks


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in MODULES if m != ROOT and layer_of(m) is None]
    assert not unplaced, f"place these modules in a layer (LAYERS/BASE_MODULES): {unplaced}"


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{e.where}: {e.source} ({layer_of(e.source)}) imports {e.target} "
        f"({layer_of(e.target)}) [{e.kind}]"
        for e in edges()
        if rank(e.target) > rank(e.source)
    ]
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_the_root_imports_only_the_standard_library_eagerly() -> None:
    tree = ast.parse(MODULES[ROOT].read_text(encoding="utf-8"))
    eager: list[str] = []
    for node in tree.body:  # module level only: TYPE_CHECKING blocks are `if` statements
        if isinstance(node, ast.Import):
            eager += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            eager.append("." * node.level + (node.module or ""))
    outside = [name for name in eager if name.split(".")[0] not in sys.stdlib_module_names]
    assert not outside, f"tradestore/__init__.py imports eagerly: {outside}"


def test_no_import_cycles() -> None:
    found = cycles()
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_graph_covers_every_import_kind() -> None:
    """The walk sees deferred and TYPE_CHECKING imports (else the checks above prove less)."""
    kinds = {e.kind for e in edges()}
    assert kinds == {EAGER, DEFERRED, TYPING}
    lines = list(graph_table())
    assert sum(line.startswith("[") for line in lines) == len(LAYERS)


def _upper_layers_loaded(layer: str) -> list[str]:
    """Import every module of `layer` and below in a fresh interpreter; the higher modules
    that came along."""
    top = LAYERS.index(layer)
    wanted = sorted(m for m in MODULES if m != ROOT and rank(m) <= top)
    script = (
        "import importlib, sys\n"
        f"for name in {wanted!r}:\n"
        "    importlib.import_module(name)\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('tradestore.'))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert run.returncode == 0, run.stderr
    loaded = run.stdout.split()
    assert set(wanted) <= set(loaded) | {ROOT}
    return [m for m in loaded if m in MODULES and rank(m) > top]


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_importing_a_layer_loads_nothing_above_it(layer: str) -> None:
    """The kit (base, db, queries, schema) imports without the trading modules or the CLI."""
    assert _upper_layers_loaded(layer) == []


def test_importing_the_root_loads_no_layer() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "import sys, tradestore; print(*sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert [m for m in run.stdout.split() if m.startswith(ROOT + ".")] == []


if __name__ == "__main__":
    print("\n".join(graph_table()))
    for cycle in cycles():
        print("cycle:", " <-> ".join(cycle))

"""The package's import graph: no circle, and staging at the bottom.

Every import counts, at module level or inside a function (an import moved into a function
hides a circle from Python, not from a reader) and under ``TYPE_CHECKING`` alike.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "connectwise"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path) -> set[str]:
    """The package's modules a file imports (``from pkg import mod`` names the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return {name for name in found if name in MODULES}


GRAPH = {name: imported_modules(path) - {name} for name, path in MODULES.items()}
# The declarations at the very bottom: what every floor may import.
DECLARATIONS = {
    "connectwise",
    "connectwise.endpoints",
    "connectwise.entities",
    "connectwise.errors",
    "connectwise.paths",
    "connectwise.values",
}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_package() -> None:
    assert "connectwise.staging.writer" in MODULES
    assert "connectwise.staging.database" in GRAPH["connectwise.staging.writer"]
    assert set(MODULES) >= DECLARATIONS


def test_the_cycle_finder_finds_a_circle_through_a_function_level_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    assert cycles(GRAPH) == []


def upward(module: str, floor: str) -> set[str]:
    """What ``module`` imports from outside its floor, other than the declarations."""
    return {
        name for name in GRAPH[module] if not name.startswith(floor) and name not in DECLARATIONS
    }


@pytest.mark.parametrize("module", sorted(DECLARATIONS))
def test_the_declarations_import_only_declarations(module: str) -> None:
    assert GRAPH[module] <= DECLARATIONS


@pytest.mark.parametrize("module", sorted(name for name in MODULES if ".staging" in name))
def test_staging_imports_nothing_above_it(module: str) -> None:
    """Staging may use staging and the declarations."""
    assert upward(module, "connectwise.staging") == set()


@pytest.mark.parametrize("module", sorted(name for name in MODULES if ".client" in name))
def test_the_api_client_imports_nothing_above_it(module: str) -> None:
    """The client knows nothing of staging, the mapping or the sync."""
    assert upward(module, "connectwise.client") == set()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports(module: str) -> None:
    """A renamed module leaves no import behind (e.g. what executor workers preload)."""
    importlib.import_module(module)

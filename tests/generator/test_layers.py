"""The core stack's layers import each other in build()'s order, in a straight line.

A layer may use only the handles of layers built before it (STYLE.md), so an import of a later
layer, even under TYPE_CHECKING, is a design error: it is how the first version's logs layer ended
up in a circle with services, API and observability.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "generator" / "core"


def imports_of(path: Path) -> set[str]:
    """generator.core modules a file imports, wherever the import statement is."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("generator.core."):
            found.add(str(node.module).rsplit(".", 1)[1])
    return found


def layer_graph() -> dict[str, set[str]]:
    return {p.stem: imports_of(p) for p in CORE.glob("*.py") if p.stem != "__init__"}


def build_order() -> list[str]:
    """The modules whose add_* functions build() calls, in call order."""
    tree = ast.parse((CORE / "__init__.py").read_text())
    imported = {
        alias.name: str(node.module).rsplit(".", 1)[1]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("generator.core.")
        for alias in node.names
    }
    (build,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build"]
    order = []
    for node in ast.walk(build):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            module = imported.get(node.func.id)
            if module and module not in order:
                order.append(module)
    return order


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as err:
        return list(err.args[1])
    return None


def test_the_layers_import_each_other_without_a_cycle() -> None:
    assert cycle(layer_graph()) is None


def test_each_layer_imports_only_layers_built_before_it() -> None:
    order = build_order()
    graph = layer_graph()
    assert set(order) == set(graph), "every layer module is built by build(), and only those"
    for position, module in enumerate(order):
        later = graph[module] - set(order[:position])
        assert not later, f"{module} imports {sorted(later)}, built after it"


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = layer_graph()
    graph["logs"] = {*graph["logs"], "observability"}  # the first version's shape
    found = cycle(graph)
    assert found is not None
    assert "observability" in found


@pytest.mark.parametrize("module", ["observability", "services", "iam"])
def test_no_layer_hides_an_import_under_type_checking(module: str) -> None:
    source = (CORE / f"{module}.py").read_text()
    assert "TYPE_CHECKING" not in source

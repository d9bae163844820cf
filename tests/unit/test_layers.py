"""The import graph reads like the flow: imports only point down, and nothing imports in a circle.

    cli/                                  the `salespipe` command and the local services (top)
    generator/ announcer/ loader/ dashboard/   the stages, which never import each other
    salespipe/                            settings, contract, clients (the base)

Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE, STAGES, TOP = "salespipe", ("generator", "announcer", "loader", "dashboard"), "cli"
LAYER = {BASE: 0, **dict.fromkeys(STAGES, 1), TOP: 2}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> project modules it imports (absolute imports; the project uses no others)."""
    modules = {_module(p): p for pkg in LAYER for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            targets |= {n for n in names if n in modules}
        graph[name] = targets - {name}
    return graph


def test_every_package_is_placed_on_a_layer():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == set(LAYER)


def wrong_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports that point up a layer, or sideways from one stage into another."""
    wrong = []
    for module, targets in graph.items():
        here = module.split(".")[0]
        for target in sorted(targets):
            there = target.split(".")[0]
            if LAYER[there] > LAYER[here] or (here != there and LAYER[here] == LAYER[there] == 1):
                wrong.append(f"{module} -> {target}")
    return sorted(wrong)


def cycles(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    found: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(" -> ".join([*path[path.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def test_imports_only_point_down_and_stages_do_not_import_each_other():
    assert wrong_imports(import_graph()) == []


def test_no_module_imports_itself_through_others():
    assert cycles(import_graph()) == []


def test_the_checks_catch_an_upward_import_a_sideways_one_and_a_circle():
    graph = import_graph()
    graph["salespipe.settings"].add("loader.consumer")
    graph["dashboard.data"].add("loader.events")
    assert wrong_imports(graph) == ["dashboard.data -> loader.events",
                                    "salespipe.settings -> loader.consumer"]
    graph = import_graph()
    graph["salespipe.contract"].add("salespipe.settings")
    assert [set(c.split(" -> ")) for c in cycles(graph)] == [
        {"salespipe.contract", "salespipe.settings"}]

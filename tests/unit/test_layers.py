"""The architecture, checked: imports point down the layers, no cycles, one Netmiko boundary."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "vcollector"

# Lower layers never import higher ones; a package may import its own modules and any
# package of a lower rank.
RANKS = {
    "errors": 0,
    "cancellation": 0,
    "config": 1,
    "inventory": 2,
    "jobs": 3,
    "credentials": 3,
    "parsing": 3,
    "storage": 4,
    "transport": 4,
    "collection": 5,
    "run": 6,
    "ui": 7,
    "cli": 8,
    # python -m entry points: thin shims over the CLI.
    "run_job": 9,
    "run_jobs_concurrent": 9,
    "__main__": 9,
    "__init__": 0,
}
SSH_LIBRARIES = ("netmiko", "paramiko", "nornir_netmiko")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, also inside functions and TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_imports_point_down() -> None:
    upward = []
    for module, path in _modules().items():
        rank = RANKS[_layer(module)]
        for imported in _imports(path):
            if imported.startswith("vcollector.") and imported.split(".")[1] in RANKS:
                target = _layer(imported)
                if target != _layer(module) and RANKS[target] > rank:
                    upward.append(f"{module} -> {imported}")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        for imported in _imports(path):
            if imported in modules and imported != module:
                graph[module].add(imported)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_only_transport_imports_netmiko_and_paramiko() -> None:
    outside = sorted(
        f"{module} imports {imported}"
        for module, path in _modules().items()
        for imported in _imports(path)
        if imported.split(".")[0] in SSH_LIBRARIES and _layer(module) != "transport"
    )
    assert not outside, "\n".join(outside)


def test_modules_are_small() -> None:
    big = {
        module: lines
        for module, path in _modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_simulator_is_not_in_the_runtime_package() -> None:
    assert not (PACKAGE / "simulation").exists()
    importing = sorted(
        module
        for module, path in _modules().items()
        if any(imported.startswith("vcollector_sim") for imported in _imports(path))
    )
    assert not importing, importing

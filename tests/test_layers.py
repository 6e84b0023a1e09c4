"""The package's layers point one way, and no module or subpackage imports itself round a cycle.

Every import counts, function-local ones included: a cycle hidden inside a
function is still a cycle for whoever has to move or test one side.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ledger_export

PACKAGE = Path(ledger_export.__file__).parent
# Lower imports nothing higher. sandbox is test and demo infrastructure beside the Amili side;
# fortnox talks to the other API, at amili's level.
LAYERS = {"core": 0, "amili": 1, "fortnox": 1, "sandbox": 2, "ledger": 2, "sie": 3, "outputs": 4, "jobs": 5, "": 6}


def _module_name(path: Path) -> str:
    parts = ["ledger_export", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("ledger_export")}


FILES = {(_module_name(p)): p for p in sorted(PACKAGE.rglob("*.py"))}
MODULES = set(FILES)


def graph() -> dict[str, set[str]]:
    edges = {}
    for name, path in FILES.items():
        targets = set()
        for imported in _imports(path, name):
            # "ledger_export.core.errors.X" -> the module that defines it.
            while imported not in MODULES and "." in imported:
                imported = imported.rpartition(".")[0]
            if imported != name:
                targets.add(imported)
        edges[name] = targets
    return edges


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_subpackage_is_a_known_layer():
    assert {layer(m) for m in MODULES} <= set(LAYERS)


def test_layers_import_only_downwards():
    upward = sorted(f"{m} -> {t}" for m, targets in graph().items() for t in targets
                    if LAYERS[layer(t)] > LAYERS[layer(m)])
    assert upward == []


def test_no_cycle_between_modules():
    assert _cycle(graph()) is None


def test_no_cycle_between_subpackages():
    edges: dict[str, set[str]] = {}
    for module, targets in graph().items():
        edges.setdefault(layer(module), set()).update(layer(t) for t in targets if layer(t) != layer(module))
    assert _cycle(edges) is None


def test_the_foundation_imports_nothing_above_it():
    assert all(layer(t) == "core" for m, targets in graph().items() if layer(m) == "core" for t in targets)

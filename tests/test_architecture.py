"""The shape of generator/, read from its imports with `ast` (imports inside functions count too): no cycles,
imports that only point down the pipeline's layers, and no engine imported outside its adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator"

# Lowest first: a module may import only modules of its own layer (no cycle) or of a lower one.
LAYERS: list[set[str]] = [
    {"errors", "safefs", "hygiene", "sanitize", "citations", "cache", "workers", "urls"},  # shared, small
    {"config"},
    {"bib", "model"},  # sources, reports
    {"reproducible"},  # build dates from git or content
    {"references", "render", "rendercache"},  # citations resolved, HTML
    {"pdf"},
    {"project"},  # load → validate → render
    {"diff", "history"},  # earlier versions, what changed
    {"feed"},
    {"publish"},  # the whole site sequence → SiteOutput
    {"zensical_markdown", "plugin", "zensical_engine", "cli", "__main__"},  # engine adapters and the CLI
]
ENGINE_ADAPTERS = {"mkdocs": {"plugin", "cli"}, "zensical": {"zensical_engine"}}


def module_imports() -> dict[str, set[str]]:
    """Every generator module → the generator modules it imports, anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        name = path.stem
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    targets.add(node.module.split(".")[0])
                else:
                    targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("generator."):
                targets.add(str(node.module).split(".")[1])
            elif isinstance(node, ast.Import):
                targets.update(a.name.split(".")[1] for a in node.names if a.name.startswith("generator."))
        graph[name] = targets - {name, "__init__"}
    return graph


def external_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
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


def test_the_import_graph_has_no_cycles() -> None:
    assert cycles(module_imports()) == []


def test_every_module_has_a_layer() -> None:
    placed = set().union(*LAYERS)
    assert sorted(set(module_imports()) - placed - {"__init__"}) == []


def test_imports_only_point_down_the_layers() -> None:
    layer = {name: number for number, names in enumerate(LAYERS) for name in names}
    upward = [f"{module} imports {target}" for module, targets in module_imports().items() for target in targets
              if module in layer and target in layer and layer[target] > layer[module]]
    assert upward == []


@pytest.mark.parametrize("engine", sorted(ENGINE_ADAPTERS))
def test_only_an_engines_adapter_imports_it(engine: str) -> None:
    importers = sorted(path.stem for path in PACKAGE.glob("*.py") if engine in external_imports(path))
    assert set(importers) <= ENGINE_ADAPTERS[engine], importers


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []

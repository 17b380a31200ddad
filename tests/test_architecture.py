"""The shape of generator/, read from its imports with `ast` (imports inside functions count too): no cycles,
imports that only point down the pipeline's layers, and no engine imported outside its adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator"

# Packages by stage, lowest first: a module may import only modules of its own layer (no cycle) or of a lower one.
LAYERS: list[set[str]] = [
    {"", "errors", "safefs", "hygiene", "sanitize", "citations", "cache", "workers", "urls", "identifiers", "i18n"},  # shared
    {"config"},
    {"sources", "sources.bib", "sources.languages", "sources.resolved",  # .bib → Source
     "reports", "reports.model"},  # report.yml → Report
    {"reproducible"},  # build dates from git or content
    {"sources.references", "render", "render.report", "render.cache"},  # citations resolved, HTML
    {"publish", "publish.pdf", "publish.card"},
    {"build"},  # load → validate → render
    {"history", "history.diff", "history.versions"},  # earlier versions, what changed
    {"publish.feed"},
    {"publish.site"},  # the whole site sequence → SiteOutput
    {"net", "net.http", "net.metadata", "net.webpage", "net.links"},  # the network: `report sources` and `links`
    {"net.commands"},
    {"adapters", "adapters.zensical_markdown", "adapters.mkdocs_plugin", "adapters.mkdocs_engine",
     "adapters.zensical_engine"},
    {"cli"},  # the `report` command: over the adapters, importing no engine itself
]
ENGINE_ADAPTERS = {"mkdocs": {"adapters.mkdocs_plugin", "adapters.mkdocs_engine"},
                   "zensical": {"adapters.zensical_engine"}}


def _name(path: Path) -> str:
    """`generator/sources/bib.py` → `sources.bib`; a package's __init__ is the package (`` for generator)."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _module(dotted: str) -> str:
    """The generator module an import names (`generator.sources.bib.Source` is not possible in an import, but
    `from generator import PACKAGE_DIR` names the package itself)."""
    names = {_name(p) for p in PACKAGE.rglob("*.py")}
    while dotted and dotted not in names:
        dotted = dotted.rpartition(".")[0]
    return dotted


def module_imports() -> dict[str, set[str]]:
    """Every generator module → the generator modules it imports, anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _name(path)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "generator":
                base = str(node.module).partition(".")[2]
                for alias in node.names:  # `from generator.sources import bib` imports the module sources.bib
                    candidate = f"{base}.{alias.name}" if base else alias.name
                    targets.add(_module(candidate) if _module(candidate) == candidate else _module(base))
            elif isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{path}: relative import; the package uses absolute imports")
            elif isinstance(node, ast.Import):
                targets.update(_module(a.name.partition(".")[2]) for a in node.names if a.name.startswith("generator."))
        graph[name] = targets - {name}
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
    assert sorted(set(module_imports()) - placed) == []


def test_imports_only_point_down_the_layers() -> None:
    layer = {name: number for number, names in enumerate(LAYERS) for name in names}
    upward = [f"{module} imports {target}" for module, targets in module_imports().items() for target in targets
              if module in layer and target in layer and layer[target] > layer[module]]
    assert upward == []


@pytest.mark.parametrize("engine", sorted(ENGINE_ADAPTERS))
def test_only_an_engines_adapter_imports_it(engine: str) -> None:
    importers = sorted(_name(path) for path in PACKAGE.rglob("*.py") if engine in external_imports(path))
    assert set(importers) <= ENGINE_ADAPTERS[engine], importers


def test_only_the_network_commands_go_online() -> None:
    """Builds, checks, previews and the engine plugins never import the network code (or an HTTP library): a
    pull request's build cannot fetch anything; only `report sources` and `report links` (through the CLI) do."""
    graph = module_imports()
    importers = sorted(module for module, targets in graph.items() if any(t == "net" or t.startswith("net.")
                                                                          for t in targets))
    assert set(importers) <= {"cli"} | {m for m in graph if m.startswith("net")}, importers
    http = sorted(_name(path) for path in PACKAGE.rglob("*.py")
                  if external_imports(path) & {"httpx", "requests", "urllib3", "aiohttp", "http"})
    assert set(http) <= {m for m in graph if m.startswith("net")}, http


def test_packages_follow_the_pipeline() -> None:
    """Each stage is a package; no module of the pipeline is left loose at the top except the shared ones."""
    top = {_name(p) for p in PACKAGE.glob("*.py")} - {""}
    assert top <= LAYERS[0] | {"config", "reproducible", "build", "cli"}
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} == {
        "sources", "reports", "render", "history", "publish", "adapters", "net"}


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []

"""The layout holds: no import cycle among our modules, and the cloud never imports its client.

The graph is read from the source (every ``import`` statement, at module level or in a
function; imports under ``if TYPE_CHECKING:`` are left out, as they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[2] / "backend_lib"
PACKAGES = ("project_filebrowser", "project_cloud")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (BACKEND / package).rglob("*.py"):
            rel = path.relative_to(BACKEND).with_suffix("")
            parts = list(rel.parts)
            if "migrations" in parts or "labextension" in parts:
                continue  # alembic scripts are loaded by alembic, not imported
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``module`` imports when it runs."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                prefix = base[: len(base) - node.level + 1]
                origin = ".".join(prefix + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # ``from pkg import name``: the submodule pkg.name if there is one, else pkg
            names = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                for alias in node.names
            ]
        else:
            for child in ast.iter_child_nodes(node):
                visit(child)
            return
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _is_package_edge(source: str, target: str) -> bool:
    """A module importing its own package's ``__init__`` (or the reverse, the package
    re-exporting its submodule) is how Python packages work, not a knot."""
    return source.startswith(target + ".") or target.startswith(source + ".")


@pytest.mark.unit
def test_the_graph_sees_our_imports() -> None:
    """The reader finds what it must, or the checks below would pass on an empty graph."""
    graph = _graph()
    assert "project_filebrowser.app" in graph
    assert "project_filebrowser.settings" in graph["project_filebrowser.app"]
    assert "project_filebrowser.settings" in graph["project_filebrowser.sync.planner"]  # from ..
    assert "project_cloud.db" in graph["project_cloud.server"]
    assert sum(len(targets) for targets in graph.values()) > 100


@pytest.mark.unit
def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.unit
def test_no_import_cycle() -> None:
    graph = {
        source: {t for t in targets if not _is_package_edge(source, t)}
        for source, targets in _graph().items()
    }
    assert _cycles(graph) == []


@pytest.mark.unit
def test_the_cloud_never_imports_the_extension() -> None:
    arrows = sorted(
        f"{source} -> {target}"
        for source, targets in _graph().items()
        if source.startswith("project_cloud")
        for target in targets
        if target.startswith("project_filebrowser")
    )
    assert arrows == []

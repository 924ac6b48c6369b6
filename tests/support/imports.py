"""Our import graph, read from the source: every ``import`` statement of the two packages,
at module level or in a function; imports under ``if TYPE_CHECKING:`` are left out, as they
never run. Used by tests/extension/test_import_graph.py and diagrams/modules.py."""

from __future__ import annotations

import ast
from pathlib import Path

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


def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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


def is_package_edge(source: str, target: str) -> bool:
    """A module importing its own package's ``__init__`` (or the reverse, the package
    re-exporting its submodule) is how Python packages work, not a knot."""
    return source.startswith(target + ".") or target.startswith(source + ".")

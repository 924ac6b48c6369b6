"""The layout holds: no import cycle among our modules, and the cloud never imports its client.

The graph is read from the source (every ``import`` statement, at module level or in a
function; imports under ``if TYPE_CHECKING:`` are left out, as they never run).
"""

from __future__ import annotations

import pytest

from support.imports import cycles, is_package_edge
from support.imports import graph as import_graph


@pytest.mark.unit
def test_the_graph_sees_our_imports() -> None:
    """The reader finds what it must, or the checks below would pass on an empty graph."""
    graph = import_graph()
    assert "project_filebrowser.app" in graph
    assert "project_filebrowser.settings" in graph["project_filebrowser.app"]
    assert "project_filebrowser.settings" in graph["project_filebrowser.sync.planner"]  # from ..
    assert "project_cloud.db" in graph["project_cloud.server"]
    assert sum(len(targets) for targets in graph.values()) > 100


@pytest.mark.unit
def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.unit
def test_no_import_cycle() -> None:
    graph = {
        source: {t for t in targets if not is_package_edge(source, t)}
        for source, targets in import_graph().items()
    }
    assert cycles(graph) == []


@pytest.mark.unit
def test_the_cloud_never_imports_the_extension() -> None:
    arrows = sorted(
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        if source.startswith("project_cloud")
        for target in targets
        if target.startswith("project_filebrowser")
    )
    assert arrows == []

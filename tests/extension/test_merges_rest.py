"""Concurrent edits merge through the server: a real Jupyter server with its embedded cloud,
another machine writing to the cloud. The sync says ``file_merged`` before the path's
``file_status``, counts the merge in the job, lists no conflict; a real conflict's entry
says why and which cells, over REST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from test_rest import Fetch, call, settle

from project_filebrowser.schemas import (
    FileMergedEvent,
    FileStatusEvent,
    JobFinishedEvent,
    ServerEvent,
)
from project_filebrowser.service import ProjectFileBrowserService


def notebook(*sources: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src, id=f"m{i}") for i, src in enumerate(sources)]
    return nbformat.writes(nb)


async def _linked(
    service: ProjectFileBrowserService, fetch: Fetch, root: Path, name: str, text: str
) -> tuple[dict[str, Any], Path, str]:
    """A linked project holding nb.ipynb (``text``), synced, the watcher off; its revision."""
    project = await call(fetch, "POST", "projects", body={"name": name})
    folder = root / "projects" / name
    assert service.manager is not None and service.client is not None
    service.manager.watcher.unwatch(project["id"])  # type: ignore[union-attr]
    (folder / "nb.ipynb").write_text(text)
    await settle(service, await call(fetch, "POST", "projects", project["id"], "sync"))
    [version] = await service.client.files(project["id"])
    return project, folder, version.revision


async def test_a_clean_merge_is_announced_counted_and_leaves_no_conflict(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project, folder, first = await _linked(
        service, jp_fetch, jp_root_dir, "merging", notebook("# Title", "intro", "end")
    )
    pid = project["id"]
    assert service.client is not None
    # this machine edits the first cell; another one the last (whose news may start a sync
    # of its own: whichever job merges, it is one merge)
    (folder / "nb.ipynb").write_text(notebook("# A better title", "intro", "end"))
    events: list[ServerEvent] = []
    unsubscribe = service.bus.subscribe(events.append)
    await service.client.upload(
        pid, "nb.ipynb", notebook("# Title", "intro", "the end").encode(), if_match=first
    )
    await settle(service, await call(jp_fetch, "POST", "projects", pid, "sync"))
    for other in service.jobs():
        await settle(service, other.model_dump())
    unsubscribe()
    [job] = [e.job for e in events if isinstance(e, JobFinishedEvent) and e.job.merged]

    merged = nbformat.reads((folder / "nb.ipynb").read_text(), as_version=4)
    assert [c.source for c in merged.cells] == ["# A better title", "intro", "the end"]
    assert job.merged == 1
    [news] = [e for e in events if isinstance(e, FileMergedEvent)]
    [version] = await service.client.files(pid)
    assert (news.project_id, news.path, news.revision) == (pid, "nb.ipynb", version.revision)
    assert news.merged_with == service.cloud_user
    status = [e for e in events if isinstance(e, FileStatusEvent) and e.path == "nb.ipynb"]
    assert events.index(news) < events.index(status[-1])  # an open tab knows why it reloads
    assert (status[-1].state, status[-1].revision) == ("synced", version.revision)
    assert status[-1].size == (folder / "nb.ipynb").stat().st_size
    assert await call(jp_fetch, "GET", "conflicts") == {"items": []}
    assert sorted(p.name for p in folder.iterdir()) == ["nb.ipynb"]
    jobs = await call(jp_fetch, "GET", "jobs")
    assert [j["merged"] for j in jobs["items"] if j["id"] == job.id] == [1]


async def test_a_real_conflict_lists_its_reason_and_cells(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project, folder, first = await _linked(
        service, jp_fetch, jp_root_dir, "clash", notebook("a", "b", "c")
    )
    pid = project["id"]
    assert service.client is not None
    await service.client.upload(pid, "nb.ipynb", notebook("a", "B!", "c").encode(), if_match=first)
    (folder / "nb.ipynb").write_text(notebook("a", "B?", "c"))
    await settle(service, await call(jp_fetch, "POST", "projects", pid, "sync"))
    [conflict] = (await call(jp_fetch, "GET", "conflicts"))["items"]
    assert conflict["path"] == "nb.ipynb"
    assert (conflict["reason"], conflict["cells"]) == ("overlap", [{"id": "m1", "index": 1}])
    copy = folder / conflict["conflict_path"]
    assert [c.source for c in nbformat.reads(copy.read_text(), as_version=4).cells] == [
        "a",
        "B?",
        "c",
    ]

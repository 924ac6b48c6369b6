"""POST /projects/{id}/keep-copy: another version of an open document kept beside it as a
conflict copy (a cloud revision, or an editor's buffer), and what file_status tells an
open editor (revision, who made it). A real Jupyter server with its embedded cloud."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from test_rest import Fetch, call, error_of, settle

from project_filebrowser.schemas import FileStatusEvent, ServerEvent
from project_filebrowser.service import ProjectFileBrowserService
from project_filebrowser.sync.lock import ProjectLock


async def _project(
    service: ProjectFileBrowserService, fetch: Fetch, root: Path, name: str
) -> tuple[dict[str, Any], Path]:
    """A linked project holding doc.txt ("v1"), synced; the watcher off (syncs are asked)."""
    project = await call(fetch, "POST", "projects", body={"name": name})
    folder = root / "projects" / name
    assert service.manager is not None
    service.manager.watcher.unwatch(project["id"])  # type: ignore[union-attr]
    (folder / "doc.txt").write_text("v1")
    await settle(service, await call(fetch, "POST", "projects", project["id"], "sync"))
    return project, folder


async def _revision(service: ProjectFileBrowserService, project_id: str, path: str) -> str:
    assert service.client is not None
    [version] = [v for v in await service.client.files(project_id) if v.path == path]
    return version.revision


async def _cloud_bytes(service: ProjectFileBrowserService, project_id: str, path: str) -> bytes:
    assert service.client is not None
    data = bytearray()
    await service.client.download(project_id, path, data.extend)
    return bytes(data)


async def _last_job(service: ProjectFileBrowserService) -> None:
    assert service.manager is not None
    await settle(service, service.manager.jobs()[-1].model_dump())


async def test_a_cloud_revision_is_kept_as_a_conflict_copy_and_pushed(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project, folder = await _project(service, jp_fetch, jp_root_dir, "keep")
    pid = project["id"]
    first = await _revision(service, pid, "doc.txt")
    assert service.client is not None
    # another machine pushes v2; this one pulls it, and says so with revision and author
    events: list[ServerEvent] = []
    unsubscribe = service.bus.subscribe(events.append)
    await service.client.upload(pid, "doc.txt", b"v2", if_match=first)
    await settle(service, await call(jp_fetch, "POST", "projects", pid, "sync"))
    unsubscribe()
    assert (folder / "doc.txt").read_text() == "v2"
    second = await _revision(service, pid, "doc.txt")
    pulled = [e for e in events if isinstance(e, FileStatusEvent) and e.path == "doc.txt"][-1]
    assert (pulled.state, pulled.revision) == ("synced", second)
    assert pulled.modified_by == service.cloud_user and pulled.modified_by

    # an editor that loaded v1 and was saved over by v2 keeps v1 beside it
    conflict = await call(
        jp_fetch, "POST", "projects", pid, "keep-copy", body={"path": "doc.txt", "revision": first}
    )
    assert conflict["path"] == "doc.txt" and not conflict["resolved"]
    copy = conflict["conflict_path"]
    assert copy.startswith("doc (conflict ") and copy.endswith(").txt")
    assert (folder / copy).read_text() == "v1"
    assert (folder / "doc.txt").read_text() == "v2"  # the path itself is untouched
    listed = await call(jp_fetch, "GET", "conflicts", params={"project_id": pid})
    assert [c["id"] for c in listed["items"]] == [conflict["id"]]
    await _last_job(service)
    assert await _cloud_bytes(service, pid, copy) == b"v1"
    assert await _cloud_bytes(service, pid, "doc.txt") == b"v2"
    files = await call(jp_fetch, "GET", "projects", pid, "files")
    states = {f["path"]: f["state"] for f in files["items"]}
    assert states[copy] == "conflict"


async def test_an_editor_buffer_is_kept_as_a_conflict_copy(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project, folder = await _project(service, jp_fetch, jp_root_dir, "buffer")
    pid = project["id"]
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("print('mine')"))
    model = json.loads(nbformat.writes(notebook))
    conflict = await call(
        jp_fetch,
        "POST",
        "projects",
        pid,
        "keep-copy",
        body={"path": "nb.ipynb", "content": model, "format": "json"},
    )
    copy = folder / conflict["conflict_path"]
    assert conflict["conflict_path"].startswith("nb (conflict ")
    assert nbformat.reads(copy.read_text(), as_version=4).cells[0].source == "print('mine')"
    assert not (folder / "nb.ipynb").exists()

    text = await call(
        jp_fetch,
        "POST",
        "projects",
        pid,
        "keep-copy",
        body={"path": "doc.txt", "content": "my edit\n", "format": "text"},
    )
    assert (folder / text["conflict_path"]).read_text() == "my edit\n"
    raw = await call(
        jp_fetch,
        "POST",
        "projects",
        pid,
        "keep-copy",
        body={
            "path": "doc.txt",
            "content": base64.b64encode(b"\x00\x01").decode(),
            "format": "base64",
        },
    )
    assert (folder / raw["conflict_path"]).read_bytes() == b"\x00\x01"
    assert len({conflict["conflict_path"], text["conflict_path"], raw["conflict_path"]}) == 3
    await _last_job(service)
    assert await _cloud_bytes(service, pid, text["conflict_path"]) == b"my edit\n"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"path": "doc.txt"}, 400, "invalid_body"),
        (
            {"path": "doc.txt", "revision": "r", "content": "x", "format": "text"},
            400,
            "invalid_body",
        ),
        ({"path": "doc.txt", "content": "x"}, 400, "invalid_body"),
        ({"path": "doc.txt", "content": {"a": 1}, "format": "text"}, 400, "invalid_body"),
        ({"path": "doc.txt", "content": "x", "format": "json"}, 400, "invalid_body"),
        ({"path": "nb.ipynb", "content": {"cells": 3}, "format": "json"}, 400, "invalid_notebook"),
        ({"path": "doc.txt", "content": "not base64!", "format": "base64"}, 400, "invalid_body"),
        ({"path": "doc.txt", "content": "x", "format": "yaml"}, 400, "invalid_body"),
        ({"path": "doc.txt", "revision": "r", "extra": 1}, 400, "invalid_body"),
        ({"path": "", "revision": "r"}, 400, "invalid_body"),
        ({"path": "../doc.txt", "revision": "r"}, 400, "invalid_path"),
        ({"path": "/etc/passwd", "revision": "r"}, 400, "invalid_path"),
        ({"path": "a//b.txt", "revision": "r"}, 400, "invalid_path"),
        (
            {"path": ".ipynb_checkpoints/doc.txt", "content": "x", "format": "text"},
            400,
            "ignored_path",
        ),
        ({"path": "doc.txt", "revision": "no-such-revision"}, 404, "revision_not_found"),
        ({"path": "missing.txt", "revision": "no-such-revision"}, 404, "revision_not_found"),
    ],
)
async def test_bad_keep_copy_requests_get_clear_errors_and_change_nothing(
    service: ProjectFileBrowserService,
    jp_fetch: Fetch,
    jp_root_dir: Path,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    project, folder = await _project(service, jp_fetch, jp_root_dir, "bad")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert await error_of(jp_fetch, "POST", "projects", project["id"], "keep-copy", body=body) == (
        status,
        code,
    )
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert (await call(jp_fetch, "GET", "conflicts"))["items"] == []


async def test_keep_copy_of_an_unknown_project_or_without_a_body(
    service: ProjectFileBrowserService, jp_fetch: Fetch
) -> None:
    body = {"path": "doc.txt", "revision": "r"}
    assert await error_of(jp_fetch, "POST", "projects", "nope", "keep-copy", body=body) == (
        404,
        "not_found",
    )
    project = await call(jp_fetch, "POST", "projects", body={"name": "nobody"})
    assert await error_of(jp_fetch, "POST", "projects", project["id"], "keep-copy") == (
        400,
        "invalid_body",
    )
    assert await error_of(
        jp_fetch, "POST", "projects", project["id"], "keep-copy", body="[1, 2]"
    ) == (400, "invalid_body")


async def test_resolving_keep_local_tells_open_editors_at_once(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project, folder = await _project(service, jp_fetch, jp_root_dir, "resolve")
    pid = project["id"]
    assert service.client is not None
    await service.client.upload(
        pid, "doc.txt", b"theirs", if_match=await _revision(service, pid, "doc.txt")
    )
    (folder / "doc.txt").write_text("mine")
    await settle(service, await call(jp_fetch, "POST", "projects", pid, "sync"))
    [conflict] = (await call(jp_fetch, "GET", "conflicts"))["items"]
    events: list[ServerEvent] = []
    unsubscribe = service.bus.subscribe(events.append)
    await call(
        jp_fetch, "POST", "conflicts", str(conflict["id"]), "resolve", body={"keep": "local"}
    )
    unsubscribe()
    assert (folder / "doc.txt").read_text() == "mine"
    assert any(isinstance(e, FileStatusEvent) and e.path == "doc.txt" for e in events)
    await asyncio.wait_for(_last_job(service), 30)


def test_a_copy_being_written_is_no_orphan_for_a_sync_sweeping_its_folder(
    tmp_path: Path,
) -> None:
    """keep-copy writes outside any sync cycle; a cycle's sweep of crashed downloads' temp
    files must leave its temp file alone (and still sweep a real orphan)."""
    from project_filebrowser.sync.localfs import AtomicDownload, temp_path_for
    from project_filebrowser.sync.project import ProjectSync

    orphan = temp_path_for(tmp_path / "crashed.txt")
    orphan.write_bytes(b"left by a crash")
    syncer = ProjectSync(
        project_id="p",
        root=tmp_path,
        client=None,  # type: ignore[arg-type]  # the sweep needs only the folder
        store=None,  # type: ignore[arg-type]
        transfers=asyncio.Semaphore(1),
    )
    with AtomicDownload(tmp_path / "doc (conflict).txt") as copy:
        copy.write(b"kept")
        syncer._remove_orphan_temp_files([orphan.name, copy.temp.name])
        assert copy.temp.exists() and not orphan.exists()
        copy.commit(None)
    assert (tmp_path / "doc (conflict).txt").read_bytes() == b"kept"


async def test_keep_copy_waits_for_the_projects_sync(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    """A copy is written into the project under its lock, as every change to its files
    outside a sync: while a sync (here, another process: its lock) holds the project, no
    copy appears; then it does."""
    project, folder = await _project(service, jp_fetch, jp_root_dir, "held")
    lock = ProjectLock(service.lock_dir, project["id"])
    assert lock.try_acquire()
    try:
        keeping = asyncio.ensure_future(
            call(
                jp_fetch,
                "POST",
                "projects",
                project["id"],
                "keep-copy",
                body={"path": "doc.txt", "content": "my edit\n", "format": "text"},
            )
        )
        await asyncio.sleep(1.0)
        assert not keeping.done()  # waits for the lock
        assert sorted(p.name for p in folder.iterdir()) == ["doc.txt"]
    finally:
        lock.release()
    conflict = await asyncio.wait_for(keeping, 30)
    assert (folder / conflict["conflict_path"]).read_text() == "my edit\n"

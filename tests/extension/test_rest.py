"""The REST API of the extension in a real Jupyter server, syncing with the embedded cloud."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from project_filebrowser.service import ProjectFileBrowserService
from project_filebrowser.sync.lock import ProjectLock

Fetch = Callable[..., Awaitable[HTTPResponse]]


async def call(fetch: Fetch, method: str, *parts: str, body: Any = None, **kw: Any) -> Any:
    kwargs: dict[str, Any] = {"method": method, **kw}
    if body is not None:
        kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
    elif method == "POST":
        kwargs["body"] = ""
    response = await fetch("project-filebrowser", "api", *parts, **kwargs)
    return json.loads(response.body) if response.body else None


async def error_of(fetch: Fetch, method: str, *parts: str, body: Any = None) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as excinfo:
        await call(fetch, method, *parts, body=body)
    response = excinfo.value.response
    assert response is not None
    payload = json.loads(response.body)
    assert set(payload["error"]) == {"code", "message"} and payload["error"]["message"]
    return excinfo.value.code, payload["error"]["code"]


async def settle(service: ProjectFileBrowserService, job: dict[str, Any]) -> dict[str, Any]:
    assert service.manager is not None
    model = await asyncio.wait_for(service.manager.wait(job["id"]), 30)
    assert model.state == "done", model.error
    return model.model_dump()


async def test_create_sync_list_unlink_link(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    status = await call(jp_fetch, "GET", "status")
    assert status["cloud"]["embedded"] and status["cloud"]["connected"]
    assert status["cloud"]["user"] and status["watcher"]["running"]

    project = await call(jp_fetch, "POST", "projects", body={"name": "demo", "title": "Demo"})
    assert project["local_path"] == "projects/demo" and project["title"] == "Demo"
    folder = jp_root_dir / "projects" / "demo"
    assert folder.is_dir()
    (folder / "notes.md").write_text("# hello")
    job = await call(jp_fetch, "POST", "projects", project["id"], "sync")
    assert job["state"] in ("queued", "running") and job["project_id"] == project["id"]
    await settle(service, job)

    files = await call(jp_fetch, "GET", "projects", project["id"], "files")
    assert {"path": "notes.md", "size": 7, "state": "synced"} in files["items"]
    (folder / "draft.txt").write_text("unsynced")
    assert service.manager is not None
    service.manager.watcher.unwatch(project["id"])  # type: ignore[union-attr]
    files = await call(jp_fetch, "GET", "projects", project["id"], "files")
    assert {"path": "draft.txt", "size": 8, "state": "pending_push"} in files["items"]

    local = await call(jp_fetch, "GET", "projects")
    assert [p["name"] for p in local["items"]] == ["demo"]
    cloud = await call(jp_fetch, "GET", "projects", params={"scope": "cloud"})
    [cloud_demo] = [p for p in cloud["items"] if p["id"] == project["id"]]
    assert cloud_demo["file_count"] >= 1

    jobs = await call(jp_fetch, "GET", "jobs")
    assert any(j["id"] == job["id"] and j["state"] == "done" for j in jobs["items"])

    await call(jp_fetch, "DELETE", "projects", project["id"], "link")
    assert (folder / "notes.md").read_text() == "# hello"  # files stay
    assert (await call(jp_fetch, "GET", "projects"))["items"] == []

    relinked = await call(
        jp_fetch, "POST", "projects", project["id"], "link", body={"local_path": "elsewhere/d"}
    )
    assert relinked["local_path"] == "elsewhere/d"
    [running] = [j for j in service.manager.jobs() if j.project_id == project["id"]][-1:]
    await settle(service, running.model_dump())
    assert (jp_root_dir / "elsewhere" / "d" / "notes.md").read_text() == "# hello"


async def _conflicted(
    service: ProjectFileBrowserService, jp_fetch: Fetch, root: Path, name: str
) -> tuple[dict[str, Any], Path]:
    """A project whose ``doc.txt`` another machine and this one both edited: a conflict."""
    project = await call(jp_fetch, "POST", "projects", body={"name": name})
    folder = root / "projects" / name
    assert service.manager is not None and service.client is not None
    service.manager.watcher.unwatch(project["id"])  # type: ignore[union-attr]
    (folder / "doc.txt").write_text("base")
    await settle(service, await call(jp_fetch, "POST", "projects", project["id"], "sync"))
    [doc] = [v for v in await service.client.files(project["id"]) if v.path == "doc.txt"]
    await service.client.upload(project["id"], "doc.txt", b"theirs", if_match=doc.revision)
    (folder / "doc.txt").write_text("mine")
    await settle(service, await call(jp_fetch, "POST", "projects", project["id"], "sync"))
    return project, folder


async def test_conflict_is_listed_and_resolved(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project, folder = await _conflicted(service, jp_fetch, jp_root_dir, "clash")
    assert service.manager is not None and service.client is not None

    conflicts = await call(jp_fetch, "GET", "conflicts", params={"project_id": project["id"]})
    [conflict] = conflicts["items"]
    assert conflict["path"] == "doc.txt" and not conflict["resolved"]
    assert (folder / "doc.txt").read_text() == "theirs"
    assert (folder / conflict["conflict_path"]).read_text() == "mine"
    described = await call(jp_fetch, "GET", "projects", project["id"])
    assert described["conflicts"] == 1

    resolved = await call(
        jp_fetch, "POST", "conflicts", str(conflict["id"]), "resolve", body={"keep": "local"}
    )
    assert resolved["resolved"] is True
    assert (folder / "doc.txt").read_text() == "mine"
    assert not (folder / conflict["conflict_path"]).exists()
    last = service.manager.jobs()[-1]
    await settle(service, last.model_dump())
    data = bytearray()
    await service.client.download(project["id"], "doc.txt", data.extend)
    assert bytes(data) == b"mine"
    code, _ = await error_of(
        jp_fetch, "POST", "conflicts", str(conflict["id"]), "resolve", body={"keep": "local"}
    )
    assert code == 409


@pytest.mark.parametrize(
    ("method", "parts", "body", "status", "code"),
    [
        ("POST", ("projects",), {"name": "../evil"}, 400, "invalid_name"),
        ("POST", ("projects",), {"name": "a/b"}, 400, "invalid_name"),
        ("POST", ("projects",), {"name": "bad*name"}, 400, "invalid_name"),
        ("POST", ("projects",), {"name": "x" * 300}, 400, "invalid_name"),
        ("DELETE", ("projects", "no-such-id"), None, 404, "not_found"),
        ("POST", ("projects",), {"name": "ok", "extra": 1}, 400, "invalid_body"),
        ("POST", ("projects",), "{not json", 400, "invalid_body"),
        ("POST", ("projects",), None, 400, "invalid_body"),
        ("POST", ("projects",), {"name": "x" * 5000}, 400, "invalid_body"),
        ("GET", ("projects", "no-such-id"), None, 404, "not_found"),
        ("POST", ("projects", "no-such-id", "sync"), None, 404, "not_found"),
        ("GET", ("projects", "no-such-id", "files"), None, 404, "not_found"),
        ("POST", ("projects", "no-such-id", "link"), None, 404, "not_found"),
        ("DELETE", ("jobs", "nope"), None, 404, "not_found"),
        ("POST", ("conflicts", "999", "resolve"), {"keep": "both"}, 404, "not_found"),
        ("POST", ("conflicts", "1", "resolve"), {"keep": "mine"}, 400, "invalid_body"),
    ],
)
async def test_bad_requests_get_clear_errors(
    service: ProjectFileBrowserService,
    jp_fetch: Fetch,
    method: str,
    parts: tuple[str, ...],
    body: Any,
    status: int,
    code: str,
) -> None:
    assert await error_of(jp_fetch, method, *parts, body=body) == (status, code)


async def test_names_and_paths_are_checked(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project = await call(jp_fetch, "POST", "projects", body={"name": "taken"})
    taken = await error_of(jp_fetch, "POST", "projects", body={"name": "taken"})
    assert taken == (409, "folder_in_use")  # linked here
    await call(jp_fetch, "DELETE", "projects", project["id"], "link")
    taken = await error_of(jp_fetch, "POST", "projects", body={"name": "taken"})
    assert taken == (409, "name_taken")  # the cloud has it
    for local_path in ("../outside", "/etc", "a/../../b", "x\\y"):
        status, code = await error_of(
            jp_fetch, "POST", "projects", project["id"], "link", body={"local_path": local_path}
        )
        assert (status, code) == (400, "invalid_path"), local_path
    assert not (jp_root_dir.parent / "outside").exists()
    big = {"local_path": "x" * (2 << 20)}
    assert (await error_of(jp_fetch, "POST", "projects", project["id"], "link", body=big))[0] == 413


async def test_resolving_a_conflict_waits_for_the_projects_sync(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    """A resolution changes the project's files under its lock: while a sync (here, another
    process: its lock) holds the project, nothing is touched; then the resolution runs."""
    project, folder = await _conflicted(service, jp_fetch, jp_root_dir, "held")
    [conflict] = (await call(jp_fetch, "GET", "conflicts"))["items"]
    copy = folder / conflict["conflict_path"]

    lock = ProjectLock(service.lock_dir, project["id"])
    assert lock.try_acquire()
    try:
        resolving = asyncio.ensure_future(
            call(
                jp_fetch,
                "POST",
                "conflicts",
                str(conflict["id"]),
                "resolve",
                body={"keep": "local"},
            )
        )
        await asyncio.sleep(1.0)
        assert not resolving.done()  # waits for the lock
        assert (folder / "doc.txt").read_text() == "theirs" and copy.read_text() == "mine"
    finally:
        lock.release()
    resolved = await asyncio.wait_for(resolving, 30)
    assert resolved["resolved"] is True
    assert (folder / "doc.txt").read_text() == "mine" and not copy.exists()

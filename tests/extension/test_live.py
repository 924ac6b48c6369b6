"""Live sync inside a real Jupyter server: the watcher pushes, the change stream pulls,
the delete guard pauses, jobs report progress and can be cancelled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from project_filebrowser.schemas import JobFinishedEvent, JobProgressEvent, ServerEvent
from project_filebrowser.service import ProjectFileBrowserService
from support.polling import eventually_async

Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def jp_server_config(state_db_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"project_filebrowser": True}},
        "ProjectFileBrowser": {"db_url": state_db_url, "debounce_seconds": 0.05},
    }


async def api(fetch: Fetch, method: str, *parts: str, body: Any = None) -> Any:
    payload = json.dumps(body) if body is not None else ("" if method == "POST" else None)
    response = await fetch("project-filebrowser", "api", *parts, method=method, body=payload)
    return json.loads(response.body) if response.body else None


async def quiet(service: ProjectFileBrowserService, period: float = 0.5) -> None:
    """Wait until no job is queued or running, and none starts for ``period`` seconds."""
    assert service.manager is not None
    while True:
        for job in service.manager.jobs():
            await service.manager.wait(job.id)
        count = len(service.manager.jobs())
        await asyncio.sleep(period)
        if len(service.manager.jobs()) == count:
            return


async def remote_files(service: ProjectFileBrowserService, project_id: str) -> dict[str, str]:
    assert service.client is not None
    return {v.path: v.sha256 or "" for v in await service.client.files(project_id)}


async def test_watcher_pushes_and_stream_pulls_without_asking(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project = await api(jp_fetch, "POST", "projects", body={"name": "live"})
    folder = jp_root_dir / "projects" / "live"
    assert service.manager is not None and service.manager.stream is not None
    await eventually_async(lambda: service.manager.stream.connected)  # type: ignore[union-attr]

    (folder / "edit.py").write_text("print('hi')\n")  # no sync call: the watcher notices

    async def pushed() -> bool:
        return "edit.py" in await remote_files(service, project["id"])

    await eventually_async(pushed)

    assert service.client is not None  # another machine writes; the stream tells us
    await service.client.upload(project["id"], "from-elsewhere.txt", b"remote", if_match=None)

    async def pulled() -> bool:
        target = folder / "from-elsewhere.txt"
        return target.exists() and target.read_bytes() == b"remote"

    await eventually_async(pulled)
    status = await api(jp_fetch, "GET", "status")
    assert status["cloud"]["connected"] and status["cloud"]["stream"]
    assert status["watcher"]["running"]


async def test_mass_delete_pauses_until_confirmed(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project = await api(jp_fetch, "POST", "projects", body={"name": "guarded"})
    folder = jp_root_dir / "projects" / "guarded"
    assert service.manager is not None and service.manager.watcher is not None
    service.manager.watcher.unwatch(project["id"])
    for i in range(20):
        (folder / f"f{i}.txt").write_text(str(i))
    job = await api(jp_fetch, "POST", "projects", project["id"], "sync")
    await service.manager.wait(job["id"])
    assert len(await remote_files(service, project["id"])) == 20

    for i in range(15):
        (folder / f"f{i}.txt").unlink()
    job = await api(jp_fetch, "POST", "projects", project["id"], "sync")
    finished = await service.manager.wait(job["id"])
    assert finished.state == "failed" and "delete 15 of 20 files" in (finished.error or "")
    described = await api(jp_fetch, "GET", "projects", project["id"])
    assert described["status"] == "paused" and "paused until you confirm" in described["error"]
    assert len(await remote_files(service, project["id"])) == 20  # nothing deleted

    job = await api(
        jp_fetch, "POST", "projects", project["id"], "sync", body={"confirm_deletes": True}
    )
    assert (await service.manager.wait(job["id"])).state == "done"
    assert len(await remote_files(service, project["id"])) == 5
    await quiet(service)  # the cloud's echo of our deletes may start one more (empty) sync
    assert (await api(jp_fetch, "GET", "projects", project["id"]))["status"] == "idle"


async def test_the_guard_review_lists_restores_or_deletes(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    """A paused mass delete: the files show as deleted here, a dry run lists them (and
    changes nothing), a restore downloads them again, a confirmation deletes them."""
    project = await api(jp_fetch, "POST", "projects", body={"name": "review"})
    pid = project["id"]
    folder = jp_root_dir / "projects" / "review"
    assert service.manager is not None and service.manager.watcher is not None
    service.manager.watcher.unwatch(pid)
    for i in range(19):
        (folder / f"f{i:02}.txt").write_text("x" * i)
    await service.manager.wait((await api(jp_fetch, "POST", "projects", pid, "sync"))["id"])
    await quiet(service)
    events: list[ServerEvent] = []
    service.bus.subscribe(events.append)
    gone = [f"f{i:02}.txt" for i in range(16)]
    for name in gone:
        (folder / name).unlink()
    job = await api(jp_fetch, "POST", "projects", pid, "sync")
    assert (await service.manager.wait(job["id"])).state == "failed"

    announced = {e.path for e in events if getattr(e, "state", None) == "deleted_locally"}
    assert announced == set(gone)  # the panel hears at once that they are gone here
    files = {
        f["path"]: f["state"]
        for f in (await api(jp_fetch, "GET", "projects", pid, "files"))["items"]
    }
    assert {p for p, s in files.items() if s == "deleted_locally"} == set(gone)

    plan = await api(jp_fetch, "POST", "projects", pid, "sync", body={"dry_run": True})
    assert [(s["action"], s["path"], s["size"]) for s in plan["steps"]] == [
        ("delete_remote", name, int(name[1:3])) for name in gone
    ]
    assert plan["totals"]["delete_remote"] == 16 and plan["totals"]["uploads"] == 0
    assert plan["guard"]["side"] == "remote" and plan["guard"]["deletes"] == 16
    assert "paused until you confirm" in plan["guard"]["message"]
    assert len(await remote_files(service, pid)) == 19  # the dry run deleted nothing

    for body in (
        {"dry_run": True, "confirm_deletes": True},
        {"confirm_deletes": True, "restore_deletes": True},
        {"max_deletes": 3, "max_delete_fraction": 0.5},
        {"max_delete_fraction": 2},
    ):
        with pytest.raises(HTTPClientError) as refused:
            await api(jp_fetch, "POST", "projects", pid, "sync", body=body)
        assert refused.value.code == 400
    assert len(await remote_files(service, pid)) == 19

    job = await api(jp_fetch, "POST", "projects", pid, "sync", body={"restore_deletes": True})
    assert (await service.manager.wait(job["id"])).state == "done"
    assert sorted(p.name for p in folder.iterdir()) == [f"f{i:02}.txt" for i in range(19)]
    assert (folder / "f05.txt").read_text() == "x" * 5
    assert (await api(jp_fetch, "GET", "projects", pid))["status"] == "idle"
    assert len(await remote_files(service, pid)) == 19

    for name in gone:
        (folder / name).unlink()
    job = await api(jp_fetch, "POST", "projects", pid, "sync", body={"confirm_deletes": True})
    assert (await service.manager.wait(job["id"])).state == "done"
    assert len(await remote_files(service, pid)) == 3


async def test_progress_events_and_cancel(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project = await api(jp_fetch, "POST", "projects", body={"name": "heavy"})
    folder = jp_root_dir / "projects" / "heavy"
    assert service.manager is not None and service.manager.watcher is not None
    service.manager.watcher.unwatch(project["id"])
    await quiet(service)  # let the first sync (from create) finish
    events: list[ServerEvent] = []
    service.bus.subscribe(events.append)
    for i in range(8):
        (folder / f"part{i}.bin").write_bytes(bytes([i]) * (2 << 20))
    job = await api(jp_fetch, "POST", "projects", project["id"], "sync")
    assert (await service.manager.wait(job["id"])).state == "done"
    progress = [e.job for e in events if isinstance(e, JobProgressEvent) and e.job.id == job["id"]]
    assert progress and progress[-1].files_done == progress[-1].files_total == 8
    assert progress[-1].bytes_total == 8 * (2 << 20)
    finals = [e for e in events if isinstance(e, JobFinishedEvent) and e.job.id == job["id"]]
    assert len(finals) == 1 and finals[0].job.state == "done"

    await quiet(service)
    for i in range(150):
        (folder / f"more{i}.bin").write_bytes(bytes([i]) * (512 << 10))
    job = await api(jp_fetch, "POST", "projects", project["id"], "sync")

    async def running() -> bool:
        handle = service.manager.job(job["id"])  # type: ignore[union-attr]
        return handle is not None and handle.model.files_done > 0

    await eventually_async(running, interval=0.002)
    await api(jp_fetch, "DELETE", "jobs", job["id"])
    finished = await service.manager.wait(job["id"])
    assert finished.state == "cancelled"
    jobs = await api(jp_fetch, "GET", "jobs")
    assert any(j["id"] == job["id"] and j["state"] == "cancelled" for j in jobs["items"])
    # a later sync finishes the work
    job = await api(jp_fetch, "POST", "projects", project["id"], "sync")
    assert (await service.manager.wait(job["id"])).state == "done"
    assert len(await remote_files(service, project["id"])) == 158

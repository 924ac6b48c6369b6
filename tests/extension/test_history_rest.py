"""History through the extension's REST API: a file's revisions, their bytes, diffs
(notebook, text, binary), restore (as a new head, keeping unsynced edits), deleted files,
checkpoints with their undo; and bad requests, each refused clearly with nothing changed.
A real Jupyter server with its embedded cloud, real files."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.utils import url_path_join
from test_rest import Fetch, call, error_of, settle
from tornado.httpclient import HTTPClientError

from project_filebrowser.remotes import NotFound, RemoteError
from project_filebrowser.service import ProjectFileBrowserService
from project_filebrowser.sync.lock import ProjectLock


async def _project(
    service: ProjectFileBrowserService, fetch: Fetch, root: Path, name: str
) -> tuple[str, Path]:
    """A linked project, the watcher off (syncs are asked for)."""
    project = await call(fetch, "POST", "projects", body={"name": name})
    assert service.manager is not None
    service.manager.watcher.unwatch(project["id"])  # type: ignore[union-attr]
    return project["id"], root / "projects" / name


async def _sync(service: ProjectFileBrowserService, fetch: Fetch, pid: str) -> dict[str, Any]:
    return await settle(service, await call(fetch, "POST", "projects", pid, "sync"))


async def _written(
    service: ProjectFileBrowserService,
    fetch: Fetch,
    pid: str,
    file: Path,
    *versions: bytes,
) -> None:
    """Each version written to ``file`` on disk, then synced."""
    for data in versions:
        file.write_bytes(data)
        await _sync(service, fetch, pid)


async def _content(fetch: Fetch, pid: str, path: str, revision: str) -> tuple[bytes, Any]:
    response = await fetch(
        "project-filebrowser",
        "api",
        "projects",
        pid,
        "content",
        path,
        params={"revision": revision},
    )
    return response.body, response.headers


async def _history(fetch: Fetch, pid: str, path: str) -> list[dict[str, Any]]:
    page = await call(fetch, "GET", "projects", pid, "history", path)
    assert page["next_page_token"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


def _notebook(*sources: str) -> bytes:
    notebook = nbformat.v4.new_notebook()
    for i, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = f"cell-{i}"
        notebook.cells.append(cell)
    return nbformat.writes(notebook).encode()


async def _cloud_head(service: ProjectFileBrowserService, pid: str, path: str) -> str:
    assert service.client is not None
    [head] = [v for v in await service.client.files(pid) if v.path == path]
    return head.revision


async def test_revisions_their_content_and_a_text_diff(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "hist")
    versions = [b"one\ntwo\n", b"one\n2\n", b"one\n2\nthree\n"]
    await _written(service, jp_fetch, pid, folder / "notes.txt", *versions)

    items = await _history(jp_fetch, pid, "notes.txt")
    assert len(items) == 3
    assert set(items[0]) == {
        "path", "revision", "sha256", "size", "modified_at", "modified_by", "deleted", "mtime_ns"
    }  # fmt: skip
    assert [i["size"] for i in items] == [len(v) for v in reversed(versions)]  # newest first
    assert not any(i["deleted"] for i in items) and items[0]["modified_by"] == service.cloud_user
    for item, data in zip(items, reversed(versions), strict=True):
        body, headers = await _content(jp_fetch, pid, "notes.txt", item["revision"])
        assert body == data
        assert headers["ETag"] == f'"{item["revision"]}"'
        assert headers["Content-Type"] == "text/plain; charset=utf-8"

    # JupyterLab's default cache-buster (a bare timestamp) is not an unknown parameter
    response = await jp_fetch(
        "project-filebrowser",
        "api",
        "projects",
        pid,
        "history",
        "notes.txt",
        params={"1796351153995": ""},
    )
    assert [i["revision"] for i in json.loads(response.body)["items"]] == [
        i["revision"] for i in items
    ]

    # pages: an opaque token, newest first throughout
    first = await call(
        jp_fetch, "GET", "projects", pid, "history", "notes.txt", params={"limit": 2}
    )
    assert [i["revision"] for i in first["items"]] == [items[0]["revision"], items[1]["revision"]]
    rest = await call(
        jp_fetch,
        "GET",
        "projects",
        pid,
        "history",
        "notes.txt",
        params={"limit": 2, "page_token": first["next_page_token"]},
    )
    assert [i["revision"] for i in rest["items"]] == [items[2]["revision"]]
    assert rest["next_page_token"] is None

    oldest, newest = items[2]["revision"], items[0]["revision"]
    diff = await call(
        jp_fetch, "GET", "projects", pid, "diff", "notes.txt", params={"from": oldest, "to": newest}
    )
    assert diff["kind"] == "text" and diff["base"] is None
    assert diff["diff"].splitlines() == [
        f"--- {oldest}",
        f"+++ {newest}",
        "@@ -1,2 +1,3 @@",
        " one",
        "-two",
        "+2",
        "+three",
    ]
    # against the file here (not synced yet)
    (folder / "notes.txt").write_bytes(b"one\n2\nthree\nfour")
    local = await call(
        jp_fetch, "GET", "projects", pid, "diff", "notes.txt", params={"from": newest}
    )
    assert local["diff"].splitlines()[:2] == [f"--- {newest}", "+++ local"]
    assert "+four" in local["diff"] and "\\ No newline at end of file" in local["diff"]


async def test_a_notebook_diff_names_the_changed_cell_and_binary_diffs_say_the_sizes(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "nbdiff")
    await _written(
        service,
        jp_fetch,
        pid,
        folder / "analysis.ipynb",
        _notebook("x = 1", "y = 2\nprint(y)"),
        _notebook("x = 1", "y = 3\nprint(y)"),
    )
    new, old = (i["revision"] for i in await _history(jp_fetch, pid, "analysis.ipynb"))
    _body, headers = await _content(jp_fetch, pid, "analysis.ipynb", old)
    assert headers["Content-Type"] == "application/x-ipynb+json"
    diff = await call(
        jp_fetch, "GET", "projects", pid, "diff", "analysis.ipynb", params={"from": old, "to": new}
    )
    assert diff["kind"] == "notebook"
    assert diff["base"]["cells"][1]["source"] == "y = 2\nprint(y)"  # the "from" notebook
    [cells] = diff["diff"]
    assert (cells["op"], cells["key"]) == ("patch", "cells")
    [cell] = cells["diff"]
    assert (cell["op"], cell["key"]) == ("patch", 1)  # the second cell changed, only it
    [source] = cell["diff"]
    assert (source["op"], source["key"]) == ("patch", "source")
    [line] = source["diff"]  # its first line ("y = 2\n") changed
    assert (line["op"], line["key"]) == ("patch", 0)
    assert {d["op"] for d in line["diff"]} == {"addrange", "removerange"}

    await _written(service, jp_fetch, pid, folder / "blob.bin", b"\x00\x01\x02", b"\x00" * 10)
    new, old = (i["revision"] for i in await _history(jp_fetch, pid, "blob.bin"))
    _body, headers = await _content(jp_fetch, pid, "blob.bin", old)
    assert headers["Content-Type"] == "application/octet-stream"
    binary = await call(
        jp_fetch, "GET", "projects", pid, "diff", "blob.bin", params={"from": old, "to": new}
    )
    assert binary == {"kind": "binary", "diff": {"from_size": 3, "to_size": 10}, "base": None}


async def test_restore_writes_a_new_head_and_keeps_the_history(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "restore")
    await _written(service, jp_fetch, pid, folder / "doc.txt", b"v1\n", b"v2\n", b"v3\n")
    before = await _history(jp_fetch, pid, "doc.txt")
    oldest = before[-1]["revision"]

    head = await call(
        jp_fetch, "POST", "projects", pid, "restore", "doc.txt", body={"revision": oldest}
    )
    assert head["revision"] not in {i["revision"] for i in before}
    assert (head["path"], head["sha256"], head["deleted"]) == (
        "doc.txt",
        before[-1]["sha256"],
        False,
    )
    assert (folder / "doc.txt").read_bytes() == b"v1\n"
    after = await _history(jp_fetch, pid, "doc.txt")
    assert [i["revision"] for i in after] == [head["revision"]] + [i["revision"] for i in before]
    assert await _cloud_head(service, pid, "doc.txt") == head["revision"]
    # the engine sees nothing to do: synced at the new head
    job = await _sync(service, jp_fetch, pid)
    assert job["files_total"] == 0
    files = await call(jp_fetch, "GET", "projects", pid, "files")
    assert [(f["path"], f["state"]) for f in files["items"]] == [("doc.txt", "synced")]
    assert len(await _history(jp_fetch, pid, "doc.txt")) == 4


async def test_a_restore_while_a_sync_runs_waits_for_it_and_changes_nothing_meanwhile(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    """A sync holds the project (here another process's: its lock): a restore asked then
    writes nothing, here or in the cloud, until the sync is over; then it restores."""
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "busy")
    await _written(service, jp_fetch, pid, folder / "doc.txt", b"v1\n", b"v2\n")
    before = await _history(jp_fetch, pid, "doc.txt")
    lock = ProjectLock(service.lock_dir, pid)
    assert lock.try_acquire()
    try:
        restoring = asyncio.ensure_future(
            call(
                jp_fetch,
                "POST",
                "projects",
                pid,
                "restore",
                "doc.txt",
                body={"revision": before[-1]["revision"]},
            )
        )
        await asyncio.sleep(1.0)
        assert not restoring.done()  # waits for the sync
        assert (folder / "doc.txt").read_bytes() == b"v2\n"
        assert await _history(jp_fetch, pid, "doc.txt") == before
    finally:
        lock.release()
    head = await asyncio.wait_for(restoring, 30)
    assert (folder / "doc.txt").read_bytes() == b"v1\n"
    assert [i["revision"] for i in await _history(jp_fetch, pid, "doc.txt")] == [
        head["revision"],
        *(i["revision"] for i in before),
    ]


async def test_restore_keeps_unsynced_local_edits_in_the_history(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "edits")
    await _written(service, jp_fetch, pid, folder / "doc.txt", b"v1\n", b"v2\n")
    oldest = (await _history(jp_fetch, pid, "doc.txt"))[-1]["revision"]
    (folder / "doc.txt").write_bytes(b"my unsynced edit\n")

    head = await call(
        jp_fetch, "POST", "projects", pid, "restore", "doc.txt", body={"revision": oldest}
    )
    assert (folder / "doc.txt").read_bytes() == b"v1\n"
    items = await _history(jp_fetch, pid, "doc.txt")
    assert items[0]["revision"] == head["revision"]
    # the edit is the revision just before the restored head
    kept, _headers = await _content(jp_fetch, pid, "doc.txt", items[1]["revision"])
    assert kept == b"my unsynced edit\n"
    assert len(items) == 4
    assert sorted(p.name for p in folder.iterdir()) == ["doc.txt"]  # no copy: it is in history


async def test_a_deleted_file_is_listed_and_restored(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "gone")
    (folder / "keep.txt").write_text("stays")
    await _written(service, jp_fetch, pid, folder / "old.txt", b"first\n", b"last words\n")
    live = (await _history(jp_fetch, pid, "old.txt"))[0]
    assert (await call(jp_fetch, "GET", "projects", pid, "deleted"))["items"] == []
    (folder / "old.txt").unlink()
    await _sync(service, jp_fetch, pid)
    assert (await _history(jp_fetch, pid, "old.txt"))[0]["deleted"]

    deleted = await call(jp_fetch, "GET", "projects", pid, "deleted")
    assert deleted == {"items": [live], "next_page_token": None}  # its last live revision

    head = await call(jp_fetch, "POST", "projects", pid, "restore", "old.txt")
    assert head["sha256"] == live["sha256"] and head["revision"] != live["revision"]
    assert (folder / "old.txt").read_bytes() == b"last words\n"
    assert (await call(jp_fetch, "GET", "projects", pid, "deleted"))["items"] == []
    assert (await _sync(service, jp_fetch, pid))["files_total"] == 0


async def test_a_checkpoint_is_restored_and_undone(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "cp")
    (folder / "a.txt").write_text("a1")
    (folder / "b.txt").write_text("b1")
    (folder / "sub").mkdir()
    (folder / "sub" / "c.txt").write_text("c1")
    await _sync(service, jp_fetch, pid)
    checkpoint = await call(jp_fetch, "POST", "projects", pid, "checkpoints", body={"name": "v1"})
    assert set(checkpoint) == {"id", "name", "seq", "created_at"} and checkpoint["name"] == "v1"

    (folder / "a.txt").write_text("a2")
    (folder / "b.txt").unlink()
    (folder / "new.txt").write_text("new")
    await _sync(service, jp_fetch, pid)
    (folder / "sub" / "c.txt").write_text("c2, not synced yet")  # the restore syncs it first

    restored = await call(
        jp_fetch, "POST", "projects", pid, "checkpoints", checkpoint["id"], "restore"
    )
    assert restored["checkpoint"] == checkpoint
    undo = restored["undo"]
    assert undo["name"] == "before restore of v1"
    assert (folder / "a.txt").read_text() == "a1"
    assert (folder / "b.txt").read_text() == "b1"
    assert (folder / "sub" / "c.txt").read_text() == "c1"
    assert not (folder / "new.txt").exists()
    listed = await call(jp_fetch, "GET", "projects", pid, "checkpoints")
    assert [c["id"] for c in listed["items"]] == [undo["id"], checkpoint["id"]]  # newest first

    again = await call(jp_fetch, "POST", "projects", pid, "checkpoints", undo["id"], "restore")
    assert again["undo"]["name"] == "before restore of before restore of v1"
    assert (folder / "a.txt").read_text() == "a2"
    assert not (folder / "b.txt").exists()
    assert (folder / "sub" / "c.txt").read_text() == "c2, not synced yet"
    assert (folder / "new.txt").read_text() == "new"
    # a second restore of the same checkpoint: its undo gets a name of its own
    third = await call(
        jp_fetch, "POST", "projects", pid, "checkpoints", checkpoint["id"], "restore"
    )
    assert third["undo"]["name"].startswith("before restore of v1 (")
    assert (folder / "a.txt").read_text() == "a1"


async def _error(
    fetch: Fetch, method: str, pid: str, route: str, params: dict[str, str], body: Any
) -> tuple[int, str]:
    """The status and code of a refused request (the message a sentence)."""
    kwargs: dict[str, Any] = {"method": method, "params": params}
    if method == "POST":
        kwargs["body"] = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    with pytest.raises(HTTPClientError) as excinfo:
        await fetch("project-filebrowser", "api", "projects", pid, *route.split("/"), **kwargs)
    assert excinfo.value.response is not None
    error = json.loads(excinfo.value.response.body)["error"]
    assert set(error) == {"code", "message"} and error["message"]
    return excinfo.value.code, error["code"]


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    ("method", "route", "params", "body", "status", "code"),
    [
        ("GET", "content/doc.txt", {"revision": "no-such"}, None, 404, "revision_not_found"),
        ("GET", "content/doc.txt", {"revision": "OTHER"}, None, 404, "revision_not_found"),
        ("GET", "content/doc.txt", {}, None, 400, "invalid_query"),
        ("GET", "content/doc.txt", {"revision": "FIRST", "rev": "x"}, None, 400, "invalid_query"),
        ("GET", "content/missing.txt", {"revision": "FIRST"}, None, 404, "revision_not_found"),
        ("GET", "content/../doc.txt", {"revision": "FIRST"}, None, 400, "invalid_path"),
        ("GET", "history/missing.txt", {}, None, 404, "not_found"),
        ("GET", "history/a/../doc.txt", {}, None, 400, "invalid_path"),
        ("GET", "history/doc.txt", {"limit": "0"}, None, 400, "invalid_query"),
        ("GET", "history/doc.txt", {"limit": "ten"}, None, 400, "invalid_query"),
        ("GET", "history/doc.txt", {"page_token": "x"}, None, 400, "invalid_page_token"),
        ("GET", "history/doc.txt", {"sort": "asc"}, None, 400, "invalid_query"),
        ("GET", "deleted", {"limit": "-1"}, None, 400, "invalid_query"),
        ("GET", "diff/doc.txt", {}, None, 400, "invalid_query"),
        ("GET", "diff/doc.txt", {"from": "FIRST", "to": "OTHER"}, None, 404, "revision_not_found"),
        ("GET", "diff/doc.txt", {"from": "FIRST", "to": ""}, None, 400, "invalid_query"),
        ("POST", "restore/doc.txt", {}, {"revision": "OTHER"}, 404, "revision_not_found"),
        ("POST", "restore/doc.txt", {}, {"revision": "no-such"}, 404, "revision_not_found"),
        ("POST", "restore/doc.txt", {}, {"revision": "FIRST", "x": 1}, 400, "invalid_body"),
        ("POST", "restore/doc.txt", {}, {"revision": 3}, 400, "invalid_body"),
        ("POST", "restore/doc.txt", {}, "not json", 400, "invalid_body"),
        ("POST", "restore/doc.txt", {}, "x" * (2 << 20), 413, "body_too_large"),
        ("POST", "restore/../../etc/passwd", {}, None, 400, "invalid_path"),
        ("POST", "restore/.ipynb_checkpoints/doc.txt", {}, None, 400, "ignored_path"),
        ("POST", "restore/missing.txt", {}, None, 404, "revision_not_found"),
        ("POST", "checkpoints", {}, {"name": ""}, 400, "invalid_body"),
        ("POST", "checkpoints", {}, {"name": "  "}, 400, "invalid_name"),
        ("POST", "checkpoints", {}, {"name": "ok", "seq": 1}, 400, "invalid_body"),
        ("POST", "checkpoints", {}, None, 400, "invalid_body"),
        ("POST", "checkpoints/nope/restore", {}, None, 404, "not_found"),
    ],
)
async def test_bad_requests_get_clear_errors_and_change_nothing(
    service: ProjectFileBrowserService,
    jp_fetch: Fetch,
    jp_root_dir: Path,
    method: str,
    route: str,
    params: dict[str, str],
    body: Any,
    status: int,
    code: str,
) -> None:
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "bad")
    other, _ = await _project(service, jp_fetch, jp_root_dir, "other")
    await _written(service, jp_fetch, pid, folder / "doc.txt", b"v1\n", b"v2\n")
    (jp_root_dir / "projects" / "other" / "doc.txt").write_text("elsewhere")
    await _sync(service, jp_fetch, other)
    first = (await _history(jp_fetch, pid, "doc.txt"))[-1]["revision"]
    other_revision = await _cloud_head(service, other, "doc.txt")
    before = _tree(folder), await _history(jp_fetch, pid, "doc.txt")

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("FIRST", first).replace("OTHER", other_revision)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    assert await _error(jp_fetch, method, pid, route, fill(params), fill(body)) == (status, code)
    assert (_tree(folder), await _history(jp_fetch, pid, "doc.txt")) == before
    assert [
        c["name"] for c in (await call(jp_fetch, "GET", "projects", pid, "checkpoints"))["items"]
    ] == []


async def test_unknown_projects_missing_folders_and_oversized_diffs_are_refused(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    for parts in (("history", "doc.txt"), ("deleted",), ("checkpoints",)):
        assert await error_of(jp_fetch, "GET", "projects", "nope", *parts) == (404, "not_found")
    assert await error_of(jp_fetch, "POST", "projects", "nope", "restore", "doc.txt") == (
        404,
        "not_found",
    )
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "edge")
    await _written(service, jp_fetch, pid, folder / "doc.txt", b"v1\n")
    [item] = await _history(jp_fetch, pid, "doc.txt")

    # a local file over 64 MiB is not compared (a sparse file: no disk used)
    os.truncate(folder / "doc.txt", (64 << 20) + 1)
    diff = {"from": item["revision"]}
    assert await _error(jp_fetch, "GET", pid, "diff/doc.txt", diff, None) == (413, "too_large")
    (folder / "doc.txt").write_bytes(b"v1\n")

    # the folder is gone: no restore recreates it
    folder.rename(folder.with_name("moved"))
    assert await error_of(jp_fetch, "POST", "projects", pid, "restore", "doc.txt", body={}) == (
        409,
        "folder_missing",
    )
    assert not folder.exists()
    assert len(await _history(jp_fetch, pid, "doc.txt")) == 1
    assert json.loads(json.dumps(item))  # the shape is plain JSON


def test_pages_diffs_and_media_types_of_the_service() -> None:
    from project_filebrowser.remotes.base import FileVersion
    from project_filebrowser.services.compare import compare, media_type, page_of

    items = [FileVersion(path="a", revision=str(i)) for i in range(5)]
    page, token = page_of(items, 2, None)
    assert [v.revision for v in page] == ["0", "1"] and token is not None
    assert [v.revision for v in page_of(items, 2, token)[0]] == ["2", "3"]
    assert page_of(items, None, None) == (items, None)
    assert media_type("a.txt", "é\n".encode()) == "text/plain; charset=utf-8"
    assert media_type("a.txt", b"a\x00") == "application/octet-stream"
    assert media_type("a.txt", None) == "application/octet-stream"
    # a .ipynb that does not parse is compared as text
    assert compare("x.ipynb", b"{", b"{}", "r1", "local").kind == "text"
    assert compare("x.txt", b"same\n", b"same\n", "r1", "r2").diff == ""


def test_the_memory_remote_keeps_checkpoints_and_deleted_heads() -> None:
    from project_filebrowser.remotes.memory import MemoryRemote

    async def scenario() -> None:
        remote = MemoryRemote("memory://history-test")
        project = await remote.create_project("p")
        pid = project.id
        one = await remote.upload(pid, "a.txt", b"a1", if_match=None)
        gone = await remote.upload(pid, "b.txt", b"b1", if_match=None)
        checkpoint = await remote.create_checkpoint(pid, "v1")
        assert [c.name for c in await remote.checkpoints(pid)] == ["v1"]
        await remote.upload(pid, "a.txt", b"a2", if_match=one.revision)
        await remote.delete(pid, "b.txt", if_match=gone.revision)
        await remote.upload(pid, "c.txt", b"c", if_match=None)
        heads = await remote.files(pid, include_deleted=True)
        assert [(v.path, v.deleted) for v in heads] == [
            ("a.txt", False), ("b.txt", True), ("c.txt", False)
        ]  # fmt: skip
        assert [v.path for v in await remote.files(pid)] == ["a.txt", "c.txt"]
        await remote.restore_checkpoint(pid, checkpoint.id)
        files = {v.path: v.sha256 for v in await remote.files(pid)}
        assert files == {"a.txt": one.sha256, "b.txt": gone.sha256}
        assert len(await remote.revisions(pid, "a.txt")) == 3  # history stays
        with pytest.raises(RemoteError) as taken:
            await remote.create_checkpoint(pid, "v1")
        assert taken.value.code == "conflict"
        with pytest.raises(NotFound):
            await remote.restore_checkpoint(pid, "nope")

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("GET", "history/doc.txt"),
        ("GET", "content/doc.txt?revision=r"),
        ("GET", "diff/doc.txt?from=r"),
        ("POST", "restore/doc.txt"),
        ("GET", "deleted"),
        ("GET", "checkpoints"),
        ("POST", "checkpoints"),
        ("POST", "checkpoints/c/restore"),
    ],
)
async def test_every_history_route_wants_jupyters_credentials(
    service: ProjectFileBrowserService,
    http_server_client: Any,
    jp_base_url: str,
    method: str,
    route: str,
) -> None:
    url = url_path_join(jp_base_url, "project-filebrowser/api/projects/p", route)
    response = await http_server_client.fetch(
        url,
        method=method,
        body="{}" if method == "POST" else None,
        headers={"Authorization": "token not-the-token"},
        raise_error=False,
    )
    assert response.code in (401, 403)


async def test_a_write_in_the_cloud_during_a_restore_makes_it_stale_and_changes_nothing(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    """Another machine writes the file between the restore's look at the head and its push:
    409 ``stale``, the file here untouched, the other machine's revision the head."""
    pid, folder = await _project(service, jp_fetch, jp_root_dir, "race")
    await _written(service, jp_fetch, pid, folder / "doc.txt", b"v1\n", b"v2\n")
    before = await _history(jp_fetch, pid, "doc.txt")
    client = service.client
    assert client is not None
    written: list[str] = []

    async def another_machine_writes(request: Any) -> None:
        if request.url.path.endswith("/batch") and not written:
            written.append("once")
            version = await client.upload(
                pid, "doc.txt", b"theirs\n", if_match=before[0]["revision"]
            )
            written.append(version.revision)

    hooks = client._http.event_hooks["request"]  # type: ignore[attr-defined]
    hooks.append(another_machine_writes)
    try:
        assert await _error(
            jp_fetch, "POST", pid, "restore/doc.txt", {}, {"revision": before[-1]["revision"]}
        ) == (409, "stale")
    finally:
        hooks.remove(another_machine_writes)
    assert (folder / "doc.txt").read_bytes() == b"v2\n"
    after = await _history(jp_fetch, pid, "doc.txt")
    assert [i["revision"] for i in after] == [written[1]] + [i["revision"] for i in before]
    assert sorted(p.name for p in folder.iterdir()) == ["doc.txt"]  # no temp file left

"""Names told in words, a non-empty folder adopted only when asked, a project deleted from
the cloud by its owner: REST on a real Jupyter server with the embedded cloud, and the CLI
against the real cloud on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_live import quiet
from test_rest import Fetch, call, settle
from tornado.httpclient import HTTPClientError

from project_filebrowser.service import ProjectFileBrowserService
from support.cli import logged_in
from support.cloud import ServerThread


async def error_body(fetch: Fetch, method: str, *parts: str, body: Any = None) -> dict[str, Any]:
    with pytest.raises(HTTPClientError) as excinfo:
        await call(fetch, method, *parts, body=body)
    assert excinfo.value.response is not None
    error: dict[str, Any] = json.loads(excinfo.value.response.body)["error"]
    error["status"] = excinfo.value.code
    return error


REGEX_BITS = ("[A-Za-z", "^", "$", "{0,", "pattern")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("x" * 300, "at most 128 characters; this one has 300"),
        ("bad*name", "not '*'"),
        ("-dash", "cannot start with"),
        ("dot.", "cannot end with"),
        ("a/b", "cannot contain '/'"),
        ("", "is required"),
    ],
)
async def test_a_bad_name_is_refused_in_words_and_nothing_is_made(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path, name: str, words: str
) -> None:
    error = await error_body(jp_fetch, "POST", "projects", body={"name": name})
    assert (error["status"], error["code"]) == (400, "invalid_name")
    assert words in error["message"], error
    assert not any(bit in error["message"] for bit in REGEX_BITS), error
    assert service.client is not None and await service.client.projects() == []
    assert not (jp_root_dir / "projects").exists() or not any((jp_root_dir / "projects").iterdir())


def test_the_cloud_tells_its_name_rule_in_words(cloud: ServerThread) -> None:
    token = cloud.new_user(name="ann", password="pw-ann-123").token
    for name, words in (("x" * 300, "at most 128"), ("bad*name", "not '*'")):
        reply = httpx.post(
            f"{cloud.url}/api/v1/projects",
            json={"name": name},
            headers={"Authorization": f"Bearer {token}"},
        )
        error = reply.json()["error"]
        assert (reply.status_code, error["code"]) == (400, "invalid_request")
        assert words in error["message"] and not any(b in error["message"] for b in REGEX_BITS)


async def test_a_non_empty_folder_is_adopted_only_when_asked(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    folder = jp_root_dir / "projects" / "data"
    (folder / "sub").mkdir(parents=True)
    for rel in ("a.csv", "b.csv", "sub/c.csv"):
        (folder / rel).write_text(rel)

    error = await error_body(jp_fetch, "POST", "projects", body={"name": "data"})
    assert (error["status"], error["code"]) == (409, "folder_not_empty"), error
    assert error["files"] == 3 and error["folder"] == "projects/data"
    assert "3 files" in error["message"]
    assert service.client is not None and await service.client.projects() == []
    assert (await call(jp_fetch, "GET", "projects"))["items"] == []

    project = await call(jp_fetch, "POST", "projects", body={"name": "data", "adopt": True})
    await settle(service, await call(jp_fetch, "POST", "projects", project["id"], "sync"))
    cloud_files = {f.path for f in await service.client.files(project["id"])}
    assert {"a.csv", "b.csv", "sub/c.csv"} <= cloud_files

    # An empty folder needs no adopt.
    (jp_root_dir / "projects" / "empty").mkdir()
    await call(jp_fetch, "POST", "projects", body={"name": "empty"})


async def test_the_owner_deletes_a_project_from_the_cloud(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project = await call(jp_fetch, "POST", "projects", body={"name": "gone"})
    folder = jp_root_dir / "projects" / "gone"
    (folder / "keep.txt").write_text("mine")
    await settle(service, await call(jp_fetch, "POST", "projects", project["id"], "sync"))
    other = await call(jp_fetch, "POST", "projects", body={"name": "other"})
    await call(jp_fetch, "DELETE", "projects", other["id"], "link")  # in the cloud only

    assert await call(jp_fetch, "DELETE", "projects", project["id"]) is None
    assert await call(jp_fetch, "DELETE", "projects", other["id"]) is None
    assert service.client is not None and await service.client.projects() == []
    assert (await call(jp_fetch, "GET", "projects"))["items"] == []
    assert (folder / "keep.txt").read_text() == "mine"  # local files stay
    error = await error_body(jp_fetch, "DELETE", "projects", project["id"])
    assert (error["status"], error["code"]) == (404, "not_found")


def test_cli_create_adopt_and_delete_with_confirmation(cloud: ServerThread, tmp_path: Path) -> None:
    a, _token = logged_in(cloud, tmp_path)
    folder = a.root / "projects" / "data"
    folder.mkdir(parents=True)
    (folder / "x.txt").write_text("x")

    run = a("create", "data")
    assert run.returncode == 1 and "--adopt" in run.stderr and "1 file" in run.stderr
    assert "data" not in a("projects", "--cloud").stdout
    run = a("create", "x" * 300)
    assert run.returncode == 1 and "at most 128 characters; this one has 300" in run.stderr

    run = a("create", "data", "--adopt")
    assert run.returncode == 0, run.stderr

    process = a.popen("delete", "data")
    out, err = process.communicate("n\n", timeout=120)
    assert process.returncode == 1, err
    assert "Delete project data and its 1 file from the cloud for everyone?" in out
    assert "nothing deleted" in err
    assert "data" in a("projects", "--cloud").stdout

    run = a("delete", "data", "--yes")
    assert run.returncode == 0, run.stderr
    assert "deleted data" in run.stdout
    assert "no projects in the cloud" in a("projects", "--cloud").stdout
    assert "no projects linked here" in a("projects").stdout
    assert (folder / "x.txt").read_text() == "x"


async def test_a_missing_folder_pauses_with_nothing_to_confirm_until_it_is_back(
    service: ProjectFileBrowserService, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    project = await call(jp_fetch, "POST", "projects", body={"name": "gone"})
    folder = jp_root_dir / project["local_path"]
    for n in range(3):
        (folder / f"f{n}.txt").write_text(f"file {n}")
    await settle(service, await call(jp_fetch, "POST", "projects", project["id"], "sync"))
    away = folder.with_name("gone-away")
    folder.rename(away)  # an unmounted disk, a renamed folder

    job = await call(jp_fetch, "POST", "projects", project["id"], "sync")
    assert service.manager is not None
    held = await asyncio.wait_for(service.manager.wait(job["id"]), 30)
    assert held.state == "failed" and "folder is missing" in (held.error or "")
    await quiet(service)  # the watcher saw the folder go and asked for a sync of its own
    paused = await call(jp_fetch, "GET", "projects", project["id"])
    assert paused["status"] == "paused" and paused["folder_missing"] is True
    assert "folder is missing — restore it, or unlink the project" in paused["error"]
    assert not folder.exists()
    assert service.client is not None
    assert sorted(f.path for f in await service.client.files(project["id"])) == [
        "f0.txt",
        "f1.txt",
        "f2.txt",
    ]

    away.rename(folder)
    await settle(service, await call(jp_fetch, "POST", "projects", project["id"], "sync"))
    await quiet(service)
    back = await call(jp_fetch, "GET", "projects", project["id"])
    assert back["status"] == "idle" and back["folder_missing"] is False and back["error"] is None

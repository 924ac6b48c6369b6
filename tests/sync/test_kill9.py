"""kill -9 of a syncing process mid-download and mid-upload: no partial file at any user
path, no partial version in the cloud, and the next run finishes the job."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import Cli
from support.cloud import ServerThread
from support.polling import eventually

SIZE = int(os.environ.get("PFB_TEST_KILL_MB", "300")) * 1024 * 1024


def _big_file(path: Path) -> str:
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as handle:
        for i in range(SIZE >> 20):
            chunk = block[:-8] + i.to_bytes(8, "big")
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _kill_when(process: object, condition: Callable[[], bool], timeout: float = 60) -> None:
    def started() -> bool:
        if condition():
            return True
        if process.poll() is not None:  # type: ignore[attr-defined]
            pytest.fail("the sync finished before it could be killed")
        return False

    eventually(started, timeout, 0.005, what="the transfer to start")
    os.kill(process.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    process.wait(10)  # type: ignore[attr-defined]


def _user_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _login(cloud: ServerThread, tmp_path: Path, *names: str) -> list[Cli]:
    token = cloud.new_user(name="ann", password="pw-ann-123").token
    clis = [Cli(tmp_path, name) for name in names]
    assert clis[0]("login", cloud.url, "--token", token).returncode == 0
    return clis


def test_kill9_during_download_leaves_no_partial_file(cloud: ServerThread, tmp_path: Path) -> None:
    a, b = _login(cloud, tmp_path, "a", "b")
    assert a("create", "big").returncode == 0
    expected = _big_file(a.root / "projects" / "big" / "data.bin")
    assert a("sync", "big").returncode == 0

    folder = b.root / "projects" / "big"
    process = b.popen("link", "big")
    _kill_when(
        process,
        lambda: (
            any(p.stat().st_size > (8 << 20) for p in folder.glob(".*.pfb.tmp"))
            if folder.is_dir()
            else False
        ),
    )
    assert not (folder / "data.bin").exists()  # the user path never holds a partial file

    run = b("sync", "big")
    assert run.returncode == 0, run.stderr
    assert _sha(folder / "data.bin") == expected
    assert _user_files(folder) == ["data.bin"]  # the orphaned temp file is gone too


def test_kill9_during_upload_leaves_no_partial_version(cloud: ServerThread, tmp_path: Path) -> None:
    (a,) = _login(cloud, tmp_path, "a")
    assert a("create", "up").returncode == 0
    folder = a.root / "projects" / "up"
    expected = _big_file(folder / "data.bin")
    parts = Path(cloud.server.storage_url) / "tmp"

    process = a.popen("sync", "up")
    _kill_when(process, lambda: any(p.stat().st_size > (8 << 20) for p in parts.glob("*.part")))
    time.sleep(0.5)  # let the cloud notice the dropped connection
    token = cloud.service.issue_token("ann")
    import httpx

    with httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"}) as http:
        [project] = http.get("/projects").json()["items"]
        files = http.get(f"/projects/{project['id']}/files").json()["items"]
        assert files == []  # nothing half-uploaded became a revision

        run = a("sync", "up")
        assert run.returncode == 0, run.stderr
        [version] = http.get(f"/projects/{project['id']}/files").json()["items"]
        assert version["sha256"] == expected and version["size"] == SIZE
    assert _sha(folder / "data.bin") == expected

"""The project-filebrowser command against the real cloud on loopback, as a user runs it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from pathlib import Path

from sqlalchemy import select

from project_filebrowser.store import LocalProjectRow, Store
from project_filebrowser.sync.lock import ProjectLock
from support.cli import Cli, logged_in
from support.cloud import ServerThread
from support.polling import eventually


def test_login_create_sync_link_status_unlink(cloud: ServerThread, tmp_path: Path) -> None:
    token = cloud.new_user(name="ann", password="pw-ann-123").token
    a, b = Cli(tmp_path, "a"), Cli(tmp_path, "b")

    run = a("projects")
    assert run.returncode == 1 and "not logged in" in run.stderr

    run = a("login", cloud.url, "--token", token)
    assert run.returncode == 0, run.stderr
    assert "as ann" in run.stdout
    stored = Path(a.env["JUPYTER_DATA_DIR"]) / "project_filebrowser" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    run = a("login", cloud.url, "--username", "ann", "--password", "pw-ann-123")
    assert run.returncode == 0, run.stderr

    run = a("create", "demo")
    assert run.returncode == 0, run.stderr
    folder = a.root / "projects" / "demo"
    assert folder.is_dir()
    (folder / "results.csv").write_text("a,b\n1,2\n")
    run = a("sync", "demo")
    assert run.returncode == 0, run.stderr

    run = b("link", "demo")  # b shares the login (same data dir), has its own DB and root
    assert run.returncode == 0, run.stderr
    assert (b.root / "projects" / "demo" / "results.csv").read_text() == "a,b\n1,2\n"

    run = b("projects")
    assert run.returncode == 0 and "demo" in run.stdout and "projects/demo" in run.stdout
    run = b("projects", "--cloud")
    assert run.returncode == 0 and "demo" in run.stdout and "yes" in run.stdout

    (b.root / "projects" / "demo" / "new.txt").write_text("pending")
    run = b("status")
    assert run.returncode == 0, run.stderr
    assert "demo: idle, 1 pending, 0 conflicts" in run.stdout
    assert "pending_push  new.txt" in run.stdout

    run = b("unlink", "demo")
    assert run.returncode == 0, run.stderr
    assert (b.root / "projects" / "demo" / "new.txt").exists()
    assert "no projects linked here" in b("projects").stdout


def test_errors_are_one_line_with_exit_status(cloud: ServerThread, tmp_path: Path) -> None:
    a, _token = logged_in(cloud, tmp_path)

    run = a("sync", "nope")
    assert run.returncode == 1
    assert run.stderr.strip() == "Error: no project 'nope' linked here"
    run = a("link", "nope")
    assert run.returncode == 1 and "no project 'nope' in the cloud" in run.stderr
    assert a("sync", "--no-such-option").returncode == 2
    assert a("login", cloud.url).returncode == 2  # neither token nor password
    run = a("login", cloud.url, "--token", "wrong")
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
    run = a("create", "bad/name")
    assert run.returncode == 1 and "cannot contain '/'" in run.stderr


def test_second_process_waits_for_the_lock_and_says_who(
    cloud: ServerThread, tmp_path: Path
) -> None:
    a, _token = logged_in(cloud, tmp_path)
    assert a("create", "locked").returncode == 0
    store = Store(a.db)
    with store.read() as session:
        project_id = session.scalars(select(LocalProjectRow.id)).one()
    store.dispose()
    lock = ProjectLock(Path(a.db.removeprefix("sqlite:///")).parent / "locks", project_id)
    assert lock.try_acquire()
    process = a.popen("sync", "locked")
    said = ""
    try:
        assert process.stderr is not None
        while "being synced by another process" not in said:  # however slow the start
            line = process.stderr.readline()
            assert line, f"the second process ended without waiting: {said}"
            said += line
        time.sleep(0.5)
        assert process.poll() is None  # still waiting, having said why
    finally:
        lock.release()
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, said + err
    assert f"pid {os.getpid()}" in said + err


def test_sync_watch_keeps_syncing_until_interrupted(cloud: ServerThread, tmp_path: Path) -> None:
    import signal

    import httpx

    a, token = logged_in(cloud, tmp_path)
    assert a("create", "watched").returncode == 0
    process = a.popen("sync", "watched", "--watch")
    try:
        with httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"}) as http:
            [project] = http.get("/projects").json()["items"]
            deadline = time.monotonic() + 30
            while "watching for changes" not in (
                process.stdout.readline() if process.stdout else ""
            ):
                assert time.monotonic() < deadline
            (a.root / "projects" / "watched" / "live.txt").write_text("seen by the watcher")

            def pushed() -> bool:
                files = http.get(f"/projects/{project['id']}/files").json()["items"]
                return [f["path"] for f in files] == ["live.txt"]

            eventually(pushed, 30, 0.1, what="the watcher to push the new file")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_sync_with_nothing_to_do_skips_the_service(cloud: ServerThread, tmp_path: Path) -> None:
    """``sync`` on an unchanged project answers from the no-op check (no job, no service);
    any change on either side, or any doubt, goes to the full sync, which does the work."""
    import httpx
    from sqlalchemy import func

    from project_filebrowser.store import Job
    from project_filebrowser.sync.quick import up_to_date

    a, token = logged_in(cloud, tmp_path)
    assert a("create", "demo").returncode == 0
    folder = a.root / "projects" / "demo"
    (folder / "notes").mkdir()
    (folder / "notes" / "a.txt").write_text("one")
    assert a("sync", "demo").returncode == 0
    time.sleep(2.1)  # the index trusts files only once they are 2 s old
    # the index now trusts the file (whether this sync or the first one hashed it last
    # depends on how long the first one took to start)
    assert a("sync", "demo").returncode == 0

    store = Store(a.db)

    def jobs() -> int:
        with store.read() as session:
            return int(session.scalar(select(func.count()).select_from(Job)) or 0)

    def last_synced() -> object:
        with store.read() as session:
            return session.scalar(select(LocalProjectRow.last_synced_at))

    before, synced_before = jobs(), last_synced()
    run = a("sync", "demo")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "demo: up to date"
    assert jobs() == before  # decided without the sync service
    assert last_synced() > synced_before  # type: ignore[operator]
    assert a("sync").stdout.strip() == "demo: up to date"  # every linked project

    # a local edit: the full sync pushes it
    (folder / "notes" / "a.txt").write_text("two")
    run = a("sync", "demo")
    assert run.returncode == 0 and "up to date" not in run.stdout
    with store.read() as session:
        pid = session.scalar(select(LocalProjectRow.id))
    api = httpx.Client(base_url=f"{cloud.url}/api/v1", headers={"Authorization": f"Bearer {token}"})
    with api:
        assert api.get(f"/projects/{pid}/files/notes/a.txt").content == b"two"
        # a remote change: the full sync pulls it
        assert api.put(f"/projects/{pid}/files/remote.txt", content=b"r").status_code == 201
        run = a("sync", "demo")
        assert run.returncode == 0 and "up to date" not in run.stdout
        assert (folder / "remote.txt").read_bytes() == b"r"

    time.sleep(2.1)
    assert a("sync", "demo").returncode == 0
    args = (a.db, a.root, cloud.url, token, "demo")
    assert up_to_date(*args) == ["demo"]
    # every doubt is "don't know": a held lock, a paused project, a temp file, a wrong
    # token or cloud, an unknown project
    lock = ProjectLock(a.root.parent / "locks", pid)
    assert lock.try_acquire()
    try:
        assert up_to_date(*args) is None
    finally:
        lock.release()
    assert up_to_date(*args) == ["demo"]
    assert up_to_date(a.db, a.root, cloud.url, "wrong-token", "demo") is None
    assert up_to_date(a.db, a.root, cloud.url + "/other", token, "demo") is None
    assert up_to_date(a.db, a.root, cloud.url, token, "nope") is None
    temp = folder / "notes" / ".a.txt.x.pfb.tmp"
    temp.write_text("left by a crash")
    assert up_to_date(*args) is None
    temp.unlink()
    assert up_to_date(*args) == ["demo"]
    with store.write() as session:
        row = session.scalar(select(LocalProjectRow))
        assert row is not None
        row.status = "paused"
    assert up_to_date(*args) is None
    store.dispose()


def test_status_is_a_look_that_writes_nothing(cloud: ServerThread, tmp_path: Path) -> None:
    """``status`` (the service's file list) shows a change the engine has not seen yet, and
    leaves the state DB exactly as it was: the index is the engine's, written under its lock."""
    a, _token = logged_in(cloud, tmp_path)
    assert a("create", "demo").returncode == 0
    folder = a.root / "projects" / "demo"
    (folder / "kept.txt").write_text("synced")
    assert a("sync", "demo").returncode == 0
    (folder / "new.txt").write_text("not synced yet")
    (folder / "kept.txt").write_text("edited, same size?")
    time.sleep(2.1)  # old enough for the index to trust them: a scan would record them

    def dump() -> list[str]:
        path = a.db.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as db:
            return [line for line in db.iterdump() if "jobs" not in line]

    before = dump()
    run = a("status")
    assert run.returncode == 0, run.stderr
    assert "pending_push  new.txt" in run.stdout and "pending_push  kept.txt" in run.stdout
    assert dump() == before

"""The clean-scan fingerprint of the one-shot no-op check: real CLI processes, a real SQLite
state file, the real cloud on loopback. A fingerprint lets a later ``sync`` skip the trees and
the plan; these tests check it vouches for an unchanged folder only."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

import httpx

from project_filebrowser.sync.ignore import IGNORE_FILE, IgnoreRules
from project_filebrowser.sync.quick import fingerprint, up_to_date
from project_filebrowser.sync.scanner import stat_scan
from support.cli import Cli, logged_in
from support.cloud import ServerThread


def _marks(cli: Cli) -> list[tuple[str, int, str]]:
    with contextlib.closing(sqlite3.connect(cli.db.removeprefix("sqlite:///"))) as db:
        return db.execute("SELECT project_id, cursor, digest FROM clean_scans").fetchall()


def _cursor(cli: Cli) -> int:
    with contextlib.closing(sqlite3.connect(cli.db.removeprefix("sqlite:///"))) as db:
        return int(db.execute("SELECT seq FROM cloud_cursors").fetchone()[0])


def _settle(cli: Cli) -> None:
    """Sync, wait until the index may trust every file (2 s), sync again: the next no-op
    check finds the project clean."""
    assert cli("sync", "demo").returncode == 0
    time.sleep(2.1)
    assert cli("sync", "demo").returncode == 0


def test_a_clean_scan_vouches_for_an_unchanged_folder_only(
    cloud: ServerThread, tmp_path: Path
) -> None:
    a, token = logged_in(cloud, tmp_path)
    assert a("create", "demo").returncode == 0
    folder = a.root / "projects" / "demo"
    (folder / "notes").mkdir()
    (folder / "notes" / "a.txt").write_text("one")
    (folder / "b.txt").write_text("bee")
    _settle(a)
    args = (a.db, a.root, cloud.url, token, "demo")

    # the check that finds the project clean records the fingerprint of its scan, which a
    # stat-only walk of the same folder reproduces
    # a mark left by create (the empty folder) cannot vouch for the folder with its files
    rules = IgnoreRules.for_project(folder)
    now = fingerprint(folder, rules, stat_scan(folder, rules))
    assert all(digest != now for _pid, _cursor, digest in _marks(a))
    assert up_to_date(*args) == ["demo"]
    [(pid, cursor, digest)] = _marks(a)
    assert cursor == _cursor(a)
    assert digest == fingerprint(folder, rules, stat_scan(folder, rules))
    run = a("sync", "demo")
    assert run.stdout.strip() == "demo: up to date" and _marks(a) == [(pid, cursor, digest)]

    # anything in the folder that a plan reads makes the walk differ; undoing it matches again
    note = folder / "notes" / "a.txt"
    st = note.stat()
    changes = [
        (lambda: (folder / "new.txt").write_text("n"), lambda: (folder / "new.txt").unlink()),
        (lambda: (folder / "empty").mkdir(), lambda: (folder / "empty").rmdir()),
        (
            lambda: (folder / IGNORE_FILE).write_text("*.txt\n"),
            lambda: (folder / IGNORE_FILE).unlink(),
        ),
        (
            lambda: (folder / "notes" / ".a.txt.x.pfb.tmp").write_text("crash"),
            lambda: (folder / "notes" / ".a.txt.x.pfb.tmp").unlink(),
        ),
    ]
    for change, undo in changes:
        change()
        assert up_to_date(*args) is None
        undo()
        assert up_to_date(*args) == ["demo"]

    # undoing a change to a file itself (its mtime put back, a rename and back) leaves a new
    # ctime: the check doubts it, the full sync finds nothing to do, and once the index trusts
    # the file again (2 s) the check vouches again
    file_changes = [
        (
            lambda: os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 1)),
            lambda: os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns)),
        ),
        (lambda: note.rename(folder / "a.txt"), lambda: (folder / "a.txt").rename(note)),
    ]
    for change, undo in file_changes:
        change()
        assert up_to_date(*args) is None
        undo()
        assert (
            note.stat().st_ctime_ns != st.st_ctime_ns and note.stat().st_mtime_ns == st.st_mtime_ns
        )
        assert up_to_date(*args) is None
        _settle(a)
        assert up_to_date(*args) == ["demo"]
        st = note.stat()

    # a same-size edit: the full sync pushes it, and the write to the trees forgets the mark
    note.write_text("two")
    run = a("sync", "demo")
    assert run.returncode == 0 and "up to date" not in run.stdout
    api = httpx.Client(base_url=f"{cloud.url}/api/v1", headers={"Authorization": f"Bearer {token}"})
    with api:
        assert api.get(f"/projects/{pid}/files/notes/a.txt").content == b"two"
        time.sleep(2.1)
        assert a("sync", "demo").returncode == 0
        assert up_to_date(*args) == ["demo"] and len(_marks(a)) == 1

        # a change in the cloud: the cursor is behind, the full sync pulls it
        assert api.put(f"/projects/{pid}/files/remote.txt", content=b"r").status_code == 201
        assert up_to_date(*args) is None
        run = a("sync", "demo")
        assert run.returncode == 0 and "up to date" not in run.stdout
        assert (folder / "remote.txt").read_bytes() == b"r"
    assert _marks(a) == []  # the pull wrote the trees

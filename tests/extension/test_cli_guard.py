"""The delete guard and the dry run from the command line, against the real cloud: a dry run
shows the plan and changes nothing; --confirm-deletes and --max-delete steer the guard."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from support.cli import Cli, logged_in
from support.cloud import ServerThread

STATE_TABLES = (
    "projects",
    "synced_entries",
    "remote_entries",
    "local_index",
    "cloud_cursors",
    "clean_scans",
    "conflicts",
)


def state_rows(cli: Cli) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables that hold a project's trees, cursor and status."""
    with sqlite3.connect(cli.db.removeprefix("sqlite:///")) as db:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall()) for t in STATE_TABLES}


def files_on_disk(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def cloud_files(api: httpx.Client, project_id: str) -> list[tuple[str, str]]:
    items = api.get(f"/projects/{project_id}/files").json()["items"]
    return sorted((f["path"], f["revision"]) for f in items)


def project_id(api: httpx.Client, name: str) -> str:
    [project] = [p for p in api.get("/projects").json()["items"] if p["name"] == name]
    return str(project["id"])


def test_dry_run_prints_the_plan_and_changes_nothing(cloud: ServerThread, tmp_path: Path) -> None:
    a, token = logged_in(cloud, tmp_path)
    assert a("create", "demo").returncode == 0
    folder = a.root / "projects" / "demo"
    for i in range(12):
        (folder / f"f{i:02}.txt").write_text(f"file {i}")
    (folder / "old.csv").write_text("moved,here\n")
    (folder / "edit.txt").write_text("v1")
    assert a("sync", "demo").returncode == 0
    api = httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"})
    with api:
        pid = project_id(api, "demo")
        # one side: an edit, a new file, a move, twelve deletes (the guard stops at them)
        (folder / "edit.txt").write_text("v2 local")
        (folder / "new.bin").write_bytes(b"x" * 3000)
        (folder / "old.csv").rename(folder / "new.csv")
        for i in range(12):
            (folder / f"f{i:02}.txt").unlink()
        # the other side: a new file in the cloud, and a conflicting edit
        assert api.put(f"/projects/{pid}/files/remote.txt", content=b"r" * 1500).status_code == 201
        revision = dict(cloud_files(api, pid))["edit.txt"]
        assert (
            api.put(
                f"/projects/{pid}/files/edit.txt",
                content=b"v2 remote",
                headers={"If-Match": f'"{revision}"'},
            ).status_code
            == 200
        )
        before = (state_rows(a), files_on_disk(folder), cloud_files(api, pid))

        run = a("sync", "demo", "--dry-run")
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0] == "demo: a sync would"
        steps = {line.split()[-1]: line for line in lines[1:] if line.startswith("  ")}
        assert steps["new.bin"].split()[:3] == ["upload", "3.0", "kB"]
        assert steps["remote.txt"].split()[:3] == ["download", "1.5", "kB"]
        assert steps["new.csv"].split()[:3] == ["move", "in", "cloud"]
        assert "old.csv -> new.csv" in steps["new.csv"]
        assert steps["edit.txt"].split()[0] == "conflict"
        for i in range(12):
            assert steps[f"f{i:02}.txt"].split()[:3] == ["delete", "in", "cloud"]
        assert (
            "total: 1 uploads (3.0 kB), 1 downloads (1.5 kB), 0 deletes here, "
            "12 deletes in the cloud, 1 moves, 1 conflicts" in run.stdout
        )
        assert "would delete 12 of 14 files in the cloud" in run.stdout
        assert "nothing was changed" in run.stdout

        # nothing changed: local files, the state DB's trees, index and cursor, the cloud
        assert (state_rows(a), files_on_disk(folder), cloud_files(api, pid)) == before

        run = a("sync", "--dry-run", "--watch")
        assert run.returncode == 2 and "changes nothing" in run.stderr


def test_the_guard_is_confirmed_from_the_cli(cloud: ServerThread, tmp_path: Path) -> None:
    a, token = logged_in(cloud, tmp_path)
    assert a("create", "big").returncode == 0
    folder = a.root / "projects" / "big"
    for i in range(20):
        (folder / f"f{i:02}.txt").write_text(str(i))
    assert a("sync", "big").returncode == 0
    for i in range(15):
        (folder / f"f{i:02}.txt").unlink()

    run = a("sync", "big")
    assert run.returncode == 1
    assert "delete 15 of 20 files in the cloud (more than 50%)" in run.stderr
    assert "project-filebrowser sync --confirm-deletes" in run.stderr  # says how to go on
    run = a("sync", "big", "--max-delete", "70%")  # still more than this run allows
    assert run.returncode == 1 and "(more than 70%)" in run.stderr
    assert "big: paused" in a("status").stdout
    with httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"}) as api:
        pid = project_id(api, "big")
        assert len(cloud_files(api, pid)) == 20

        run = a("sync", "big", "--confirm-deletes")
        assert run.returncode == 0, run.stderr
        assert len(cloud_files(api, pid)) == 5
        assert "big: idle" in a("status").stdout


def test_max_delete_sets_this_runs_guard(cloud: ServerThread, tmp_path: Path) -> None:
    a, token = logged_in(cloud, tmp_path)
    assert a("create", "small").returncode == 0
    folder = a.root / "projects" / "small"
    for i in range(6):
        (folder / f"f{i}.txt").write_text(str(i))
    assert a("sync", "small").returncode == 0
    for i in range(4):
        (folder / f"f{i}.txt").unlink()

    run = a("sync", "small", "--max-delete", "3")  # a count: no floor, no share
    assert run.returncode == 1 and "delete 4 of 6 files in the cloud (more than 3 files)" in (
        run.stderr
    )
    assert a("sync", "small", "--max-delete", "many").returncode == 2
    assert a("sync", "small", "--max-delete", "150%").returncode == 2
    with httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"}) as api:
        pid = project_id(api, "small")
        assert len(cloud_files(api, pid)) == 6
        run = a("sync", "small", "--max-delete", "4")
        assert run.returncode == 0, run.stderr
        assert len(cloud_files(api, pid)) == 2


def test_deletes_confirmed_on_one_machine_are_applied_on_the_other(
    cloud: ServerThread, tmp_path: Path
) -> None:
    a, token = logged_in(cloud, tmp_path)
    b = Cli(tmp_path, "b")  # the same user on a second machine (shares the login)
    assert a("create", "shared").returncode == 0
    folder_a = a.root / "projects" / "shared"
    for i in range(20):
        (folder_a / f"f{i:02}.txt").write_text(str(i))
    assert a("sync", "shared").returncode == 0
    assert b("link", "shared").returncode == 0
    folder_b = b.root / "projects" / "shared"
    assert len(list(folder_b.iterdir())) == 20

    for i in range(15):
        (folder_a / f"f{i:02}.txt").unlink()
    assert a("sync", "shared").returncode == 1  # the guard asks the person on machine a
    assert a("sync", "shared", "--confirm-deletes").returncode == 0
    with httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"}) as api:
        pid = project_id(api, "shared")
        changes = api.get(f"/projects/{pid}/changes", params={"since": 0}).json()["items"]
        deletes = [c for c in changes if c["op"] == "delete"]
        assert len(deletes) == 15
        assert all(c["confirmed"] and c["modified_by"] == "ann" for c in deletes)

    run = b("sync", "shared")  # machine b does not ask again, and says what happened
    assert run.returncode == 0, run.stderr
    assert "ann deleted 15 files of shared in the cloud, confirmed on their machine" in (run.stdout)
    assert sorted(p.name for p in folder_b.iterdir()) == [f"f{i:02}.txt" for i in range(15, 20)]

    # an unconfirmed mass delete still pauses the other machine
    for i in range(15, 20):
        (folder_b / f"f{i:02}.txt").write_text("more")
    for i in range(20, 40):
        (folder_b / f"g{i}.txt").write_text(str(i))
    assert b("sync", "shared").returncode == 0
    assert a("sync", "shared").returncode == 0
    with httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"}) as api:
        for i in range(20, 40):
            assert (
                api.delete(
                    f"/projects/{pid}/files/g{i}.txt",
                    headers={"If-Match": f'"{dict(cloud_files(api, pid))[f"g{i}.txt"]}"'},
                ).status_code
                == 204
            )
    run = a("sync", "shared")
    assert run.returncode == 1 and "delete 20 of 25 files on this machine" in run.stderr


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_conflicts_resolve_and_the_conflict_policy(cloud: ServerThread, tmp_path: Path) -> None:
    a, token = logged_in(cloud, tmp_path)
    b = Cli(tmp_path, "b")
    assert a("create", "conf").returncode == 0
    doc_a = a.root / "projects" / "conf" / "doc.txt"
    doc_a.write_text("base")
    assert a("sync", "conf").returncode == 0
    assert b("link", "conf").returncode == 0
    folder_b = b.root / "projects" / "conf"
    doc_b = folder_b / "doc.txt"
    api = httpx.Client(base_url=cloud.api, headers={"Authorization": f"Bearer {token}"})
    pid = project_id(api, "conf")

    def both_edit(mine: str, theirs: str) -> None:
        doc_a.write_text(theirs)
        assert a("sync", "conf").returncode == 0
        doc_b.write_text(mine)
        run = b("sync", "conf")
        assert run.returncode == 0, run.stderr

    def history(path: str) -> set[str]:
        return {v["sha256"] for v in api.get(f"/projects/{pid}/revisions/{path}").json()["items"]}

    def head() -> bytes:
        return api.get(f"/projects/{pid}/files/doc.txt").content

    try:
        # keep-both (the default): a conflict copy, listed and resolved from the CLI
        both_edit("mine 1", "theirs 1")
        [copy] = [p for p in folder_b.iterdir() if "conflict" in p.name]
        assert copy.read_text() == "mine 1" and doc_b.read_text() == "theirs 1"
        run = b("conflicts")
        assert run.returncode == 0, run.stderr
        assert f"conf: doc.txt (the cloud's version) and {copy.name} (yours)" in run.stdout
        assert b("conflicts", "conf").stdout == run.stdout
        assert b("resolve", str(folder_b / "nope.txt"), "--keep", "local").returncode == 1
        assert b("resolve", str(doc_b), "--keep", "sideways").returncode == 2
        run = b("resolve", str(copy), "--keep", "local")
        assert run.returncode == 0, run.stderr
        assert "resolved doc.txt: kept your version" in run.stdout
        assert doc_b.read_text() == "mine 1" and not copy.exists()
        assert head() == b"mine 1" and b("conflicts").stdout.strip() == "no conflicts"
        assert a("sync", "conf").returncode == 0

        # local: mine is pushed over theirs, which stays in the history
        run = b("policy", "conf", "--conflicts", "local")
        assert run.returncode == 0 and "conf: conflicts local" in run.stdout
        assert b("policy", "conf").stdout.strip() == "conf: conflicts local"
        both_edit("mine 2", "theirs 2")
        assert doc_b.read_text() == "mine 2" and head() == b"mine 2"
        assert _sha(b"theirs 2") in history("doc.txt")
        assert [p.name for p in folder_b.iterdir()] == ["doc.txt"]

        # remote: theirs takes the path; mine was pushed first and stays in the cloud
        assert a("sync", "conf").returncode == 0
        assert b("policy", "conf", "--conflicts", "remote").returncode == 0
        both_edit("mine 3", "theirs 3")
        assert doc_b.read_text() == "theirs 3" and head() == b"theirs 3"
        assert [p.name for p in folder_b.iterdir()] == ["doc.txt"]
        listing = api.get(f"/projects/{pid}/files", params={"include_deleted": "true"}).json()
        copies = [f["path"] for f in listing["items"] if "conflict" in f["path"] and f["deleted"]]
        assert any(_sha(b"mine 3") in history(path) for path in copies)
        assert b("conflicts").stdout.strip() == "no conflicts"

        # newer: the version written last wins (here: mine, edited after theirs was pushed)
        assert a("sync", "conf").returncode == 0
        assert b("policy", "conf", "--conflicts", "newer").returncode == 0
        both_edit("mine 4", "theirs 4")
        assert doc_b.read_text() == "mine 4" and head() == b"mine 4"
        assert _sha(b"theirs 4") in history("doc.txt")
        assert b("policy", "conf", "--conflicts", "bogus").returncode == 2
    finally:
        api.close()

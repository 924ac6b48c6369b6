"""What a user's own disk can do to a project, against the real cloud: a vanished folder,
names the cloud cannot hold, names at the file system's length limit, one file that fails,
and rewrites that hide behind an old mtime."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from project_filebrowser.sync import failures
from project_filebrowser.sync.planner import GUARD_ALL_VANISHED, GUARD_ROOT_MISSING
from support.cloud import ServerThread
from support.replicas import Replica, cloud_paths, make_pair

SEVEN = {f"f{i}.txt": f"file {i}".encode() for i in range(6)} | {"nb/deep.ipynb": b"{}"}


@pytest.fixture
def pair(cloud: ServerThread, tmp_path: Path) -> tuple[Replica, Replica]:
    return make_pair(cloud, tmp_path)


def _synced_seven(a: Replica, b: Replica) -> None:
    for rel, data in SEVEN.items():
        a.write(rel, data)
    a.sync()
    b.sync()
    assert b.files() == SEVEN


@pytest.mark.parametrize("confirm", [False, True])
def test_a_missing_project_folder_deletes_nothing_anywhere(
    pair: tuple[Replica, Replica], confirm: bool
) -> None:
    a, b = pair
    _synced_seven(a, b)
    away = a.root.with_name("moved-away")
    a.root.rename(away)  # an unmounted disk, a renamed folder
    b.write("f0.txt", b"edited on b")  # the cloud moves on meanwhile
    b.sync()

    result = a.sync(allow_mass_delete=confirm)  # even a confirmation cannot make it delete
    assert result.guard is not None and result.guard.reason == GUARD_ROOT_MISSING
    assert "folder is missing — restore it, or unlink the project" in result.guard.message
    assert result.operations == 0
    assert not a.root.exists()  # not recreated by a download either
    assert cloud_paths(a) == sorted(SEVEN)
    b.sync()
    assert b.files() == SEVEN | {"f0.txt": b"edited on b"}

    away.rename(a.root)  # restored: it syncs as if nothing happened
    result = a.sync()
    assert result.guard is None and result.pending == 0
    assert a.files() == b.files()


def test_every_file_vanished_pauses_until_confirmed(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    _synced_seven(a, b)
    shutil.rmtree(a.root)
    a.root.mkdir()  # an empty mount point where the project was

    result = a.sync()
    assert result.guard is not None and result.guard.reason == GUARD_ALL_VANISHED
    assert (result.guard.deletes, result.guard.total) == (7, 7)
    assert cloud_paths(a) == sorted(SEVEN)
    b.sync()
    assert b.files() == SEVEN

    result = a.sync(allow_mass_delete=True)  # the user meant it
    assert result.guard is None and cloud_paths(a) == []
    assert b.sync().guard is None  # confirmed on a: the other machine applies them
    assert b.files() == {}


def test_a_small_project_is_guarded_too(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    _synced_seven(a, b)
    for rel in ["f0.txt", "f1.txt", "f2.txt", "f3.txt"]:  # 4 of 7: once under the floor of 10
        (a.root / rel).unlink()
    result = a.sync()
    assert result.guard is not None and (result.guard.deletes, result.guard.total) == (4, 7)
    assert cloud_paths(a) == sorted(SEVEN)


LONG = {"n" * 251 + ".txt": b"ascii", "deep/" + "é" * 125 + "x.csv": b"two bytes a char"}


def test_names_of_255_bytes_sync_and_conflict(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    for rel, data in LONG.items():
        a.write(rel, data)
    a.sync()
    result = b.sync()
    assert result.pending == 0 and b.files() == LONG
    assert not list(b.root.rglob("*.pfb.tmp"))

    rel = next(iter(LONG))
    a.write(rel, b"edited on a")
    b.write(rel, b"edited on b")
    a.sync()
    b.sync()
    a.sync()
    assert a.files() == b.files()
    assert a.read(rel) == b"edited on a"
    [conflict] = b.conflicts()
    assert b.read(conflict.conflict_path) == b"edited on b"
    assert len(conflict.conflict_path.encode()) <= 255


def test_temp_files_old_and_new_are_never_synced_and_cleaned_up(
    pair: tuple[Replica, Replica],
) -> None:
    a, _b = pair
    a.write("sub/keep.txt", b"kept")
    a.write("sub/.notes.txt.1a2b3c4d.pfb.tmp", b"left by an older version's crash")
    a.write(".0123456789abcdef.pfb.tmp", b"left by a crash")
    a.sync()
    assert a.files() == {"sub/keep.txt": b"kept"}
    assert cloud_paths(a) == ["sub/keep.txt"]


def test_a_same_size_edit_behind_an_old_mtime_is_uploaded(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    a.write("table.csv", b"1,2,3\n")
    old = 1_600_000_000_000_000_000  # September 2020
    os.utime(a.root / "table.csv", ns=(old, old))
    a.sync()
    time.sleep(2.1)  # until the index may trust the file (its ctime is no longer fresh)
    a.sync()
    b.sync()
    assert b.read("table.csv") == b"1,2,3\n"

    with open(a.root / "table.csv", "r+b") as handle:  # same inode, same size
        handle.write(b"4,5,6\n")
    os.utime(a.root / "table.csv", ns=(old, old))  # touch -d puts the old mtime back
    a.sync()
    b.sync()
    assert b.read("table.csv") == b"4,5,6\n"


BAD_NAMES = [b"line\nbreak.txt", b"caf\xe9.txt", b"ctl\x01/inner.txt", b"back\\slash.txt"]


def test_names_the_cloud_cannot_hold_stay_here_and_the_rest_syncs(
    pair: tuple[Replica, Replica],
) -> None:
    a, b = pair
    root = os.fsencode(a.root)
    for name in BAD_NAMES:
        full = os.path.join(root, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as handle:
            handle.write(b"only here")
    a.write("good.txt", b"synced")
    result = a.sync()
    assert result.pending == 0 and result.guard is None
    assert sorted(os.fsencode(path) for path, _reason in result.skipped) == sorted(
        [b"line\nbreak.txt", b"caf\xe9.txt", b"ctl\x01", b"back\\slash.txt"]
    )
    assert cloud_paths(a) == ["good.txt"]
    b.sync()
    assert b.files() == {"good.txt": b"synced"}
    a.write("later.txt", b"still syncing")  # every later sync works as well
    assert a.sync().pending == 0 and cloud_paths(a) == ["good.txt", "later.txt"]
    for name in BAD_NAMES:  # never lost
        with open(os.path.join(root, name), "rb") as handle:
            assert handle.read() == b"only here"


def _later(minutes: float) -> Callable[[], datetime]:
    return lambda: datetime.now(timezone.utc) + timedelta(minutes=minutes)


def test_one_file_the_cloud_refuses_fails_alone_and_waits_out_its_backoff(
    pair: tuple[Replica, Replica], cloud: ServerThread
) -> None:
    a, b = pair
    cloud.service.max_file_size = 3 << 20  # the cloud's limit on one file
    too_big = b"x" * ((3 << 20) + 1)
    a.write("big.bin", too_big)  # more than the cloud takes
    a.write("mid.bin", b"m" * (2 << 20))  # a plain upload, not in a batch
    for i in range(3):
        a.write(f"small{i}.txt", f"small {i}".encode())

    result = a.sync()
    assert [f.path for f in result.failures] == ["big.bin"]
    [failure] = result.failures
    assert failure.attempts == 1 and failure.code == "file_too_large"
    assert result.pending == 1 and result.guard is None
    assert cloud_paths(a) == ["mid.bin", "small0.txt", "small1.txt", "small2.txt"]
    b.sync()
    assert sorted(b.files()) == ["mid.bin", "small0.txt", "small1.txt", "small2.txt"]

    a.write("small0.txt", b"edited")  # later changes still sync, the failing file waits
    result = a.sync()
    assert [(f.path, f.attempts) for f in result.failures] == [("big.bin", 1)]
    assert b.sync().pending == 0 and b.read("small0.txt") == b"edited"

    # once the backoff is over it is tried again (and waits twice as long)
    result = a.sync(now=_later(1))
    [failure] = result.failures
    assert failure.attempts == 2
    assert failure.next_attempt_at - datetime.now(timezone.utc) > timedelta(minutes=1.9)
    # a person asking tries it at once
    assert a.sync(retry_failed=True).failures[0].attempts == 3

    a.write("big.bin", b"small enough now")  # fixed: tried at once, and forgotten
    result = a.sync()
    assert result.failures == [] and result.pending == 0
    assert "big.bin" in cloud_paths(a)
    with a.store.read() as session:
        assert failures.load(session, a.project_id) == {}


def test_one_download_that_fails_does_not_stop_the_uploads(
    pair: tuple[Replica, Replica], cloud: ServerThread
) -> None:
    a, b = pair
    for rel in ("x1.txt", "x2.txt", "sub/x3.txt"):
        a.write(rel, rel.encode())
    lost = b"its blob goes missing in the cloud" * 50_000  # its own blob, not in a pack
    a.write("bad.txt", lost)
    a.sync()
    digest = hashlib.sha256(lost).hexdigest()
    blob = Path(cloud.args[1]) / "sha256" / digest[:2] / digest[2:]
    blob.unlink()
    b.write("mine.txt", b"from b")  # pushed after the downloads, which used to stop it

    result = b.sync()
    assert [f.path for f in result.failures] == ["bad.txt"]
    assert sorted(b.files()) == ["mine.txt", "sub/x3.txt", "x1.txt", "x2.txt"]
    assert "mine.txt" in cloud_paths(b)
    assert not list(b.root.rglob("*.pfb.tmp"))  # the failed download left nothing

"""Two replicas and one remote: real folders, real SQLite files, and the real cloud on loopback
or the in-memory remote (each scenario that does not read the cloud's own log runs on both:
the engine knows only the Remote interface)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cloud import ServerThread
from support.replicas import Replica, make_pair


@contextlib.contextmanager
def cloud_requests() -> Iterator[list[list[str]]]:
    """``[method, uri]`` of each request the cloud answered while the block ran (from its
    access log, whatever logging configuration earlier tests left behind)."""
    seen: list[list[str]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage().split()[1:3])

    logger = logging.getLogger("tornado.access")
    handler, level, disabled = Collect(), logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled


@pytest.fixture
def cloud_pair(cloud: ServerThread, tmp_path: Path) -> tuple[Replica, Replica]:
    """Two replicas on the real cloud, for tests that read its access log."""
    return make_pair(cloud, tmp_path)


def test_create_edit_delete_propagate(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    a.write("hello.txt", b"hello")
    a.write("nb/deep/analysis.ipynb", b'{"cells": []}')
    a.sync()
    b.sync()
    assert b.files() == {"hello.txt": b"hello", "nb/deep/analysis.ipynb": b'{"cells": []}'}

    b.write("hello.txt", b"hello again")
    b.sync()
    result = a.sync()
    assert a.read("hello.txt") == b"hello again"
    assert result.pending == 0

    (a.root / "nb/deep/analysis.ipynb").unlink()
    a.sync()
    b.sync()
    assert b.files() == {"hello.txt": b"hello again"}
    assert (b.root / "nb" / "deep").is_dir()  # a still has the (now empty) folder: so does b


def test_move_is_a_cloud_move_and_keeps_content(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    a.write("old/name.txt", b"moving")
    a.sync()
    b.sync()
    (a.root / "new").mkdir()
    os.rename(a.root / "old/name.txt", a.root / "new/name.txt")
    a.sync()
    b.sync()
    assert b.files() == {"new/name.txt": b"moving"}


def test_edits_on_both_sides_keep_both_versions(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    a.write("doc.txt", b"base")
    a.sync()
    b.sync()
    a.write("doc.txt", b"edit from a")
    b.write("doc.txt", b"edit from b")
    a.sync()  # a wins the race to the cloud
    b.sync()  # b finds the conflict
    a.sync()
    files_a, files_b = a.files(), b.files()
    assert files_a == files_b
    assert files_b["doc.txt"] == b"edit from a"
    copies = [p for p in files_b if p.startswith("doc (conflict ")]
    assert len(copies) == 1 and files_b[copies[0]] == b"edit from b"
    [conflict] = b.conflicts()
    assert (conflict.path, conflict.conflict_path) == ("doc.txt", copies[0])


def test_delete_versus_edit_the_edit_wins(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    a.write("x.txt", b"v1")
    a.write("y.txt", b"v1")
    a.sync()
    b.sync()
    (a.root / "x.txt").unlink()  # a deletes x, b edits it
    b.write("x.txt", b"v2 from b")
    b.write("y.txt", b"v2 from b")  # b edits y, a deletes it after b's push
    a.sync()
    b.sync()
    (a.root / "y.txt").unlink()
    a.sync()
    b.sync()
    a.sync()
    assert a.files() == b.files() == {"x.txt": b"v2 from b", "y.txt": b"v2 from b"}


def test_a_large_file_round_trips(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    size = int(os.environ.get("PFB_TEST_LARGE_MB", "100")) * 1024 * 1024
    chunk = os.urandom(1 << 20)
    with open(a.root / "big.bin", "wb") as handle:
        for _ in range(size // len(chunk)):
            handle.write(chunk)
    a.sync()
    b.sync()
    assert (b.root / "big.bin").stat().st_size == size
    digest = hashlib.sha256
    assert digest(b.read("big.bin")).digest() == digest(a.read("big.bin")).digest()


def test_nothing_to_do_hashes_nothing(pair: tuple[Replica, Replica]) -> None:
    a, _ = pair
    a.write("f.txt", b"x")
    a.sync()
    result = a.sync()
    assert result.operations == 0 and result.pending == 0


def test_a_rewrite_within_one_timestamp_tick_is_not_missed(pair: tuple[Replica, Replica]) -> None:
    """Same size, same inode, same mtime (two writes in one coarse clock tick): the index
    must not vouch for a file that fresh ("racy git")."""
    a, b = pair
    a.write("tick.txt", b"aaaa")
    path = a.root / "tick.txt"
    before = path.stat()
    a.sync()
    with open(path, "r+b") as handle:  # rewrite in place: the inode stays
        handle.write(b"bbbb")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_ino, path.stat().st_size) == (before.st_ino, before.st_size)
    a.sync()
    b.sync()
    assert b.read("tick.txt") == b"bbbb"


def test_empty_folders_are_synced(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    (a.root / "data" / "raw").mkdir(parents=True)
    (a.root / "notes").mkdir()
    a.write("notes/keep.md", b"x")
    a.sync()
    b.sync()
    assert (b.root / "data" / "raw").is_dir() and not any((b.root / "data" / "raw").iterdir())
    assert b.files() == {"notes/keep.md": b"x"}  # the marker never shows up as a file

    (b.root / "notes" / "keep.md").unlink()  # notes/ is now empty on b: it stays, as a folder
    b.write("data/raw/first.csv", b"1")  # raw/ is no longer empty
    b.sync()
    a.sync()
    b.sync()
    assert (a.root / "notes").is_dir() and not any((a.root / "notes").iterdir())
    assert a.files() == b.files() == {"data/raw/first.csv": b"1"}

    (a.root / "notes").rmdir()
    a.sync()
    b.sync()
    assert not (b.root / "notes").exists()


def test_a_copied_file_is_sent_by_reference(cloud_pair: tuple[Replica, Replica]) -> None:
    """Content the cloud already holds in the project is not uploaded again: a copy of a big
    file travels as a stored batch item (no PUT of its bytes), and the other replica gets
    the full bytes."""
    import shutil

    a, b = cloud_pair
    data = os.urandom(3 << 20)  # bigger than a batch file: its bytes would go by PUT
    a.write("data/big.bin", data)
    a.sync()
    shutil.copytree(a.root / "data", a.root / "copy")
    with cloud_requests() as requests:
        result = a.sync()
    assert result.operations == 1 and result.pending == 0
    assert ["POST", f"/api/v1/projects/{a.project_id}/batch"] in requests
    assert not any(method == "PUT" for method, _uri in requests), requests
    b.sync()
    assert b.read("copy/big.bin") == data and b.read("data/big.bin") == data


def test_a_reference_the_cloud_does_not_hold_is_sent_with_its_bytes(
    cloud_pair: tuple[Replica, Replica],
) -> None:
    """If the remote tree vouches for content the cloud does not have (a state DB that
    drifted), the cloud answers unknown_content and the engine uploads the bytes."""
    import sqlite3

    a, b = cloud_pair
    a.write("seen.txt", b"x")
    a.sync()
    data = b"never uploaded before " * 100
    # an ignored path the planner leaves alone, but whose content the remote tree "has"
    db = sqlite3.connect(a.root.parent / "state.db")
    with db:
        db.execute(
            "INSERT INTO remote_entries VALUES (?, 'junk.pyc', 'r-none', ?, ?)",
            (a.project_id, hashlib.sha256(data).hexdigest(), len(data)),
        )
    db.close()
    a.write("new.txt", data)
    with cloud_requests() as requests:
        result = a.sync()
    assert result.pending == 0
    batch = requests.index(["POST", f"/api/v1/projects/{a.project_id}/batch"])  # by reference
    assert ["PUT", f"/api/v1/projects/{a.project_id}/files/new.txt"] in requests[batch:]
    b.sync()
    assert b.read("new.txt") == data


ROUTE_WORDS = ["revisions", "batch", "moves", "checkpoints", "files", "content", "history"]
ROUTE_WORDS += ["changes", "stream", "restore", "collaborators", "diff", "deleted"]


def test_files_named_like_routes_sync_both_ways(pair: tuple[Replica, Replica]) -> None:
    """Issue 14, item 1: a file named ``revisions`` (or any route word) in a subfolder
    downloads, and never blocks the replica's uploads."""
    a, b = pair
    names = [p for w in ROUTE_WORDS for p in (w, f"d/{w}", f"{w}.d/{w}/{w}")]
    for path in names:
        a.write(path, f"from a: {path}".encode())
    big = b"x" * (3 << 20)  # sent as a single PUT, not in a batch
    a.write("large/revisions", big)
    a.sync()
    b.sync()
    expected = {p: f"from a: {p}".encode() for p in names} | {"large/revisions": big}
    assert b.files() == expected

    b.write("d/revisions", b"edited on b")
    b.write("new/revisions", b"new on b")
    (b.root / "revisions.d" / "revisions" / "revisions").unlink()
    (b.root / "d" / "batch").rename(b.root / "d" / "moves.moved")
    b.sync()
    a.sync()
    expected |= {"d/revisions": b"edited on b", "new/revisions": b"new on b"}
    expected["d/moves.moved"] = expected.pop("d/batch")
    del expected["revisions.d/revisions/revisions"]
    assert a.files() == expected == b.files()
    assert not a.conflicts() and not b.conflicts()


def test_modification_times_travel(pair: tuple[Replica, Replica]) -> None:
    """Issue 14, item 9: a downloaded file gets the source's mtime (ns), small files (sent
    in a batch) and large ones (a single PUT) alike, and the index agrees with it."""
    a, b = pair
    mtimes = {"small.txt": 1_000_000_000_123_456_789, "big/data.bin": 1_200_000_000_987_654_321}
    a.write("small.txt", b"small")
    a.write("big/data.bin", os.urandom(3 << 20))
    for rel, mtime in mtimes.items():
        os.utime(a.root / rel, ns=(mtime, mtime))
    a.sync()
    b.sync()
    for rel, mtime in mtimes.items():
        assert (b.root / rel).stat().st_mtime_ns == mtime, rel
    assert b.sync().operations == 0  # the index holds the stat after the mtime was set
    # an edit on b travels back with b's mtime
    b.write("small.txt", b"edited")
    os.utime(b.root / "small.txt", ns=(1_300_000_000_000_000_001,) * 2)
    b.sync()
    a.sync()
    assert (a.root / "small.txt").stat().st_mtime_ns == 1_300_000_000_000_000_001

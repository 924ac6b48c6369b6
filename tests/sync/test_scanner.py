"""The scanner on real files: index reuse, ignores, symlinks, special files."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path

from project_filebrowser.sync.ignore import IgnoreRules
from project_filebrowser.sync.scanner import scan
from project_filebrowser.sync.trees import LocalFile


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_scan_hashes_files_and_reuses_the_index(tmp_path: Path) -> None:
    _write(tmp_path, "a.txt", b"alpha")
    _write(tmp_path, "sub/deep/b.bin", b"\x00" * 3_000_000)
    first = scan(tmp_path)
    assert set(first.tree) == {"a.txt", "sub/deep/b.bin"}
    assert first.tree["a.txt"].sha256 == hashlib.sha256(b"alpha").hexdigest()
    assert first.tree["sub/deep/b.bin"].size == 3_000_000
    assert first.hashed == 2

    again = scan(tmp_path, index=first.tree.get)
    assert again.hashed == 0 and again.tree == first.tree

    _write(tmp_path, "a.txt", b"alpha, changed")
    third = scan(tmp_path, index=first.tree.get)
    assert third.hashed == 1
    assert third.tree["a.txt"].sha256 == hashlib.sha256(b"alpha, changed").hexdigest()


def test_a_lying_index_entry_is_not_trusted_when_stat_differs(tmp_path: Path) -> None:
    _write(tmp_path, "a.txt", b"real")
    st = os.stat(tmp_path / "a.txt")
    stale = LocalFile("a.txt", "0" * 64, st.st_size, st.st_mtime_ns - 1, st.st_ino)
    result = scan(tmp_path, index={"a.txt": stale}.get)
    assert result.tree["a.txt"].sha256 == hashlib.sha256(b"real").hexdigest()


def test_default_and_projectignore_rules(tmp_path: Path) -> None:
    _write(tmp_path, "nb.ipynb", b"{}")
    _write(tmp_path, ".ipynb_checkpoints/nb-checkpoint.ipynb", b"{}")
    _write(tmp_path, "pkg/__pycache__/m.cpython-311.pyc", b"x")
    _write(tmp_path, "pkg/m.pyc", b"x")
    _write(tmp_path, "data/big.csv", b"1,2")
    _write(tmp_path, "data/keep.csv", b"3,4")
    _write(tmp_path, ".projectignore", b"data/*.csv\n!data/keep.csv\n")
    result = scan(tmp_path)
    assert set(result.tree) == {"nb.ipynb", "data/keep.csv", ".projectignore"}
    assert ".ipynb_checkpoints/" in result.ignored
    assert "data/big.csv" in result.ignored


def test_symlinks_are_not_followed_and_special_files_are_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _write(outside, "secret.txt", b"do not sync")
    project = tmp_path / "project"
    _write(project, "real.txt", b"ok")
    (project / "link-dir").symlink_to(outside, target_is_directory=True)
    (project / "link-file").symlink_to(outside / "secret.txt")
    os.mkfifo(project / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(project / "sock"))
    try:
        result = scan(project, rules=IgnoreRules())
    finally:
        sock.close()
    assert set(result.tree) == {"real.txt"}
    assert dict(result.skipped) == {
        "link-dir": "symlink",
        "link-file": "symlink",
        "fifo": "special_file",
        "sock": "special_file",
    }


def test_backslash_names_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "a\\b.txt", b"x")
    result = scan(tmp_path)
    assert result.tree == {} and result.skipped == [("a\\b.txt", "unsupported_name")]


def test_missing_root_scans_empty(tmp_path: Path) -> None:
    assert scan(tmp_path / "nope").tree == {}


def test_default_rules_by_name_agree_with_pathspec() -> None:
    """The name tests that stand in for DEFAULT_RULES decide exactly as pathspec would."""
    import itertools

    import pathspec

    from project_filebrowser.sync.ignore import DEFAULT_RULES, default_ignored

    spec = pathspec.GitIgnoreSpec.from_lines(DEFAULT_RULES)
    rules = IgnoreRules()  # the same tests, with its per-folder cache
    names = [
        "a", "notes.txt", ".git", "__pycache__", ".ipynb_checkpoints", "m.pyc", "m.py",
        ".DS_Store", "x.DS_Store", "~$doc.docx", "a~$b", ".f.pfb.tmp", "pfb.tmp", ".gitignore",
        "git", "pyc", "__pycache__x", "x.pyc.txt",
    ]  # fmt: skip
    checked = 0
    for depth in (1, 2, 3):
        for parts in itertools.product(names, repeat=depth):
            path = "/".join(parts)
            assert default_ignored(path) == spec.match_file(path) == rules(path), path
            assert default_ignored(path, is_dir=True) == spec.match_file(path + "/"), path
            assert rules.ignores_dir(path) == spec.match_file(path + "/"), path
            checked += 1
    assert checked == len(names) + len(names) ** 2 + len(names) ** 3


def test_a_same_size_rewrite_that_restores_the_mtime_is_seen(tmp_path: Path) -> None:
    target = tmp_path / "data.csv"
    target.write_bytes(b"1,2,3\n")
    before = os.stat(target)
    first = scan(tmp_path)
    index = first.tree
    time.sleep(0.05)  # past the kernel's timestamp granularity (a jiffy), so ctime can move
    with open(target, "r+b") as handle:  # the same inode, the same size
        handle.write(b"4,5,6\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # touch -d: the old mtime
    after = os.stat(target)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    rescanned = scan(tmp_path, index=index.get)
    assert rescanned.hashed == 1
    assert rescanned.tree["data.csv"].sha256 == hashlib.sha256(b"4,5,6\n").hexdigest()
    assert rescanned.tree["data.csv"].ctime_ns == after.st_ctime_ns
    assert scan(tmp_path, index=rescanned.tree.get).hashed == 0  # and trusted again after

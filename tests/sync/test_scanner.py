"""The scanner on real files: index reuse, ignores, symlinks, special files."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path

import pytest

from project_cloud.paths import is_valid_path
from project_filebrowser.sync.ignore import IgnoreRules
from project_filebrowser.sync.scanner import scan, skip_reason
from project_filebrowser.sync.trees import LocalFile, can_hold, shown


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
    assert result.tree == {} and result.skipped == [("a\\b.txt", "invalid_name")]


# Names the cloud cannot hold, as bytes on disk (a file system takes any byte but / and NUL).
HOSTILE_NAMES = [
    b"line\nbreak.txt",
    b"tab\there.txt",
    b"bell\x07.txt",
    b"del\x7f.txt",
    b"caf\xe9.txt",  # Latin-1, not UTF-8
    b"\xff\xfe.bin",
    b"half\xc3.txt",  # a UTF-8 sequence cut short
]


def test_names_the_cloud_cannot_hold_are_skipped_and_reported(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    for name in HOSTILE_NAMES:
        with open(os.path.join(root, name), "wb") as handle:
            handle.write(b"kept here")
    os.mkdir(os.path.join(root, b"bad\x01dir"))
    with open(os.path.join(root, b"bad\x01dir", b"inner.txt"), "wb") as handle:
        handle.write(b"under a bad folder")
    _write(tmp_path, "ok/fine.txt", b"synced")
    _write(tmp_path, "ok/" + "é" * 126 + "x.t", b"255 bytes: fine")
    result = scan(tmp_path)
    assert sorted(result.tree) == sorted(["ok/fine.txt", "ok/" + "é" * 126 + "x.t"])
    skipped = dict(result.skipped)
    assert sorted(os.fsencode(path) for path in skipped) == sorted([*HOSTILE_NAMES, b"bad\x01dir"])
    assert set(skipped.values()) == {"invalid_name"}
    reasons = {os.fsencode(path): skip_reason(path, code) for path, code in skipped.items()}
    assert "control character U+000A" in reasons[b"line\nbreak.txt"]
    assert "not valid Unicode" in reasons[b"caf\xe9.txt"]
    assert shown(os.fsdecode(b"caf\xe9.txt")) == "caf\\xe9.txt"


@pytest.mark.parametrize(
    "name",
    [
        "plain.txt",
        "a\\b",
        "x" * 255,
        "x" * 256,
        "é" * 127,
        "é" * 128,
        "tab\tx",
        "\x7f",
        "nbsp\u00a0.txt",
        "\u2028sep",
        os.fsdecode(b"caf\xe9"),
        "日本語.txt",
        ".hidden",
    ],
)
def test_the_scanners_name_test_is_the_clouds_rule(name: str) -> None:
    for path in (name, f"folder/{name}", "d/" * 1000 + name):
        assert can_hold(path, name) == is_valid_path(path), (path, name)


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

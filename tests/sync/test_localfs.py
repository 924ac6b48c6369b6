"""Atomic local writes on real files."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from project_filebrowser.sync.localfs import (
    AtomicDownload,
    LocalChanged,
    conflict_name,
    delete_if_unchanged,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


WHEN = datetime(2026, 11, 22, 1, 45, 0)


def test_conflict_names() -> None:
    none: set[str] = set()
    assert conflict_name("a/nb.ipynb", WHEN, none.__contains__) == (
        "a/nb (conflict 2026-11-22 014500).ipynb"
    )
    assert conflict_name("Makefile", WHEN, none.__contains__) == (
        "Makefile (conflict 2026-11-22 014500)"
    )
    assert conflict_name(".env", WHEN, none.__contains__) == ".env (conflict 2026-11-22 014500)"
    assert conflict_name("x.tar.gz", WHEN, none.__contains__) == (
        "x.tar (conflict 2026-11-22 014500).gz"
    )
    taken = {"nb (conflict 2026-11-22 014500).ipynb"}
    assert conflict_name("nb.ipynb", WHEN, taken.__contains__) == (
        "nb (conflict 2026-11-22 014500 2).ipynb"
    )


def test_download_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    with AtomicDownload(target) as download:
        download.write(b"new ")
        download.write(b"bytes")
        assert not target.exists()
        download.commit(expect_sha256=None)
    assert target.read_bytes() == b"new bytes"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]

    with AtomicDownload(target) as download:
        download.write(b"newer")
        download.commit(expect_sha256=sha(b"new bytes"))
    assert target.read_bytes() == b"newer"


def test_a_target_changed_meanwhile_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_bytes(b"base")
    download = AtomicDownload(target)
    download.write(b"remote")
    target.write_bytes(b"user edit during download")
    with pytest.raises(LocalChanged):
        download.commit(expect_sha256=sha(b"base"))
    assert target.read_bytes() == b"user edit during download"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_a_file_created_meanwhile_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    download = AtomicDownload(target)
    download.write(b"remote")
    target.write_bytes(b"created by the user")
    with pytest.raises(LocalChanged):
        download.commit(expect_sha256=None)
    assert target.read_bytes() == b"created by the user"


def test_an_error_discards_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    with pytest.raises(RuntimeError), AtomicDownload(target) as download:
        download.write(b"partial")
        raise RuntimeError("network dropped")
    assert list(tmp_path.iterdir()) == []


def test_delete_only_if_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_bytes(b"edited")
    with pytest.raises(LocalChanged):
        delete_if_unchanged(target, sha(b"base"))
    assert target.exists()
    delete_if_unchanged(target, sha(b"edited"))
    assert not target.exists()


LONG_NAMES = ["n" * 251 + ".txt", "é" * 125 + "x.csv", "x" * 255]  # 255 bytes of UTF-8 each


@pytest.mark.parametrize("name", LONG_NAMES)
def test_a_download_to_a_name_of_255_bytes(tmp_path: Path, name: str) -> None:
    assert len(name.encode()) == 255
    target = tmp_path / "sub" / name
    with AtomicDownload(target) as download:
        assert len(download.temp.name.encode()) <= 32
        assert download.temp.name.endswith(".pfb.tmp") and download.temp.parent == target.parent
        download.write(b"long")
        download.commit(expect_sha256=None)
    assert target.read_bytes() == b"long"
    assert [p.name for p in target.parent.iterdir()] == [name]


@pytest.mark.parametrize("name", LONG_NAMES)
def test_a_conflict_copy_of_a_name_of_255_bytes_fits(name: str) -> None:
    taken: set[str] = set()
    for _ in range(3):
        copy = conflict_name(f"dir/{name}", WHEN, taken.__contains__)
        leaf = copy.removeprefix("dir/")
        assert len(leaf.encode()) <= 255 and "(conflict 2026-11-22 014500" in leaf
        assert leaf.encode().decode() == leaf  # no character cut in half
        assert copy not in taken
        taken.add(copy)
    if "." in name:
        assert copy.endswith(name[name.rindex(".") :])  # the extension survives

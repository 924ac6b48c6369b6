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

"""A cloud that sends hostile paths cannot make the engine write outside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from project_filebrowser.cloud.client import Change, FileVersion
from project_filebrowser.store import LocalProjectRow, Store
from project_filebrowser.store.migrate import upgrade
from project_filebrowser.sync import state
from project_filebrowser.sync.trees import is_safe_path

HOSTILE = ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "a\\b", "a//b", "./a", "a/\0"]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_are_unsafe(path: str) -> None:
    assert not is_safe_path(path)


def test_safe_paths() -> None:
    assert is_safe_path("a/b c/d.ipynb") and is_safe_path(".hidden") and is_safe_path("a..b")


def test_hostile_remote_entries_never_reach_the_remote_tree(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(db_url)
    store = Store(db_url)
    with store.write() as session:
        session.add(LocalProjectRow(id="p", cloud_url="x", name="p", local_path="p"))
    sha = "0" * 64
    with store.write() as session:
        state.replace_remote(
            session,
            "p",
            [FileVersion(path=p, revision="r", sha256=sha, size=1) for p in [*HOSTILE, "ok.txt"]],
            cursor=5,
        )
        state.apply_changes(
            session,
            "p",
            [Change(seq=6, path=p, op="put", revision="r2", sha256=sha, size=1) for p in HOSTILE]
            + [
                Change(
                    seq=7,
                    path="moved.txt",
                    op="move",
                    from_path="../x",
                    revision="r3",
                    sha256=sha,
                    size=1,
                )
            ],
        )
    with store.read() as session:
        assert set(state.load_remote(session, "p")) == {"ok.txt"}
    store.dispose()

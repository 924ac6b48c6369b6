"""Two JupyterLab servers of one user on one standalone cloud, driven through their REST
APIs (no browser): a project made on one is linked on the other, edits travel both ways,
and an edit made while the cloud is stopped arrives once it is back."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.labs import Lab, TwoLabs
from support.polling import eventually


@pytest.fixture(scope="module")
def linked(two_labs: TwoLabs) -> tuple[Path, Path]:
    created = two_labs.one.api("POST", "projects", body={"name": "pair"})
    two_labs.two.api("POST", "projects", created["id"], "link", body={})
    return (
        two_labs.one.root / "projects" / "pair",
        two_labs.two.root / "projects" / "pair",
    )


def _state(lab: Lab, path: str) -> str | None:
    project = next(p for p in lab.api("GET", "projects")["items"] if p["name"] == "pair")
    files = lab.api("GET", "projects", project["id"], "files")["items"]
    return next((f["state"] for f in files if f["path"] == path), None)


def test_an_edit_travels_both_ways(two_labs: TwoLabs, linked: tuple[Path, Path]) -> None:
    one, two = linked
    (one / "a.txt").write_text("from one\n")
    eventually(lambda: (two / "a.txt").exists(), what="a.txt on lab two")
    assert (two / "a.txt").read_text() == "from one\n"
    (two / "a.txt").write_text("from two\n")
    eventually(lambda: (one / "a.txt").read_text() == "from two\n", what="the edit on lab one")


def test_an_edit_made_while_the_cloud_is_down_arrives(
    two_labs: TwoLabs, linked: tuple[Path, Path]
) -> None:
    one, two = linked
    two_labs.stop_cloud()
    try:
        (one / "offline.txt").write_text("written offline\n")
        eventually(lambda: _state(two_labs.one, "offline.txt") == "pending_push", what="pending")
    finally:
        two_labs.start_cloud()
    eventually(lambda: (two / "offline.txt").exists(), timeout=60, what="offline.txt on two")
    assert (two / "offline.txt").read_text() == "written offline\n"
    eventually(lambda: _state(two_labs.one, "offline.txt") == "synced", what="synced on one")

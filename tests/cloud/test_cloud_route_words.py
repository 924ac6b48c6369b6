"""File names equal to route words never collide with a route (issue 14, item 1).

Every word the API uses in a URL is tried as a file name (and as folder names above it)
at depths 1 to 3: upload, download with and without ``?revision=``, HEAD, listing, move,
delete, and the revision listing on its own route ``/projects/{id}/revisions/{path}``.
The old ``files/{x}/revisions`` listing still works for old clients where it is
unambiguous, and 405 replies advertise the methods of the route actually hit.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from support.cloud import User

ROUTE_WORDS = [
    "revisions",
    "batch",
    "moves",
    "checkpoints",
    "files",
    "content",
    "history",
    "changes",
    "stream",
    "restore",
    "collaborators",
    "openapi.json",
    "projects",
    "diff",
    "deleted",
]


def paths_of(word: str) -> list[str]:
    """The word as a file at depth 1, 2 and 3 (the folders above it route words too)."""
    return [word, f"d/{word}", f"{word}.d/{word}/{word}"]


def url(project: dict[str, Any], path: str, route: str = "files") -> str:
    return f"/projects/{project['id']}/{route}/{quote(path, safe='/')}"


@pytest.mark.parametrize("word", ROUTE_WORDS)
def test_route_word_names_behave_as_files(alice: User, project: dict[str, Any], word: str) -> None:
    c = alice.client
    versions = {}
    for path in paths_of(word):
        r = c.put(url(project, path), content=f"v1 {path}".encode(), headers={"If-None-Match": "*"})
        assert r.status_code == 201, (path, r.text)
        first = r.json()["revision"]
        r = c.put(url(project, path), content=f"v2 {path}".encode(), headers={"If-Match": first})
        assert r.status_code == 200, (path, r.text)
        versions[path] = (first, r.json()["revision"])

    for path, (first, second) in versions.items():
        r = c.get(url(project, path))
        assert (r.status_code, r.content) == (200, f"v2 {path}".encode()), (path, r.text)
        assert r.headers["ETag"] == f'"{second}"'
        r = c.get(url(project, path), params={"revision": first})
        assert (r.status_code, r.content) == (200, f"v1 {path}".encode()), (path, r.text)
        r = c.head(url(project, path))
        assert r.status_code == 200 and r.headers["ETag"] == f'"{second}"', path
        r = c.get(url(project, path, "revisions"))
        assert r.status_code == 200, (path, r.text)
        assert [v["revision"] for v in r.json()["items"]] == [second, first]

    listed = {v["path"] for v in c.get(f"/projects/{project['id']}/files").json()["items"]}
    assert set(versions) <= listed

    for path, (_first, second) in versions.items():
        moved = f"{path}.moved/{word}"
        r = c.post(
            f"/projects/{project['id']}/moves", json={"from": path, "to": moved, "if_match": second}
        )
        assert r.status_code == 200, (path, r.text)
        assert c.get(url(project, moved)).content == f"v2 {path}".encode()
        history = c.get(url(project, moved, "revisions")).json()["items"]
        assert [v["path"] for v in history][:2] == [moved, path]
        r = c.delete(url(project, moved), headers={"If-Match": r.json()["revision"]})
        assert r.status_code == 204, (moved, r.text)
        assert c.get(url(project, moved)).status_code == 404


def test_legacy_revisions_listing_only_where_unambiguous(
    alice: User, project: dict[str, Any]
) -> None:
    c = alice.client
    pid = project["id"]
    # "x" is a file: files/x/revisions can only mean its listing (x cannot be a folder)
    rev = c.put(url(project, "x"), content=b"x").json()["revision"]
    r = c.get(f"/projects/{pid}/files/x/revisions")
    assert r.status_code == 200 and r.json()["items"][0]["revision"] == rev
    # "sub/revisions" is a live file: the same URL form is always the file
    file_rev = c.put(url(project, "sub/revisions"), content=b"the file").json()["revision"]
    r = c.get(f"/projects/{pid}/files/sub/revisions")
    assert (r.status_code, r.content) == (200, b"the file")
    # ... with ?revision= too (the listing takes no parameters): what old clients sent
    r = c.get(f"/projects/{pid}/files/sub/revisions", params={"revision": file_rev})
    assert (r.status_code, r.content) == (200, b"the file"), r.text
    # a deleted file named revisions answers as that file: gone
    c.delete(url(project, "sub/revisions"), headers={"If-Match": file_rev})
    assert c.get(f"/projects/{pid}/files/sub/revisions").status_code == 404
    # its history stays readable on both routes
    for listing in (
        f"/projects/{pid}/revisions/sub/revisions",
        url(project, "sub/revisions") + "/revisions",
    ):
        r = c.get(listing)
        assert r.status_code == 200 and r.json()["items"][1]["revision"] == file_rev, listing
    assert c.get(f"/projects/{pid}/revisions/never").status_code == 404


def test_allow_headers_name_the_route_hit(alice: User, project: dict[str, Any]) -> None:
    c = alice.client
    c.put(url(project, "a/revisions"), content=b"file")
    r = c.post(url(project, "a/revisions"))
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD, PUT, DELETE"
    r = c.put(url(project, "a/revisions", "revisions"), content=b"nope")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["Allow"] == "GET"
    # PUT and DELETE on the old form act on the file named revisions
    r = c.put(f"/projects/{project['id']}/files/b/revisions", content=b"b")
    assert r.status_code == 201 and r.json()["path"] == "b/revisions"

"""Files: upload, download, revisions, preconditions, deletes, moves, listing, limits."""

from __future__ import annotations

import hashlib
import socket
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from support.cloud import SMALL_MAX_FILE_SIZE, ServerThread, User


def files_url(project: dict[str, Any], path: str = "") -> str:
    base = f"/projects/{project['id']}/files"
    return f"{base}/{quote(path, safe='/')}" if path else base


def put(
    user: User, project: dict[str, Any], path: str, data: bytes, **headers: str
) -> httpx.Response:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return user.client.put(files_url(project, path), content=data, headers=hdrs)


def test_create_read_update(alice: User, project: dict[str, Any]) -> None:
    r = put(alice, project, "notes/a.txt", b"one", If_None_Match="*")
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert v1["path"] == "notes/a.txt"
    assert v1["sha256"] == hashlib.sha256(b"one").hexdigest()
    assert v1["size"] == 3 and v1["deleted"] is False and v1["modified_by"] == alice.name
    assert r.headers["ETag"] == f'"{v1["revision"]}"'

    r = alice.client.get(files_url(project, "notes/a.txt"))
    assert r.status_code == 200 and r.content == b"one"
    assert r.headers["ETag"] == f'"{v1["revision"]}"'
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["X-Content-SHA256"] == v1["sha256"]

    # quoted If-Match
    r = put(alice, project, "notes/a.txt", b"two", If_Match=f'"{v1["revision"]}"')
    assert r.status_code == 200, r.text
    v2 = r.json()
    assert v2["revision"] != v1["revision"]
    # bare If-Match
    r = put(alice, project, "notes/a.txt", b"three", If_Match=v2["revision"])
    assert r.status_code == 200, r.text
    v3 = r.json()

    # older revisions stay readable
    r = alice.client.get(files_url(project, "notes/a.txt"), params={"revision": v1["revision"]})
    assert r.status_code == 200 and r.content == b"one"
    assert r.headers["ETag"] == f'"{v1["revision"]}"'
    r = alice.client.get(files_url(project, "notes/a.txt"))
    assert r.content == b"three"

    revs = alice.client.get(files_url(project, "notes/a.txt") + "/revisions").json()["items"]
    assert [v["revision"] for v in revs] == [v3["revision"], v2["revision"], v1["revision"]]

    p = alice.client.get(f"/projects/{project['id']}").json()
    assert p["head_seq"] == 3 and p["file_count"] == 1 and p["size_bytes"] == 5


def test_every_write_is_a_revision_even_same_content(alice: User, project: dict[str, Any]) -> None:
    r1 = put(alice, project, "same.txt", b"x")
    r2 = put(alice, project, "same.txt", b"x", If_Match=r1.json()["revision"])
    assert r2.status_code == 200
    assert r1.json()["revision"] != r2.json()["revision"]
    revs = alice.client.get(files_url(project, "same.txt") + "/revisions").json()["items"]
    assert len(revs) == 2


def test_preconditions(alice: User, project: dict[str, Any]) -> None:
    r = put(alice, project, "f.txt", b"a", If_None_Match="*")
    rev = r.json()["revision"]
    # create when it exists
    r = put(alice, project, "f.txt", b"b", If_None_Match="*")
    assert r.status_code == 412 and r.json()["error"]["code"] == "precondition_failed"
    # stale If-Match
    r = put(alice, project, "f.txt", b"b", If_Match='"nope"')
    assert r.status_code == 412
    # If-Match on a missing path
    r = put(alice, project, "missing.txt", b"b", If_Match=f'"{rev}"')
    assert r.status_code == 412
    # If-Match: * needs an existing file
    assert put(alice, project, "missing.txt", b"b", If_Match="*").status_code == 412
    assert put(alice, project, "f.txt", b"c", If_Match="*").status_code == 200
    # no precondition: last writer wins
    r = put(alice, project, "f.txt", b"d")
    assert r.status_code == 200
    assert alice.client.get(files_url(project, "f.txt")).content == b"d"
    # nothing of the refused writes was stored
    revs = alice.client.get(files_url(project, "f.txt") + "/revisions").json()["items"]
    assert len(revs) == 3


def test_download_conditional_and_head(alice: User, project: dict[str, Any]) -> None:
    rev = put(alice, project, "h.bin", b"12345").json()["revision"]
    r = alice.client.get(files_url(project, "h.bin"), headers={"If-None-Match": f'"{rev}"'})
    assert r.status_code == 304 and r.content == b""
    r = alice.client.head(files_url(project, "h.bin"))
    assert r.status_code == 200 and r.headers["Content-Length"] == "5" and r.content == b""
    assert alice.client.head(files_url(project, "nope")).status_code == 404


def test_delete_is_a_tombstone(alice: User, project: dict[str, Any]) -> None:
    v1 = put(alice, project, "d.txt", b"bye").json()
    r = alice.client.delete(files_url(project, "d.txt"), headers={"If-Match": '"stale"'})
    assert r.status_code == 412
    r = alice.client.delete(files_url(project, "d.txt"), headers={"If-Match": v1["revision"]})
    assert r.status_code == 204
    tomb_rev = r.headers["ETag"].strip('"')
    assert alice.client.get(files_url(project, "d.txt")).status_code == 404
    assert alice.client.delete(files_url(project, "d.txt")).status_code == 404
    revs = alice.client.get(files_url(project, "d.txt") + "/revisions").json()["items"]
    assert [v["deleted"] for v in revs] == [True, False]
    assert revs[0]["revision"] == tomb_rev and revs[0]["sha256"] is None
    # the old content stays reachable
    r = alice.client.get(files_url(project, "d.txt"), params={"revision": v1["revision"]})
    assert r.content == b"bye"
    # a tombstone revision cannot be downloaded
    r = alice.client.get(files_url(project, "d.txt"), params={"revision": tomb_rev})
    assert r.status_code == 404
    # listing hides deleted files unless asked
    names = [f["path"] for f in alice.client.get(files_url(project)).json()["items"]]
    assert "d.txt" not in names
    items = alice.client.get(files_url(project), params={"include_deleted": "true"}).json()
    assert [f["deleted"] for f in items["items"] if f["path"] == "d.txt"] == [True]
    # recreate: If-None-Match: * works over a tombstone, and so does If-Match: <tombstone>
    r = put(alice, project, "d.txt", b"again", If_None_Match="*")
    assert r.status_code == 201
    r = alice.client.delete(files_url(project, "d.txt"), headers={"If-Match": r.json()["revision"]})
    tomb2 = r.headers["ETag"].strip('"')
    assert put(alice, project, "d.txt", b"3rd", If_Match=tomb2).status_code == 201
    p = alice.client.get(f"/projects/{project['id']}").json()
    assert p["file_count"] == 1 and p["size_bytes"] == 3


def test_moves_keep_history(alice: User, project: dict[str, Any]) -> None:
    v1 = put(alice, project, "old/name.txt", b"v1").json()
    v2 = put(alice, project, "old/name.txt", b"v2", If_Match=v1["revision"]).json()
    url = f"/projects/{project['id']}/moves"
    r = alice.client.post(url, json={"from": "old/name.txt", "to": "new.txt", "if_match": "bad"})
    assert r.status_code == 412
    r = alice.client.post(
        url, json={"from": "old/name.txt", "to": "new.txt", "if_match": f'"{v2["revision"]}"'}
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["path"] == "new.txt" and moved["sha256"] == v2["sha256"]
    assert r.headers["ETag"] == f'"{moved["revision"]}"'
    assert alice.client.get(files_url(project, "new.txt")).content == b"v2"
    assert alice.client.get(files_url(project, "old/name.txt")).status_code == 404

    hist = alice.client.get(files_url(project, "new.txt") + "/revisions").json()["items"]
    assert [(v["path"], v["revision"]) for v in hist] == [
        ("new.txt", moved["revision"]),
        ("old/name.txt", v2["revision"]),
        ("old/name.txt", v1["revision"]),
    ]
    old_hist = alice.client.get(files_url(project, "old/name.txt") + "/revisions").json()["items"]
    assert old_hist[0]["deleted"] is True and len(old_hist) == 3
    # an old revision is readable through the new path
    r = alice.client.get(files_url(project, "new.txt"), params={"revision": v1["revision"]})
    assert r.status_code == 200 and r.content == b"v1"

    changes = alice.client.get(f"/projects/{project['id']}/changes").json()["items"]
    assert changes[-1]["op"] == "move"
    assert changes[-1]["from_path"] == "old/name.txt" and changes[-1]["path"] == "new.txt"
    assert [c["seq"] for c in changes] == [1, 2, 3]

    # target exists / source missing / same path
    put(alice, project, "other.txt", b"o")
    r = alice.client.post(url, json={"from": "new.txt", "to": "other.txt"})
    assert r.status_code == 412 and r.json()["error"]["code"] == "target_exists"
    r = alice.client.post(url, json={"from": "gone.txt", "to": "x.txt"})
    assert r.status_code == 404
    # onto itself: nothing moves, nothing changes (as rename(2))
    head = alice.client.get(f"/projects/{project['id']}").json()["head_seq"]
    r = alice.client.post(url, json={"from": "new.txt", "to": "new.txt"})
    assert r.status_code == 200 and r.json()["path"] == "new.txt"
    assert alice.client.get(f"/projects/{project['id']}").json()["head_seq"] == head
    r = alice.client.post(url, json={"from": "new.txt", "to": "../x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_path"
    # a file may move into a folder named like itself
    r = alice.client.post(url, json={"from": "new.txt", "to": "new.txt/inner"})
    assert r.status_code == 200, r.text


def test_file_and_folder_cannot_share_a_path(alice: User, project: dict[str, Any]) -> None:
    assert put(alice, project, "a/b/c.txt", b"c").status_code == 201
    r = put(alice, project, "a/b", b"x")
    assert r.status_code == 409 and r.json()["error"]["code"] == "path_conflict"
    r = put(alice, project, "a/b/c.txt/d", b"x")
    assert r.status_code == 409 and r.json()["error"]["code"] == "path_conflict"
    assert put(alice, project, "a/bb", b"fine").status_code == 201
    assert put(alice, project, "a/b0", b"fine").status_code == 201


def test_listing_prefix_and_pagination(alice: User, project: dict[str, Any]) -> None:
    paths = [f"dir{i % 3}/file{i:02d}.txt" for i in range(25)] + ["dir10/x", "top.txt"]
    for p in paths:
        assert put(alice, project, p, p.encode()).status_code == 201
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 7}
        if token:
            params["page_token"] = token
        body = alice.client.get(files_url(project), params=params).json()
        seen += [f["path"] for f in body["items"]]
        pages += 1
        token = body["next_page_token"]
        if token is None:
            break
    assert seen == sorted(paths) and pages == 4
    body = alice.client.get(files_url(project), params={"prefix": "dir1"}).json()
    assert [f["path"] for f in body["items"]] == sorted([p for p in paths if p.startswith("dir1")])
    body = alice.client.get(files_url(project), params={"prefix": "dir1/"}).json()
    assert all(f["path"].startswith("dir1/") for f in body["items"]) and len(body["items"]) == 8
    r = alice.client.get(files_url(project), params={"page_token": "garbage!"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_page_token"
    assert alice.client.get(files_url(project), params={"limit": 0}).status_code == 400
    assert alice.client.get(files_url(project), params={"limit": "x"}).status_code == 400


def test_names_are_compared_exactly(alice: User, project: dict[str, Any]) -> None:
    nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
    for i, name in enumerate(["Report.txt", "report.txt", nfc, nfd]):
        r = put(alice, project, name, str(i).encode(), If_None_Match="*")
        assert r.status_code == 201, (name, r.text)
    for i, name in enumerate(["Report.txt", "report.txt", nfc, nfd]):
        assert alice.client.get(files_url(project, name)).content == str(i).encode()


def test_revisions_suffix(alice: User, project: dict[str, Any]) -> None:
    assert put(alice, project, "docs", b"a file named docs").status_code == 201
    assert put(alice, project, "x/revisions", b"a file named revisions").status_code == 201
    r = alice.client.get(f"/projects/{project['id']}/files/x%2Frevisions")
    assert r.status_code == 200 and r.content == b"a file named revisions"
    r = alice.client.get(f"/projects/{project['id']}/files/x/revisions/revisions")
    assert r.status_code == 200 and r.json()["items"][0]["path"] == "x/revisions"
    # revisions of a path that never existed
    r = alice.client.get(f"/projects/{project['id']}/files/never/revisions")
    assert r.status_code == 404


BAD_PATHS = [
    "%2E%2E/secret",
    "a/%2E%2E/b",
    "a/%2E/b",
    "%2Fetc%2Fpasswd",
    "/etc/passwd",
    "a//b",
    "a/",
    "a%00b",
    "a%5Cb",
    "..%5C..%5Cwindows",
    "a%0Ab",
    "%FF%FE",
]


@pytest.mark.parametrize("raw", BAD_PATHS)
def test_traversal_and_bad_paths_are_refused(
    alice: User, project: dict[str, Any], raw: str
) -> None:
    url = f"/projects/{project['id']}/files/{raw}"
    for method in ("GET", "PUT", "DELETE"):
        r = alice.client.request(method, url, content=b"data" if method == "PUT" else None)
        assert r.status_code == 400, (method, raw, r.status_code, r.text)
        assert r.json()["error"]["code"] == "invalid_path"


def test_dot_segments_sent_raw(cloud: ServerThread, alice: User, project: dict[str, Any]) -> None:
    """Unencoded '..' (clients that do not normalize URLs) is refused too."""
    for raw in ("../x", "a/../../x", "./x"):
        target = f"/api/v1/projects/{project['id']}/files/{raw}"
        status = raw_request(cloud, "GET", target, alice.token)
        assert status == 400, (raw, status)


def raw_request(cloud: ServerThread, method: str, target: str, token: str) -> int:
    port = int(cloud.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"{method} {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_checksum_header(alice: User, project: dict[str, Any]) -> None:
    good = hashlib.sha256(b"payload").hexdigest()
    r = put(alice, project, "c.txt", b"payload", X_Content_SHA256=good)
    assert r.status_code == 201
    r = put(alice, project, "c2.txt", b"payload", X_Content_SHA256="0" * 64)
    assert r.status_code == 400 and r.json()["error"]["code"] == "checksum_mismatch"
    assert alice.client.get(files_url(project, "c2.txt")).status_code == 404
    r = put(alice, project, "c3.txt", b"payload", X_Content_SHA256="xyz")
    assert r.status_code == 400


def test_empty_file(alice: User, project: dict[str, Any]) -> None:
    r = put(alice, project, "empty", b"")
    assert r.status_code == 201 and r.json()["size"] == 0
    r = alice.client.get(files_url(project, "empty"))
    assert r.status_code == 200 and r.content == b""


def test_oversized_upload_with_length(alice: User, project: dict[str, Any]) -> None:
    r = put(alice, project, "big.bin", b"x" * (SMALL_MAX_FILE_SIZE + 1))
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    assert put(alice, project, "ok.bin", b"x" * SMALL_MAX_FILE_SIZE).status_code == 201
    assert alice.client.get(files_url(project, "big.bin")).status_code == 404


def test_oversized_upload_streamed(alice: User, project: dict[str, Any]) -> None:
    def chunks() -> Any:
        for _ in range(SMALL_MAX_FILE_SIZE // 65536 + 2):
            yield b"y" * 65536

    r = alice.client.put(files_url(project, "big2.bin"), content=chunks())
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    assert alice.client.get(files_url(project, "big2.bin")).status_code == 404
    # the server is fine afterwards
    assert alice.client.get("/user").status_code == 200


def test_huge_declared_length_is_refused_at_once(
    cloud: ServerThread, alice: User, project: dict[str, Any]
) -> None:
    port = int(cloud.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"PUT /api/v1/projects/{project['id']}/files/huge HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {alice.token}\r\nContent-Length: {10 * 1024**3}\r\n\r\n"
        )
        sock.sendall(head.encode())
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 413"), data[:200]
    assert b"file_too_large" in data


def test_json_body_limit(alice: User) -> None:
    body = b'{"name": "x", "description": "' + b"d" * (1024 * 1024) + b'"}'
    r = alice.client.post("/projects", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_refusal_before_body_is_still_a_json_reply(anon: httpx.Client) -> None:
    r = anon.put("/projects/x/files/a.txt", content=b"z" * 1024 * 1024)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_expect_continue_gets_the_refusal_before_sending(
    cloud: ServerThread, project: dict[str, Any]
) -> None:
    port = int(cloud.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"PUT /api/v1/projects/{project['id']}/files/a HTTP/1.1\r\nHost: x\r\n"
            "Authorization: Bearer wrong\r\nContent-Length: 1000\r\n"
            "Expect: 100-continue\r\n\r\n"
        )
        sock.sendall(head.encode())
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 401"), data[:200]

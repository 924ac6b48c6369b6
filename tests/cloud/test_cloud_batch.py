"""Batch upload (``POST /projects/{id}/batch``): many small files in one request, each
checked and recorded as its own upload would be; bad batches change nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from support.cloud import User

BATCH_TYPE = "application/vnd.project-cloud.batch"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def body(items: list[dict[str, Any]], *parts: bytes) -> bytes:
    return json.dumps({"items": items}).encode() + b"\n" + b"".join(parts)


def item(path: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"path": path, "size": len(data), "sha256": sha(data), **extra}


def post(user: User, project: dict[str, Any], content: bytes) -> httpx.Response:
    return user.client.post(
        f"/projects/{project['id']}/batch", content=content, headers={"Content-Type": BATCH_TYPE}
    )


def head_seq(user: User, project: dict[str, Any]) -> int:
    return int(user.client.get(f"/projects/{project['id']}").json()["head_seq"])


def listing(user: User, project: dict[str, Any]) -> dict[str, str]:
    r = user.client.get(f"/projects/{project['id']}/files", params={"limit": 1000})
    return {f["path"]: f["sha256"] for f in r.json()["items"]}


def test_batch_creates_each_file_with_its_own_revision(
    alice: User, project: dict[str, Any]
) -> None:
    files = {f"dir/f{i}.txt": f"content {i}".encode() for i in range(50)}
    files["empty.txt"] = b""
    r = post(
        alice,
        project,
        body([item(p, d, if_none_match="*") for p, d in files.items()], *files.values()),
    )
    assert r.status_code == 200, r.text
    results = r.json()["items"]
    assert [x["path"] for x in results] == list(files)
    assert all(x["status"] == 201 and x["error"] is None for x in results)
    assert len({x["version"]["revision"] for x in results}) == len(files)
    for path, data in files.items():
        got = alice.client.get(f"/projects/{project['id']}/files/{path}")
        assert got.status_code == 200 and got.content == data
    # one change per file, gap-free, and the project's counters follow
    changes = alice.client.get(
        f"/projects/{project['id']}/changes", params={"since": 0, "limit": 1000}
    ).json()
    assert [c["seq"] for c in changes["items"]] == list(range(1, len(files) + 1))
    p = alice.client.get(f"/projects/{project['id']}").json()
    assert p["file_count"] == len(files)
    assert p["size_bytes"] == sum(map(len, files.values()))


def test_batch_items_fail_alone(alice: User, project: dict[str, Any]) -> None:
    first = post(alice, project, body([item("a.txt", b"a1")], b"a1")).json()["items"][0]
    rev = first["version"]["revision"]
    before = head_seq(alice, project)
    r = post(
        alice,
        project,
        body(
            [
                item("a.txt", b"a2", if_match=rev),  # fresh: an update
                item("b.txt", b"b", if_match="1-000000000000"),  # stale
                {**item("c.txt", b"c"), "sha256": sha(b"not c")},  # bytes do not match
                item("../d.txt", b"d"),  # hostile path
                item("a.txt/e.txt", b"e"),  # a.txt is a file, not a folder
                item("f.txt", b"f", if_none_match="*"),
            ],
            b"a2",
            b"b",
            b"c",
            b"d",
            b"e",
            b"f",
        ),
    )
    assert r.status_code == 200, r.text
    got = [(x["path"], x["status"], (x["error"] or {}).get("code")) for x in r.json()["items"]]
    assert got == [
        ("a.txt", 200, None),
        ("b.txt", 412, "precondition_failed"),
        ("c.txt", 400, "checksum_mismatch"),
        ("../d.txt", 400, "invalid_path"),
        ("a.txt/e.txt", 409, "path_conflict"),
        ("f.txt", 201, None),
    ]
    assert listing(alice, project) == {"a.txt": sha(b"a2"), "f.txt": sha(b"f")}
    assert head_seq(alice, project) == before + 2


def test_bad_batches_change_nothing(alice: User, bob: User, project: dict[str, Any]) -> None:
    good = body([item("x.txt", b"x")], b"x")
    cases = [
        (b"", 400, "invalid_batch"),
        (b"no newline at all", 400, "invalid_batch"),
        (b"{not json\nxx", 400, "invalid_json"),
        (b'{"items": []}\n', 400, "invalid_request"),
        (body([{"path": "x", "size": -1, "sha256": sha(b"")}]), 400, "invalid_request"),
        (body([item("x.txt", b"x")], b"x", b"trailing"), 400, "invalid_batch"),
        (body([item("x.txt", b"xyz")], b"x"), 400, "invalid_batch"),
        (body([item("x.txt", b"x"), item("x.txt", b"x")], b"x", b"x"), 400, "invalid_batch"),
        (body([{**item("x.txt", b"x"), "mode": "force"}], b"x"), 400, "invalid_request"),
        (body([{**item("x.txt", b"x"), "stored": "yes"}]), 400, "invalid_request"),
        (body([item(f"f{i}", b"") for i in range(1001)]), 400, "invalid_batch"),
        (b"{" + b" " * (1024 * 1024) + b"}\n", 413, "body_too_large"),  # manifest > 1 MiB
    ]
    for content, status, code in cases:
        r = post(alice, project, content)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), content[:80]
    # another user's project looks missing; no token is refused
    r = post(bob, project, good)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    anon = httpx.Client(base_url=str(alice.client.base_url))
    with anon:
        r = anon.post(f"/projects/{project['id']}/batch", content=good)
    assert r.status_code == 401
    assert head_seq(alice, project) == 0
    assert listing(alice, project) == {}


def test_oversized_batch_is_refused(alice: User, project: dict[str, Any]) -> None:
    from project_cloud.handlers import MAX_BATCH_BODY

    big = b"z" * (MAX_BATCH_BODY + 1)
    r = post(alice, project, body([item("big.bin", big)], big))
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert head_seq(alice, project) == 0


def test_read_collaborator_cannot_batch(alice: User, bob: User, project: dict[str, Any]) -> None:
    r = alice.client.put(
        f"/projects/{project['id']}/collaborators/{bob.name}", json={"role": "read"}
    )
    assert r.status_code == 200, r.text
    r = post(bob, project, body([item("x.txt", b"x")], b"x"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert head_seq(alice, project) == 0


def test_small_files_are_packed_once(alice: User, project: dict[str, Any], cloud: Any) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from project_cloud.models import PackedBlob

    shared, other = b"shared bytes", b"other bytes"
    files = [("one", shared), ("two", shared), ("three", other)]
    r = post(alice, project, body([item(p, d) for p, d in files], *(d for _p, d in files)))
    assert [x["status"] for x in r.json()["items"]] == [201, 201, 201]
    # again, in a second batch: nothing new to store
    r = post(alice, project, body([item("four", shared)], shared))
    assert r.json()["items"][0]["status"] == 201
    with Session(cloud.service.engine) as s:
        rows = s.execute(
            select(PackedBlob.sha256, PackedBlob.pack).where(
                PackedBlob.sha256.in_([sha(shared), sha(other)])
            )
        ).all()
    assert sorted(sha256 for sha256, _pack in rows) == sorted([sha(shared), sha(other)])
    assert len({pack for _sha, pack in rows}) == 1  # one pack for the first batch
    for path, data in [*files, ("four", shared)]:
        got = alice.client.get(f"/projects/{project['id']}/files/{path}")
        assert got.status_code == 200 and got.content == data
        assert got.headers["Content-Length"] == str(len(data))
    assert cloud.service.blobs.temp_files() == []


def test_stored_items_reuse_the_projects_own_content(
    alice: User, bob: User, project: dict[str, Any]
) -> None:
    """A ``stored`` item brings no bytes: it reuses content this project holds (history
    included); content it does not hold - unknown, another project's, or another size - fails
    that item alone with 409 unknown_content."""
    big = bytes(range(256)) * 8192  # 2 MiB: what a copied data file saves
    r = post(
        alice, project, body([item("data/big.bin", big), item("old.txt", b"old")], big, b"old")
    )
    assert [x["status"] for x in r.json()["items"]] == [201, 201]
    gone = alice.client.delete(
        f"/projects/{project['id']}/files/old.txt",
        headers={"If-Match": r.json()["items"][1]["version"]["revision"]},
    )
    assert gone.status_code == 204
    other = alice.client.post("/projects", json={"name": "other"}).json()
    secret = b"only in the other project"
    assert post(alice, other, body([item("s.txt", secret)], secret)).status_code == 200
    before = head_seq(alice, project)

    r = post(
        alice,
        project,
        body(
            [
                item("copy/big.bin", big, stored=True),  # a copy of a live file
                item("again.txt", b"old", stored=True),  # content only in history
                item("new.txt", b"new"),  # bytes, beside references
                item("nope.txt", b"never uploaded", stored=True),
                item("leak.txt", secret, stored=True),  # another project's content
                {**item("short.bin", big, stored=True), "size": 5},  # the wrong size
            ],
            b"new",
        ),
    )
    assert r.status_code == 200, r.text
    results = r.json()["items"]
    assert [x["status"] for x in results] == [201, 201, 201, 409, 409, 409]
    assert {x["error"]["code"] for x in results[3:]} == {"unknown_content"}
    base = f"/projects/{project['id']}/files"
    assert alice.client.get(f"{base}/copy/big.bin").content == big
    assert alice.client.get(f"{base}/again.txt").content == b"old"
    assert alice.client.get(f"{base}/new.txt").content == b"new"
    for missing in ("nope.txt", "leak.txt", "short.bin"):
        assert alice.client.get(f"{base}/{missing}").status_code == 404
    assert head_seq(alice, project) == before + 3
    p = alice.client.get(f"/projects/{project['id']}").json()
    assert p["file_count"] == 4 and p["size_bytes"] == 2 * len(big) + 6

    # a stored item's size is not part of the body: bytes for it are a malformed batch
    r = post(alice, project, body([item("x.bin", big, stored=True)], big))
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_batch"
    # and bob, who cannot see the project, learns nothing
    r = post(bob, project, body([item("y.bin", big, stored=True)]))
    assert r.status_code == 404
    assert head_seq(alice, project) == before + 3

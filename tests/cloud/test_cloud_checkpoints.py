"""Checkpoints: name a state, list them, restore one by writing new revisions."""

from __future__ import annotations

from typing import Any

from support.cloud import User


def snapshot(user: User, pid: str) -> dict[str, bytes]:
    files = user.client.get(f"/projects/{pid}/files", params={"limit": 1000}).json()["items"]
    return {f["path"]: user.client.get(f"/projects/{pid}/files/{f['path']}").content for f in files}


def test_checkpoint_and_restore(alice: User, project: dict[str, Any]) -> None:
    pid = project["id"]
    c = alice.client
    c.put(f"/projects/{pid}/files/keep.txt", content=b"keep")
    c.put(f"/projects/{pid}/files/edit.txt", content=b"original")
    c.put(f"/projects/{pid}/files/gone.txt", content=b"will be deleted")
    c.put(f"/projects/{pid}/files/moved.txt", content=b"will move")
    before = snapshot(alice, pid)

    r = c.post(f"/projects/{pid}/checkpoints", json={"name": "v1"})
    assert r.status_code == 201, r.text
    cp = r.json()
    assert cp["name"] == "v1" and cp["seq"] == 4 and set(cp) == {"id", "name", "seq", "created_at"}
    assert c.post(f"/projects/{pid}/checkpoints", json={"name": "v1"}).status_code == 409

    edit_rev = c.put(f"/projects/{pid}/files/edit.txt", content=b"changed").json()["revision"]
    c.delete(f"/projects/{pid}/files/gone.txt")
    c.post(f"/projects/{pid}/moves", json={"from": "moved.txt", "to": "elsewhere.txt"})
    c.put(f"/projects/{pid}/files/new.txt", content=b"new")
    assert snapshot(alice, pid) != before
    head_before_restore = c.get(f"/projects/{pid}").json()["head_seq"]
    assert head_before_restore == 8

    r = c.post(f"/projects/{pid}/checkpoints/{cp['id']}/restore")
    assert r.status_code == 200, r.text
    restored = r.json()
    assert snapshot(alice, pid) == before
    # 4 paths differed on each side: edit, gone (recreate), moved (recreate),
    # elsewhere + new (delete) -> 5 new revisions, new seqs
    assert restored["head_seq"] == head_before_restore + 5
    assert restored["file_count"] == 4 and restored["size_bytes"] == sum(map(len, before.values()))

    # history is kept and extended, never rewritten
    revs = c.get(f"/projects/{pid}/files/edit.txt/revisions").json()["items"]
    assert len(revs) == 3 and revs[1]["revision"] == edit_rev
    changes = c.get(f"/projects/{pid}/changes", params={"since": 8}).json()["items"]
    assert [ch["seq"] for ch in changes] == [9, 10, 11, 12, 13]
    assert sorted((ch["op"], ch["path"]) for ch in changes) == [
        ("delete", "elsewhere.txt"),
        ("delete", "new.txt"),
        ("put", "edit.txt"),
        ("put", "gone.txt"),
        ("put", "moved.txt"),
    ]
    # restoring again changes nothing
    again = c.post(f"/projects/{pid}/checkpoints/{cp['id']}/restore").json()
    assert again["head_seq"] == restored["head_seq"]


def test_checkpoint_at_an_earlier_seq(alice: User, project: dict[str, Any]) -> None:
    pid = project["id"]
    c = alice.client
    c.put(f"/projects/{pid}/files/a", content=b"1")
    c.put(f"/projects/{pid}/files/a", content=b"2")
    c.put(f"/projects/{pid}/files/b", content=b"b")
    r = c.post(f"/projects/{pid}/checkpoints", json={"name": "first", "seq": 1})
    assert r.status_code == 201 and r.json()["seq"] == 1
    late = c.post(f"/projects/{pid}/checkpoints", json={"name": "x", "seq": 99})
    assert late.status_code == 409 and late.json()["error"]["code"] == "seq_after_head"
    empty = c.post(f"/projects/{pid}/checkpoints", json={"name": "empty", "seq": 0}).json()
    c.post(f"/projects/{pid}/checkpoints/{r.json()['id']}/restore")
    assert snapshot(alice, pid) == {"a": b"1"}
    c.post(f"/projects/{pid}/checkpoints/{empty['id']}/restore")
    assert snapshot(alice, pid) == {}
    assert c.get(f"/projects/{pid}").json()["file_count"] == 0


def test_list_get_delete(alice: User, bob: User, project: dict[str, Any]) -> None:
    pid = project["id"]
    c = alice.client
    ids = []
    for name in ("one", "two", "three"):
        c.put(f"/projects/{pid}/files/f", content=name.encode())
        ids.append(c.post(f"/projects/{pid}/checkpoints", json={"name": name}).json()["id"])
    items = c.get(f"/projects/{pid}/checkpoints").json()["items"]
    assert [i["name"] for i in items] == ["three", "two", "one"]
    assert c.get(f"/projects/{pid}/checkpoints/{ids[0]}").json()["name"] == "one"
    assert c.delete(f"/projects/{pid}/checkpoints/{ids[0]}").status_code == 204
    assert c.get(f"/projects/{pid}/checkpoints/{ids[0]}").status_code == 404
    assert c.post(f"/projects/{pid}/checkpoints/{ids[0]}/restore").status_code == 404
    assert c.post(f"/projects/{pid}/checkpoints", json={"name": ""}).status_code == 400

    # a reader may list but not restore; a stranger sees nothing
    c.put(f"/projects/{pid}/collaborators/{bob.name}", json={"role": "read"})
    assert len(bob.client.get(f"/projects/{pid}/checkpoints").json()["items"]) == 2
    assert bob.client.post(f"/projects/{pid}/checkpoints/{ids[1]}/restore").status_code == 403
    c.delete(f"/projects/{pid}/collaborators/{bob.name}")
    assert bob.client.post(f"/projects/{pid}/checkpoints/{ids[1]}/restore").status_code == 404
    # a checkpoint id of another project is not found here
    other = c.post("/projects", json={"name": "other-proj"}).json()["id"]
    assert c.get(f"/projects/{other}/checkpoints/{ids[1]}").status_code == 404

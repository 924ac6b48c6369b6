"""Racing writers: exactly one wins each race, the others get 412, nothing is merged."""

from __future__ import annotations

from typing import Any

from support.cloud import WRITERS, ServerThread, User, race


def test_many_writers_with_the_same_if_match(
    cloud: ServerThread, alice: User, project: dict[str, Any]
) -> None:
    url = f"/projects/{project['id']}/files/shared.txt"
    base = alice.client.put(url, content=b"base").json()["revision"]
    bodies = [f"writer {i}".encode() * 100 for i in range(WRITERS)]
    results = race(
        cloud,
        alice,
        [("PUT", url, {"content": b, "headers": {"If-Match": f'"{base}"'}}) for b in bodies],
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [412] * (WRITERS - 1), codes
    winner = next(i for i, r in enumerate(results) if r.status_code == 200)
    assert alice.client.get(url).content == bodies[winner]
    for r in results:
        if r.status_code == 412:
            assert r.json()["error"]["code"] == "precondition_failed"
    revs = alice.client.get(url + "/revisions").json()["items"]
    assert len(revs) == 2
    assert revs[0]["revision"] == results[winner].json()["revision"]


def test_many_creators_of_one_path(
    cloud: ServerThread, alice: User, project: dict[str, Any]
) -> None:
    url = f"/projects/{project['id']}/files/new/file.txt"
    results = race(
        cloud,
        alice,
        [
            ("PUT", url, {"content": f"{i}".encode(), "headers": {"If-None-Match": "*"}})
            for i in range(WRITERS)
        ],
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [412] * (WRITERS - 1), codes


def test_delete_races_update(cloud: ServerThread, alice: User, project: dict[str, Any]) -> None:
    url = f"/projects/{project['id']}/files/dv.txt"
    base = alice.client.put(url, content=b"base").json()["revision"]
    reqs: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(WRITERS):
        method = "DELETE" if i % 2 else "PUT"
        kwargs: dict[str, Any] = {"headers": {"If-Match": base}}
        if method == "PUT":
            kwargs["content"] = b"update"
        reqs.append((method, url, kwargs))
    results = race(cloud, alice, reqs)
    ok = [r for r in results if r.status_code in (200, 204)]
    assert len(ok) == 1
    for req, r in zip(reqs, results, strict=True):
        if r is ok[0]:
            continue
        if req[0] == "DELETE" and ok[0].status_code == 204:
            # the file is gone: a DELETE answers 404 whatever its precondition (RFC 9110)
            assert r.status_code == 404
        else:
            assert r.status_code == 412, (req[0], r.status_code)


def test_concurrent_writes_to_different_paths_get_gap_free_seqs(
    cloud: ServerThread, alice: User, project: dict[str, Any]
) -> None:
    pid = project["id"]
    results = race(
        cloud,
        alice,
        [("PUT", f"/projects/{pid}/files/p{i}.txt", {"content": b"x"}) for i in range(WRITERS)],
    )
    assert all(r.status_code == 201 for r in results)
    # and some refused writes in between do not leave gaps
    race(
        cloud,
        alice,
        [
            (
                "PUT",
                f"/projects/{pid}/files/p{i}.txt",
                {"content": b"y", "headers": {"If-Match": "stale"}},
            )
            for i in range(8)
        ],
    )
    alice.client.put(f"/projects/{pid}/files/last.txt", content=b"z")
    changes = alice.client.get(f"/projects/{pid}/changes", params={"limit": 1000}).json()
    assert [c["seq"] for c in changes["items"]] == list(range(1, WRITERS + 2))
    assert changes["head_seq"] == WRITERS + 1
    assert sorted(c["path"] for c in changes["items"][:-1]) == sorted(
        f"p{i}.txt" for i in range(WRITERS)
    )


def test_moves_race(cloud: ServerThread, alice: User, project: dict[str, Any]) -> None:
    pid = project["id"]
    rev = alice.client.put(f"/projects/{pid}/files/m.txt", content=b"m").json()["revision"]
    results = race(
        cloud,
        alice,
        [
            (
                "POST",
                f"/projects/{pid}/moves",
                {"json": {"from": "m.txt", "to": f"m{i}.txt", "if_match": rev}},
            )
            for i in range(12)
        ],
    )
    codes = sorted(r.status_code for r in results)
    # the winner moves it; the others find the source gone (404) or stale (412)
    assert codes.count(200) == 1 and all(c in (404, 412) for c in codes if c != 200), codes
    files = alice.client.get(f"/projects/{pid}/files").json()["items"]
    assert len(files) == 1 and files[0]["sha256"] is not None

"""Users, tokens, projects and access control."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from project_cloud.models import Token
from project_cloud.models import User as UserRow
from support.cloud import ServerThread, User


def test_password_login_and_token_revocation(alice: User, anon: httpx.Client) -> None:
    r = anon.post("/auth/token", json={"username": alice.name, "password": alice.password})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get("/user", headers=headers).json() == {"username": alice.name}
    assert anon.delete("/auth/token", headers=headers).status_code == 204
    r = anon.get("/user", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    # the other token still works
    assert alice.client.get("/user").status_code == 200


def test_bad_credentials(alice: User, anon: httpx.Client) -> None:
    for body in (
        {"username": alice.name, "password": "wrong"},
        {"username": "nobody-here", "password": "x"},
    ):
        r = anon.post("/auth/token", json=body)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = anon.post("/auth/token", json={"username": alice.name})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
    r = anon.post("/auth/token", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_requests_without_a_valid_token(anon: httpx.Client, project: dict[str, Any]) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        for method, url in (
            ("GET", "/user"),
            ("GET", "/projects"),
            ("GET", f"/projects/{project['id']}"),
            ("GET", f"/projects/{project['id']}/files/a.txt"),
            ("PUT", f"/projects/{project['id']}/files/a.txt"),
            ("GET", f"/projects/{project['id']}/changes"),
        ):
            r = anon.request(
                method, url, headers=headers, content=b"x" if method == "PUT" else None
            )
            assert r.status_code == 401, (method, url, headers)
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            assert r.json()["error"]["code"] == "unauthorized"


def test_tokens_and_passwords_are_stored_hashed(cloud: ServerThread, alice: User) -> None:
    with cloud.service.engine.connect() as conn:
        hashes = conn.execute(select(Token.token_hash)).scalars().all()
        pw = conn.execute(select(UserRow.password_hash).where(UserRow.username == alice.name))
        pw_hash = pw.scalar_one()
    assert alice.token not in hashes
    assert hashlib.sha256(alice.token.encode()).hexdigest() in hashes
    assert pw_hash.startswith("scrypt$") and alice.password not in pw_hash


def test_project_crud(alice: User) -> None:
    r = alice.client.post(
        "/projects",
        json={"name": "My Project_1", "description": "d", "metadata": {"k": [1, 2]}},
    )
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["title"] == "My Project_1" and p["owner"] == alice.name
    assert p["metadata"] == {"k": [1, 2]} and p["head_seq"] == 0
    assert r.headers["Location"].endswith(p["id"])
    assert alice.client.post("/projects", json={"name": "My Project_1"}).status_code == 409
    r = alice.client.patch(f"/projects/{p['id']}", json={"title": "T", "metadata": {"a": 1}})
    assert r.status_code == 200
    assert r.json()["title"] == "T" and r.json()["metadata"] == {"a": 1}
    assert r.json()["description"] == "d"
    assert alice.client.get(f"/projects/{p['id']}").json()["title"] == "T"
    assert alice.client.delete(f"/projects/{p['id']}").status_code == 204
    assert alice.client.get(f"/projects/{p['id']}").status_code == 404
    assert alice.client.post("/projects", json={"name": "My Project_1"}).status_code == 201


def test_project_validation(alice: User) -> None:
    for body in (
        {"name": ""},
        {"name": "../x"},
        {"name": "a/b"},
        {"name": ".hidden"},
        {"name": "trailing."},
        {"name": "x" * 200},
        {"name": "ok", "unknown": 1},
        {"name": "ok", "title": 5},
        {"name": "ok", "metadata": []},
        ["name"],
        '{"name": "ok", "metadata": {"x": NaN}}',
        '{"name": "ok", "metadata": {"x": [1, Infinity]}}',
    ):
        if isinstance(body, str):
            r = alice.client.post("/projects", content=body.encode())
        else:
            r = alice.client.post("/projects", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] in ("invalid_request", "invalid_json")


def test_project_list_pagination(make_user: Callable[..., User]) -> None:
    carol = make_user("carol")
    names = [f"p{i:02d}" for i in range(12)]
    for n in reversed(names):
        assert carol.client.post("/projects", json={"name": n}).status_code == 201
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"limit": 5}
        if token:
            params["page_token"] = token
        body = carol.client.get("/projects", params=params).json()
        seen += [p["name"] for p in body["items"]]
        token = body["next_page_token"]
        if not token:
            break
    assert seen == names


def test_other_users_projects_are_invisible(
    alice: User, bob: User, project: dict[str, Any]
) -> None:
    pid = project["id"]
    alice.client.put(f"/projects/{pid}/files/secret.txt", content=b"s")
    assert pid not in [p["id"] for p in bob.client.get("/projects").json()["items"]]
    for method, url in (
        ("GET", f"/projects/{pid}"),
        ("PATCH", f"/projects/{pid}"),
        ("DELETE", f"/projects/{pid}"),
        ("GET", f"/projects/{pid}/files"),
        ("GET", f"/projects/{pid}/files/secret.txt"),
        ("PUT", f"/projects/{pid}/files/secret.txt"),
        ("DELETE", f"/projects/{pid}/files/secret.txt"),
        ("GET", f"/projects/{pid}/files/secret.txt/revisions"),
        ("GET", f"/projects/{pid}/changes"),
        ("GET", f"/projects/{pid}/checkpoints"),
        ("POST", f"/projects/{pid}/checkpoints"),
        ("GET", f"/projects/{pid}/collaborators"),
        ("POST", f"/projects/{pid}/moves"),
    ):
        body: Any = None
        if method == "PATCH":
            body = {"title": "x"}
        elif method == "POST":
            body = (
                {"name": "c"} if url.endswith("checkpoints") else {"from": "secret.txt", "to": "b"}
            )
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        if method == "PUT":
            kwargs = {"content": b"hack"}
        r = bob.client.request(method, url, **kwargs)
        assert r.status_code == 404, (method, url, r.status_code)
        assert r.json()["error"]["code"] == "not_found"
    # a missing project looks the same
    assert bob.client.get("/projects/0123456789abcdef0123456789abcdef").status_code == 404
    assert alice.client.get(f"/projects/{pid}/files/secret.txt").content == b"s"


def test_collaborator_roles(alice: User, bob: User, project: dict[str, Any]) -> None:
    pid = project["id"]
    alice.client.put(f"/projects/{pid}/files/f.txt", content=b"f")
    url = f"/projects/{pid}/collaborators/{bob.name}"
    assert alice.client.put(url, json={"role": "reader"}).status_code == 400
    assert (
        alice.client.put(f"/projects/{pid}/collaborators/nobody", json={"role": "read"}).status_code
        == 404
    )
    assert (
        alice.client.put(
            f"/projects/{pid}/collaborators/{alice.name}", json={"role": "read"}
        ).status_code
        == 409
    )
    r = alice.client.put(url, json={"role": "read"})
    assert r.status_code == 200 and r.json() == {"username": bob.name, "role": "read"}

    assert pid in [p["id"] for p in bob.client.get("/projects").json()["items"]]
    assert bob.client.get(f"/projects/{pid}/files/f.txt").content == b"f"
    r = bob.client.put(f"/projects/{pid}/files/f.txt", content=b"bob")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert bob.client.delete(f"/projects/{pid}/files/f.txt").status_code == 403
    assert bob.client.patch(f"/projects/{pid}", json={"title": "b"}).status_code == 403
    assert bob.client.post(f"/projects/{pid}/checkpoints", json={"name": "c"}).status_code == 403

    assert alice.client.put(url, json={"role": "write"}).status_code == 200
    assert bob.client.put(f"/projects/{pid}/files/f.txt", content=b"bob").status_code == 200
    assert bob.client.patch(f"/projects/{pid}", json={"title": "b"}).status_code == 200
    assert bob.client.delete(f"/projects/{pid}").status_code == 403
    assert bob.client.put(url, json={"role": "write"}).status_code == 403
    items = alice.client.get(f"/projects/{pid}/collaborators").json()["items"]
    assert items == [{"username": bob.name, "role": "write"}]
    f = alice.client.get(f"/projects/{pid}/files/f.txt/revisions").json()["items"][0]
    assert f["modified_by"] == bob.name

    assert alice.client.delete(url).status_code == 204
    assert alice.client.delete(url).status_code == 404
    assert bob.client.get(f"/projects/{pid}").status_code == 404


def test_unknown_routes_and_methods(alice: User) -> None:
    r = alice.client.get("/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = alice.client.post("/user")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]

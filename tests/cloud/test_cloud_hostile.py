"""Hostile input on the REST surface: every refusal is a clear 4xx, never a 500."""

from __future__ import annotations

import base64
from typing import Any

from support.cloud import User
from support.logs import bug_reports, captured_logs

DEEP = "[" * 3000 + "]" * 3000


def test_deeply_nested_json_is_refused_everywhere(alice: User, project: dict[str, Any]) -> None:
    """Issue 14, item 11: nesting that makes json.loads raise RecursionError."""
    with captured_logs() as records:
        refuse_deep_json(alice, project)
    assert bug_reports(records) == []


def refuse_deep_json(alice: User, project: dict[str, Any]) -> None:
    c, pid = alice.client, project["id"]
    bodies = [
        ("POST", "/projects", '{"name": "deep", "metadata": {"a": ' + DEEP + "}}"),
        ("PATCH", f"/projects/{pid}", '{"metadata": {"a": ' + DEEP + "}}"),
        ("POST", f"/projects/{pid}/moves", DEEP),
        ("POST", f"/projects/{pid}/checkpoints", '{"name": ' + DEEP + "}"),
        ("POST", "/auth/token", DEEP),
    ]
    for method, url, body in bodies:
        r = c.request(method, url, content=body.encode())
        assert r.status_code == 400, (url, r.text)
        assert r.json()["error"]["code"] in ("invalid_json", "invalid_request"), (url, r.text)
    r = c.post(
        f"/projects/{pid}/batch",
        content=b'{"items": ' + DEEP.encode() + b"}\n",
        headers={"Content-Type": "application/vnd.project-cloud.batch"},
    )
    assert r.status_code == 400, r.text
    token = base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("=")
    for url in ("/projects", f"/projects/{pid}/files"):
        r = c.get(url, params={"page_token": token})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_page_token", r.text
    assert c.get(f"/projects/{pid}").status_code == 200


def test_edge_values_get_clear_answers(alice: User, bob: User, project: dict[str, Any]) -> None:
    """Issue 14, item 13: what the fuzzer found, each a clear 4xx (or a sensible 2xx)."""
    c, pid = alice.client, project["id"]
    c.put(f"/projects/{pid}/files/a.txt", content=b"a")
    r = c.get(f"/projects/{pid}/changes", params={"since": 2**63 - 1})
    assert r.status_code == 200 and r.json()["items"] == []
    r = c.get(f"/projects/{pid}/changes", params={"since": 2**63})
    assert r.status_code == 400 and "integer" in r.json()["error"]["message"]
    r = c.put(f"/projects/{pid}/collaborators/{alice.name}", json={"role": "read"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "owner_is_collaborator"
    r = c.post(f"/projects/{pid}/checkpoints", json={"name": "late", "seq": 99})
    assert r.status_code == 409 and r.json()["error"]["code"] == "seq_after_head"
    for body in ({"description": "a\x00b"}, {"title": "\x00"}):
        r = c.patch(f"/projects/{pid}", json=body)
        assert r.status_code == 400 and "NUL" in r.json()["error"]["message"], r.text
    r = c.put(f"/projects/{pid}/files/a.txt", content=b"b", headers={"If-Match": ","})
    assert r.status_code == 400 and "If-Match" in r.json()["error"]["message"]
    for empty in ({"from": "", "to": "b.txt"}, {"from": "a.txt", "to": ""}):
        r = c.post(f"/projects/{pid}/moves", json=empty)
        assert r.status_code == 400, r.text
    r = c.put(f"/projects/{pid}/files/bad%01name", content=b"x")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_path"
    assert c.get(f"/projects/{pid}/files/a.txt").content == b"a"

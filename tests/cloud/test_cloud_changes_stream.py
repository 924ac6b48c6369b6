"""The change feed (``/changes``) and the websocket change stream (``/stream``)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from support.cloud import ServerThread, User


def test_changes_pagination(alice: User, project: dict[str, Any]) -> None:
    pid = project["id"]
    for i in range(23):
        alice.client.put(f"/projects/{pid}/files/f{i}.txt", content=str(i).encode())
    alice.client.delete(f"/projects/{pid}/files/f3.txt")
    url = f"/projects/{pid}/changes"
    since, pages, items = 0, 0, []
    while True:
        body = alice.client.get(url, params={"since": since, "limit": 10}).json()
        items += body["items"]
        pages += 1
        assert body["head_seq"] == 24
        if not body["has_more"]:
            break
        assert body["next_since"] == body["items"][-1]["seq"]
        since = body["next_since"]
    assert pages == 3
    assert [c["seq"] for c in items] == list(range(1, 25))
    assert items[-1] == {
        "seq": 24,
        "path": "f3.txt",
        "op": "delete",
        "revision": items[-1]["revision"],
        "sha256": None,
        "size": 0,
        "from_path": None,
        "modified_by": items[-1]["modified_by"],
        "confirmed": False,  # no one confirmed it past a delete guard
        "mtime_ns": None,
    }
    assert items[-1]["modified_by"].startswith("alice")
    assert all(c["op"] == "put" and c["sha256"] for c in items[:-1])
    # nothing new: next_since stays, has_more false
    body = alice.client.get(url, params={"since": 24}).json()
    assert body == {"items": [], "next_since": 24, "has_more": False, "head_seq": 24}
    body = alice.client.get(url, params={"since": 99}).json()
    assert body["items"] == [] and body["next_since"] == 99 and body["head_seq"] == 24
    assert alice.client.get(url, params={"since": -1}).status_code == 400
    assert alice.client.get(url, params={"since": "abc"}).status_code == 400
    assert alice.client.get(url, params={"limit": 1001}).status_code == 400


# --- websocket ----------------------------------------------------------------------------


def ws_url(cloud: ServerThread, token: str | None = None) -> str:
    url = cloud.url.replace("http://", "ws://") + "/api/v1/stream"
    return f"{url}?token={token}" if token else url


async def connect(
    cloud: ServerThread, token: str, via_query: bool = False
) -> WebSocketClientConnection:
    if via_query:
        return await websocket_connect(ws_url(cloud, token))
    return await websocket_connect(
        HTTPRequest(ws_url(cloud), headers={"Authorization": f"Bearer {token}"})
    )


async def recv(ws: WebSocketClientConnection, timeout: float = 5) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.read_message(), timeout)
    assert isinstance(msg, str), msg
    return dict(json.loads(msg))


async def send(ws: WebSocketClientConnection, message: Any) -> None:
    await ws.write_message(message if isinstance(message, str) else json.dumps(message))


def put_in_thread(client: httpx.Client, url: str, data: bytes) -> asyncio.Future[Any]:
    return asyncio.get_running_loop().run_in_executor(None, lambda: client.put(url, content=data))


@pytest.mark.parametrize("via_query", [False, True])
def test_stream_notifies_within_milliseconds(
    cloud: ServerThread, alice: User, project: dict[str, Any], via_query: bool
) -> None:
    pid = project["id"]

    async def main() -> list[float]:
        ws = await connect(cloud, alice.token, via_query)
        await send(ws, {"type": "subscribe", "projects": [pid, "not-a-project"]})
        sub = await recv(ws)
        assert sub == {
            "type": "subscribed",
            "projects": [{"id": pid, "head_seq": 0}],
            "missing": ["not-a-project"],
        }
        latencies = []
        for i in range(1, 6):
            r = await put_in_thread(alice.client, f"/projects/{pid}/files/s.txt", b"%d" % i)
            committed = time.monotonic()
            assert r.status_code in (200, 201)
            msg = await recv(ws)
            # the notification may even arrive before the HTTP reply is read
            latencies.append(max(0.0, time.monotonic() - committed))
            assert msg == {"type": "changed", "project_id": pid, "seq": i}
        ws.close()
        return latencies

    latencies = asyncio.run(main())
    assert max(latencies) < 0.5, latencies


def test_stream_only_for_visible_projects(
    cloud: ServerThread, alice: User, bob: User, project: dict[str, Any]
) -> None:
    pid = project["id"]
    bob_project = bob.client.post("/projects", json={"name": "bobs"}).json()["id"]

    async def main() -> None:
        ws = await connect(cloud, bob.token)
        await send(ws, {"type": "subscribe", "projects": [pid, bob_project]})
        sub = await recv(ws)
        assert sub["missing"] == [pid]
        await put_in_thread(alice.client, f"/projects/{pid}/files/x", b"x")
        await put_in_thread(bob.client, f"/projects/{bob_project}/files/y", b"y")
        msg = await recv(ws)
        assert msg == {"type": "changed", "project_id": bob_project, "seq": 1}
        # bob is then made a collaborator: once he re-subscribes he is told
        alice.client.put(f"/projects/{pid}/collaborators/{bob.name}", json={"role": "read"})
        assert await recv(ws) == {"type": "projects_changed", "project_id": pid}
        await send(ws, {"type": "subscribe", "projects": [pid]})
        sub = await recv(ws)
        assert sub["projects"] == [{"id": pid, "head_seq": 1}]
        await put_in_thread(alice.client, f"/projects/{pid}/files/x", b"x2")
        assert await recv(ws) == {"type": "changed", "project_id": pid, "seq": 2}
        # access revoked: told once, then nothing more
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: alice.client.delete(f"/projects/{pid}/collaborators/{bob.name}")
        )
        assert await recv(ws) == {"type": "revoked", "project_id": pid}
        assert await recv(ws) == {"type": "projects_changed", "project_id": pid}
        await put_in_thread(alice.client, f"/projects/{pid}/files/x", b"x3")
        await send(ws, {"type": "ping"})
        assert await recv(ws) == {"type": "pong"}
        # the project's deletion ends the subscription
        await send(ws, {"type": "subscribe", "projects": [bob_project]})
        await recv(ws)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: bob.client.delete(f"/projects/{bob_project}")
        )
        assert await recv(ws) == {"type": "deleted", "project_id": bob_project}
        assert await recv(ws) == {"type": "projects_changed", "project_id": bob_project}
        ws.close()

    asyncio.run(main())


def test_stream_bad_messages_keep_the_connection(cloud: ServerThread, alice: User) -> None:
    async def main() -> None:
        ws = await connect(cloud, alice.token)
        for bad, code in (
            ("not json", "invalid_json"),
            ("[" * 2000 + "]" * 2000, "invalid_json"),  # nesting: json.loads' RecursionError
            ('{"type": "ping", "a": ' + "[" * 5000 + "]" * 5000 + "}", "invalid_json"),
            ("[1, 2]", "invalid_message"),
            ({"type": "dance"}, "unknown_type"),
            ({"type": "subscribe", "projects": "abc"}, "invalid_message"),
            ({"type": "subscribe", "projects": [1]}, "invalid_message"),
            ({"no": "type"}, "invalid_message"),
        ):
            await send(ws, bad)
            msg = await recv(ws)
            assert msg["type"] == "error" and msg["code"] == code, (bad, msg)
            assert msg["message"]
        await ws.write_message(b"\x00\x01", binary=True)
        assert (await recv(ws))["code"] == "invalid_message"
        await send(ws, {"type": "ping"})
        assert await recv(ws) == {"type": "pong"}
        # an oversized message closes the connection (it is a flood)
        await send(ws, "x" * (128 * 1024))
        assert await asyncio.wait_for(ws.read_message(), 5) is None
        assert ws.close_code == 1009

    asyncio.run(main())


def test_stream_over_plain_http(cloud: ServerThread, alice: User) -> None:
    r = alice.client.get("/stream")
    assert r.status_code == 400 and r.json()["error"]["code"] == "websocket_required"


def test_stream_requires_a_token(cloud: ServerThread) -> None:
    async def main() -> None:
        for url in (ws_url(cloud), ws_url(cloud, "wrong")):
            with pytest.raises(HTTPClientError) as info:
                await websocket_connect(url)
            assert info.value.code == 401

    asyncio.run(main())


def test_access_log_redacts_query_tokens(
    cloud: ServerThread, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        ws = await connect(cloud, alice.token, via_query=True)
        ws.close()
        await asyncio.sleep(0.1)

    with caplog.at_level("INFO", logger="tornado.access"):
        asyncio.run(main())
    assert alice.token not in caplog.text
    assert "token=REDACTED" in caplog.text


def test_stream_tells_a_user_when_their_project_list_changes(
    cloud: ServerThread, alice: User, bob: User
) -> None:
    """Created, renamed, shared, unshared, deleted: every stream of the user whose list
    changed hears it, with no subscription; other users hear nothing."""

    async def call(method: str, client: httpx.Client, url: str, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: client.request(method, url, **kwargs))

    async def main() -> None:
        alice_streams = [await connect(cloud, alice.token) for _ in range(2)]
        bob_stream = await connect(cloud, bob.token)
        created = await call("POST", alice.client, "/projects", json={"name": "live-list"})
        pid = created.json()["id"]
        for ws in alice_streams:
            assert await recv(ws) == {"type": "projects_changed", "project_id": pid}
        await call("PATCH", alice.client, f"/projects/{pid}", json={"title": "Live"})
        assert await recv(alice_streams[0]) == {"type": "projects_changed", "project_id": pid}
        await call(
            "PUT", alice.client, f"/projects/{pid}/collaborators/{bob.name}", json={"role": "read"}
        )
        assert await recv(bob_stream) == {"type": "projects_changed", "project_id": pid}
        await call("DELETE", alice.client, f"/projects/{pid}/collaborators/{bob.name}")
        assert await recv(bob_stream) == {"type": "projects_changed", "project_id": pid}
        await call(
            "PUT", alice.client, f"/projects/{pid}/collaborators/{bob.name}", json={"role": "write"}
        )
        assert await recv(bob_stream) == {"type": "projects_changed", "project_id": pid}
        await call("DELETE", alice.client, f"/projects/{pid}")
        assert await recv(bob_stream) == {"type": "projects_changed", "project_id": pid}
        await send(bob_stream, {"type": "ping"})  # nothing else was queued for bob
        assert await recv(bob_stream) == {"type": "pong"}
        for ws in [*alice_streams, bob_stream]:
            ws.close()

    asyncio.run(main())

"""The browser websocket in a real Jupyter server (non-root base_url), with real clients."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from tornado.httpclient import HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import WebSocketClientConnection, websocket_connect

from project_filebrowser.schemas import (
    FileMergedEvent,
    JobFinishedEvent,
    JobModel,
    JobProgressEvent,
)
from project_filebrowser.service import ProjectFileBrowserService
from support.polling import eventually_async

Fetch = Callable[..., Awaitable[HTTPResponse]]
WsFetch = Callable[..., Awaitable[WebSocketClientConnection]]
WS = ("project-filebrowser", "ws")


@pytest.fixture
def jp_server_config(state_db_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"project_filebrowser": True},
            "tornado_settings": {"ws_ping_interval": 200, "ws_ping_timeout": 600},
        },
        "ProjectFileBrowser": {"db_url": state_db_url},
    }


async def connect(ws_fetch: WsFetch) -> WebSocketClientConnection:
    ws = await ws_fetch(*WS)
    hello = json.loads(await ws.read_message())  # type: ignore[arg-type]
    assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["version"]
    return ws


async def ask(
    ws: WebSocketClientConnection,
    message: dict[str, Any] | str,
    skipped: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Send a request and return the reply carrying its id; events that arrive in between
    go to ``skipped``."""
    text = message if isinstance(message, str) else json.dumps(message)
    await ws.write_message(text)
    wanted = message.get("id") if isinstance(message, dict) else None
    while True:
        raw = await asyncio.wait_for(ws.read_message(), 10)
        assert raw is not None, "connection closed"
        reply = json.loads(raw)
        if wanted is None or reply.get("id") == wanted:
            return dict(reply)
        if skipped is not None:
            skipped.append(reply)


async def test_every_request_gets_its_reply(
    service: ProjectFileBrowserService, jp_ws_fetch: WsFetch, jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    ws = await connect(jp_ws_fetch)
    assert await ask(ws, {"type": "ping", "id": "p1"}) == {"type": "pong", "id": "p1"}
    reply = await ask(ws, {"type": "subscribe", "id": "s1"})
    assert reply == {"type": "subscribed", "id": "s1", "projects": None}
    assert (await ask(ws, {"type": "list_projects", "id": "l1"}))["items"] == []

    response = await jp_fetch(
        "project-filebrowser", "api", "projects", method="POST", body=json.dumps({"name": "w"})
    )
    project = json.loads(response.body)
    (jp_root_dir / "projects" / "w" / "a.txt").write_text("a")
    events: list[dict[str, Any]] = []  # the watcher may sync a.txt before we ask to
    listed = await ask(ws, {"type": "list_projects", "id": "l2"}, events)
    assert [p["name"] for p in listed["items"]] == ["w"]

    reply = await ask(ws, {"type": "sync", "id": "y1", "project_id": project["id"]}, events)
    assert reply["type"] == "job_progress" and reply["job"]["project_id"] == project["id"]
    job_id = reply["job"]["id"]
    while not any(e["type"] == "job_finished" and e["job"]["id"] == job_id for e in events):
        events.append(json.loads(await asyncio.wait_for(ws.read_message(), 10)))  # type: ignore[arg-type]
    synced = [e for e in events if e["type"] == "file_status" and e["state"] == "synced"]
    assert [(e["project_id"], e["path"]) for e in synced] == [(project["id"], "a.txt")]

    reply = await ask(ws, {"type": "cancel", "id": "c1", "job_id": "no-such-job"})
    assert reply == {
        "type": "error",
        "id": "c1",
        "code": "not_found",
        "message": "job 'no-such-job' does not exist",
    }
    reply = await ask(
        ws, {"type": "resolve_conflict", "id": "r1", "conflict_id": 9, "keep": "both"}
    )
    assert reply["type"] == "error" and reply["code"] == "not_found"
    reply = await ask(ws, {"type": "sync", "id": "y2", "project_id": "nope"})
    assert reply["type"] == "error" and reply["code"] == "not_found"

    await jp_fetch("project-filebrowser", "api", "projects", project["id"], "link", method="DELETE")
    while True:  # every tab hears of the unlink
        event = json.loads(await asyncio.wait_for(ws.read_message(), 10))  # type: ignore[arg-type]
        if event["type"] == "project_removed":
            assert event == {"type": "project_removed", "project_id": project["id"]}
            break
    ws.close()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("{not json", "invalid_json"),
        ("[" * 2000 + "]" * 2000, "invalid_json"),  # nesting: json.loads' RecursionError
        ('{"type": "ping", "a": ' + "[" * 5000 + "]" * 5000 + "}", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('{"no": "type"}', "invalid_message"),
        ('{"type": "explode", "id": "x"}', "unknown_type"),
        ('{"type": "sync", "id": "x"}', "invalid_message"),
        ('{"type": "sync", "id": "x", "project_id": "p", "extra": 1}', "invalid_message"),
        (
            '{"type": "resolve_conflict", "id": "x", "conflict_id": 1, "keep": "mine"}',
            "invalid_message",
        ),
        ('{"type": "ping", "id": "' + "x" * (1 << 20) + '"}', "message_too_large"),
    ],
)
async def test_bad_messages_get_an_error_and_the_connection_stays(
    service: ProjectFileBrowserService, jp_ws_fetch: WsFetch, message: str, code: str
) -> None:
    ws = await connect(jp_ws_fetch)
    await ws.write_message(message)
    reply = json.loads(await asyncio.wait_for(ws.read_message(), 10))  # type: ignore[arg-type]
    assert reply["type"] == "error" and reply["code"] == code and reply["message"]
    if '"id": "x"' in message and code != "message_too_large":
        assert reply["id"] == "x"
    assert await ask(ws, {"type": "ping", "id": "still"}) == {"type": "pong", "id": "still"}
    ws.close()


async def test_a_flooding_client_is_closed_with_policy_violation(
    service: ProjectFileBrowserService, jp_ws_fetch: WsFetch
) -> None:
    ws = await connect(jp_ws_fetch)
    for i in range(2000):
        await ws.write_message(json.dumps({"type": "ping", "id": str(i)}))
    while await asyncio.wait_for(ws.read_message(), 10) is not None:
        pass
    assert ws.close_code == 1008


async def test_auth_and_origin_are_enforced(
    service: ProjectFileBrowserService,
    jp_ws_fetch: WsFetch,
    jp_serverapp: ServerApp,
    http_server_client: Any,
    jp_http_port: int,
    jp_base_url: str,
) -> None:
    with pytest.raises(HTTPClientError) as excinfo:
        await jp_ws_fetch(*WS, headers={"Authorization": "token wrong"})
    assert excinfo.value.code == 403

    # A browser authenticates with its login cookie, which another site's page would send
    # too: that is what the origin check is for.
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(
        f"{jp_base_url}?token={token}", follow_redirects=False, raise_error=False
    )
    cookie = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert cookie
    host = f"127.0.0.1:{jp_http_port}"  # the host the cookie was issued for
    url = f"ws://{host}{jp_base_url}project-filebrowser/ws"
    with pytest.raises(HTTPClientError) as excinfo:
        await websocket_connect(
            HTTPRequest(url, headers={"Cookie": cookie, "Origin": "http://evil.example"})
        )
    assert excinfo.value.code == 403
    ws = await websocket_connect(
        HTTPRequest(url, headers={"Cookie": cookie, "Origin": f"http://{host}"})
    )
    hello = json.loads(await ws.read_message())  # type: ignore[arg-type]
    assert hello["type"] == "hello"
    ws.close()


async def test_each_client_gets_exactly_its_projects_events(
    service: ProjectFileBrowserService, jp_ws_fetch: WsFetch
) -> None:
    clients = {name: [await connect(jp_ws_fetch) for _ in range(5)] for name in ("a", "b", "all")}
    for name, group in clients.items():
        for i, ws in enumerate(group):
            projects = None if name == "all" else [f"project-{name}"]
            await ask(ws, {"type": "subscribe", "id": f"{name}{i}", "projects": projects})
    for project in ("project-a", "project-b"):
        job = JobModel(id=f"job-{project}", project_id=project, kind="sync", state="running")
        service.bus.publish(JobProgressEvent(job=job))
    for ws in clients["all"]:
        await ws.write_message(json.dumps({"type": "ping", "id": "end"}))
    for name, group in clients.items():
        for ws in group:
            await ws.write_message(json.dumps({"type": "ping", "id": "end"}))
            got = []
            while True:
                event = json.loads(await asyncio.wait_for(ws.read_message(), 10))  # type: ignore[arg-type]
                if event.get("id") == "end":
                    break
                got.append(event["job"]["project_id"])
            expected = ["project-a", "project-b"] if name == "all" else [f"project-{name}"]
            assert got == expected
            ws.close()


async def test_a_merge_reaches_the_clients_of_its_project(
    service: ProjectFileBrowserService, jp_ws_fetch: WsFetch
) -> None:
    mine, other = await connect(jp_ws_fetch), await connect(jp_ws_fetch)
    await ask(mine, {"type": "subscribe", "id": "s1", "projects": ["project-a"]})
    await ask(other, {"type": "subscribe", "id": "s2", "projects": ["project-b"]})
    service.bus.publish(
        FileMergedEvent(project_id="project-a", path="nb.ipynb", revision="r3", merged_with="bob")
    )
    skipped: list[dict[str, Any]] = []
    await ask(mine, {"type": "ping", "id": "end"}, skipped)
    assert [m for m in skipped if m["type"] != "cloud_projects"] == [
        {
            "type": "file_merged",
            "project_id": "project-a",
            "path": "nb.ipynb",
            "revision": "r3",
            "merged_with": "bob",
        }
    ]
    skipped = []
    await ask(other, {"type": "ping", "id": "end"}, skipped)
    assert [m for m in skipped if m["type"] != "cloud_projects"] == []
    mine.close()
    other.close()


async def _raw_websocket(port: int, path: str, token: str) -> asyncio.StreamWriter:
    """A websocket client that completes the handshake and then never reads or pongs."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=4096)
    writer.transport.set_write_buffer_limits(0)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: token {token}\r\n\r\n"
        ).encode()
    )
    status = await asyncio.wait_for(reader.readline(), 10)
    assert b" 101 " in status
    return writer


async def test_a_slow_client_never_blocks_others_and_dead_ones_are_cleaned_up(
    service: ProjectFileBrowserService,
    jp_ws_fetch: WsFetch,
    jp_serverapp: ServerApp,
    jp_http_port: int,
    jp_base_url: str,
) -> None:
    before = service.bus.subscriber_count
    slow = await _raw_websocket(
        jp_http_port, f"{jp_base_url}project-filebrowser/ws", jp_serverapp.identity_provider.token
    )
    fast = await connect(jp_ws_fetch)
    await ask(fast, {"type": "ping", "id": "ready"})
    assert service.bus.subscriber_count == before + 2
    big = "x" * 2000
    for i in range(5000):  # far more than a socket buffer: the slow one's outbox must cope
        job = JobModel(id=f"j{i % 50}", project_id="p", kind=big, state="running")
        service.bus.publish(JobProgressEvent(job=job))
    final = JobModel(id="last", project_id="p", kind="sync", state="done")
    service.bus.publish(JobFinishedEvent(job=final))
    while True:  # the fast client gets everything up to the final event
        event = json.loads(await asyncio.wait_for(fast.read_message(), 10))  # type: ignore[arg-type]
        if event["type"] == "job_finished":
            assert event["job"]["id"] == "last"
            break
    # the slow one never answers pings: the heartbeat closes it (tornado then waits up to 5 s
    # for a close reply it will never get) and its subscription goes
    await eventually_async(lambda: service.bus.subscriber_count == before + 1)
    slow.close()
    fast.close()

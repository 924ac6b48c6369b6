"""The cloud's project list reaches every open browser live: a project created, shared or
deleted elsewhere arrives as ``cloud_projects`` over the websocket (the cloud's change
stream says ``projects_changed``), and so does a fresh list once the cloud is back, which
clears the errors of the outage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import pytest
from tornado.websocket import WebSocketClientConnection

from project_filebrowser.service import ProjectFileBrowserService
from support.polling import eventually_async

WsFetch = Callable[..., Awaitable[WebSocketClientConnection]]


@pytest.fixture
def jp_server_config(state_db_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"project_filebrowser": True}},
        "ProjectFileBrowser": {"db_url": state_db_url},
    }


async def listed(
    ws: WebSocketClientConnection, where: Callable[[list[str]], bool], timeout: float = 20
) -> list[dict[str, Any]]:
    """The items of the first ``cloud_projects`` message whose ids satisfy ``where`` (an
    earlier list, e.g. the one sent when the stream came up, is skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            raw = await ws.read_message()
            assert raw is not None, "connection closed"
            message = json.loads(raw)
            if message["type"] == "cloud_projects":
                items: list[dict[str, Any]] = message["items"]
                if where([p["id"] for p in items]):
                    return items


async def stream_up(service: ProjectFileBrowserService) -> None:
    assert service.manager is not None and service.manager.stream is not None
    await eventually_async(lambda: service.manager.stream.connected)  # type: ignore[union-attr]


async def test_a_project_made_elsewhere_arrives_in_every_open_browser(
    service: ProjectFileBrowserService, jp_ws_fetch: WsFetch
) -> None:
    await stream_up(service)
    browsers = [await jp_ws_fetch("project-filebrowser", "ws") for _ in range(2)]
    # a browser that watches one project only still hears the list
    await browsers[1].write_message(json.dumps({"type": "subscribe", "projects": ["x"]}))
    assert service.client is not None
    made = await service.client.create_project("from-lab-one")  # as another lab would

    for ws in browsers:
        [item] = await listed(ws, lambda ids: made.id in ids)
        assert item["name"] == "from-lab-one"

    await service.client._send("DELETE", f"/projects/{made.id}")
    for ws in browsers:
        assert await listed(ws, lambda ids: made.id not in ids) == []
        ws.close()


async def test_the_list_comes_again_when_the_cloud_is_back(
    service: ProjectFileBrowserService, jp_ws_fetch: WsFetch
) -> None:
    await stream_up(service)
    ws = await jp_ws_fetch("project-filebrowser", "ws")
    cloud: Any = service._embedded
    port = urlparse(service.cloud_url).port
    await cloud.stop()
    assert service.manager is not None and service.manager.stream is not None
    await eventually_async(
        lambda: not service.manager.stream.connected,  # type: ignore[union-attr]
        what="the stream to go down",
    )
    service.cloud_error = "cannot reach the cloud"  # as a failed call during the outage left it

    assert service.client is not None
    await cloud.start("127.0.0.1", port)
    made = await service.client.create_project("while-away")  # before the stream is back
    stream = service.manager.stream
    assert [p["name"] for p in await listed(ws, lambda ids: made.id in ids, 60)] == ["while-away"]
    assert stream.connected
    # the cause is gone, so is the error
    await eventually_async(lambda: service.status().cloud.error is None)
    assert service.status().cloud.connected
    ws.close()

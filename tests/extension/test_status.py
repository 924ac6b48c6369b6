"""The extension loads in a real Jupyter server and answers /status, only with auth."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join
from tornado.httpclient import HTTPClientError, HTTPResponse

from project_filebrowser import __version__
from project_filebrowser.store.migrate import head_revision

Fetch = Callable[..., Awaitable[HTTPResponse]]


def test_extension_is_loaded(jp_serverapp: ServerApp) -> None:
    manager = jp_serverapp.extension_manager
    assert "project_filebrowser" in manager.extensions
    assert manager.extensions["project_filebrowser"].enabled
    assert "project_filebrowser" in manager.extension_apps


async def test_status_reports_version_db_cloud_watcher(jp_fetch: Fetch, state_db_url: str) -> None:
    response = await jp_fetch("project-filebrowser", "api", "status")
    assert response.code == 200
    body = json.loads(response.body)
    assert body["version"] == __version__
    assert body["db_revision"] == head_revision()
    assert body["db"]["url"] == state_db_url
    assert body["db"]["error"] is None
    assert body["cloud"] == {
        "url": "",
        "embedded": True,
        "connected": False,
        "stream": False,
        "user": None,
        "error": None,
    }
    assert body["watcher"]["running"] is False


@pytest.mark.parametrize("headers", [{}, {"Authorization": "token not-the-token"}])
async def test_status_without_credentials_is_refused(
    jp_serverapp: ServerApp,
    http_server_client: Any,
    jp_base_url: str,
    headers: dict[str, str],
) -> None:
    url = url_path_join(jp_base_url, "project-filebrowser/api/status")
    response = await http_server_client.fetch(url, headers=headers, raise_error=False)
    assert response.code in (401, 403)
    assert b"version" not in response.body


async def test_unknown_route_is_404(jp_fetch: Fetch) -> None:
    with pytest.raises(HTTPClientError) as excinfo:
        await jp_fetch("project-filebrowser", "api", "no-such-thing")
    assert excinfo.value.code == 404

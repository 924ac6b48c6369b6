"""A state DB written by a newer project-filebrowser: a clear error, no crash, no damage."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from tornado.httpclient import HTTPResponse

from project_filebrowser.store.migrate import upgrade

Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def future_db(state_db_url: str) -> Path:
    upgrade(state_db_url)
    path = Path(state_db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    return path


@pytest.fixture
def extension_log(capfd: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    """Captures what the server writes to stderr, from before it starts."""
    return capfd


@pytest.fixture
def jp_server_config(
    future_db: Path, state_db_url: str, extension_log: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"project_filebrowser": True}},
        "ProjectFileBrowser": {"db_url": state_db_url},
    }


async def test_newer_db_gives_clear_error_and_is_left_alone(
    jp_serverapp: ServerApp,
    jp_fetch: Fetch,
    future_db: Path,
    extension_log: pytest.CaptureFixture[str],
) -> None:
    before = future_db.read_bytes()
    # the server is up and the extension loaded
    assert "project_filebrowser" in jp_serverapp.extension_manager.extension_apps
    response = await jp_fetch("project-filebrowser", "api", "status")
    body = json.loads(response.body)
    assert body["db_revision"] is None
    assert "newer project-filebrowser" in body["db"]["error"]
    assert "ffff_from_the_future" in body["db"]["error"]
    logged = extension_log.readouterr().err
    assert "[E " in logged and "newer project-filebrowser" in logged
    assert future_db.read_bytes() == before
    assert not list(future_db.parent.glob("*.bak"))

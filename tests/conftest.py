"""Shared test set-up: pytest-jupyter's server fixtures, configured for our extension, and the
cloud's (``project_cloud.pytest_plugin``, loaded through its ``pytest11`` entry point)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp

from project_filebrowser.service import ProjectFileBrowserService
from support.cloud import ServerThread
from support.tiers import tier

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def state_db_url(tmp_path: Path) -> str:
    """A real SQLite file for the extension's local state, fresh per test."""
    return f"sqlite:///{tmp_path / 'state' / 'state.db'}"


@pytest.fixture
def jp_server_config(state_db_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"project_filebrowser": True},
            "allow_unauthenticated_access": False,
        },
        "ProjectFileBrowser": {"db_url": state_db_url},
    }


@pytest.fixture(autouse=True)
def _no_user_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never act on the DB or the token of the person running them."""
    monkeypatch.delenv("PROJECT_FILEBROWSER_DB_URL", raising=False)
    monkeypatch.delenv("PROJECT_FILEBROWSER_TOKEN", raising=False)


@pytest.fixture
def cloud(cloud_server_factory: Callable[..., ServerThread]) -> ServerThread:
    """The real Projects service on a loopback port, with its own SQLite file and blobs
    (large files allowed): the cloud's pytest plugin's server (``project_cloud.pytest_plugin``);
    tests/cloud has its own session-wide one."""
    return cloud_server_factory(max_file_size=4 << 30)


@pytest.fixture
def service(
    jp_serverapp: ServerApp, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> ProjectFileBrowserService:
    """The extension in a real Jupyter server, started as the server does once its loop runs:
    embedded cloud, watcher, change stream."""
    extension = next(iter(jp_serverapp.extension_manager.extension_apps["project_filebrowser"]))
    jp_asyncio_loop.run_until_complete(extension._start_jupyter_server_extension(jp_serverapp))
    started: ProjectFileBrowserService = extension.service
    return started


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test is marked unit, integration or system (``pytest -m unit`` runs in seconds)."""
    for item in items:
        item.add_marker(tier(item))

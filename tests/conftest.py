"""Shared test set-up: pytest-jupyter's server fixtures, configured for our extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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

"""The tier of a test, for its marker: ``system`` (a real browser), ``integration`` (a
server or a process) or ``unit`` (pure logic and local files: ``pytest -m unit`` runs in
seconds). ``tests/conftest.py`` marks every collected test with it."""

from __future__ import annotations

from pathlib import Path

import pytest

# fixtures that start a server (the cloud, a Jupyter server, JupyterLab, a browser)
SERVER_FIXTURES = {
    "cloud",
    "cloud_server",
    "cloud_server_factory",
    "cloud_user",
    "service",
    "jp_serverapp",
    "jp_fetch",
    "jp_ws_fetch",
    "pair",
    "two_labs",
    "lab",
    "page",
    "two_pages",
    "browser",
    "stack",
    "team_urls",
    "pg_server_url",
    "s3_endpoint_url",
}
# what a test module that starts servers or processes itself says in its source
SERVER_WORDS = (
    "start_server(",
    "ServerThread(",
    "spawn_server(",
    "cli_add_user(",
    "subprocess",
    "logged_in(",
    "Cli(",
    "popen(",
)


def tier(item: pytest.Item) -> str:
    """``system``, ``integration`` or ``unit``: what the test starts, by its path, its
    fixtures and its module's source."""
    path = Path(str(item.fspath))
    if "ui" in path.parts:
        return "system"  # real JupyterLab servers and a real browser
    if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "integration"
    source = path.read_text(encoding="utf-8")
    return "integration" if any(word in source for word in SERVER_WORDS) else "unit"

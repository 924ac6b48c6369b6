"""The cloud's pytest plugin (``project_cloud.pytest_plugin``, the ``pytest11`` entry point
``project_cloud``): its fixtures serve the real service on loopback, and loading it imports
no server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from project_cloud.pytest_plugin import CloudServerThread, CloudUser


def test_the_entry_point_registers_the_plugin(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("project_cloud")
    assert plugin is not None and plugin.__name__ == "project_cloud.pytest_plugin"


def test_cloud_server_and_cloud_user(
    cloud_server: CloudServerThread, cloud_user: CloudUser
) -> None:
    assert cloud_server.url.startswith("http://127.0.0.1:")
    assert cloud_server.api == cloud_server.url + "/api/v1"
    with httpx.Client(base_url=cloud_server.api, headers=cloud_user.headers) as http:
        assert http.get("/user").json() == {"username": cloud_user.name}
        assert http.get("/projects").json()["items"] == []
    other = cloud_server.new_user()
    assert other.name != cloud_user.name


def test_the_factory_serves_one_database_twice_and_stops_what_it_started(
    cloud_server_factory: Callable[..., CloudServerThread], tmp_path: Path
) -> None:
    a = cloud_server_factory(tmp_path / "cloud", max_file_size=1024)
    b = cloud_server_factory(db_url=a.server.db_url, storage_url=a.server.storage_url)
    assert (tmp_path / "cloud" / "cloud.db").exists() and a.port != b.port
    ann = a.new_user(name="ann", password="pw-ann-123")
    made = httpx.post(f"{b.api}/projects", json={"name": "p"}, headers=ann.headers)
    assert made.status_code == 201, made.text
    listed = httpx.get(f"{a.api}/projects", headers=ann.headers).json()["items"]
    assert [p["name"] for p in listed] == ["p"]
    big = f"{a.api}/projects/{listed[0]['id']}/files/big"
    assert httpx.put(big, content=b"x" * 2048, headers=ann.headers).status_code == 413
    b.stop()
    b.stop()  # a second stop does nothing; the factory's, after the test, neither
    assert not b.running and a.running


def test_loading_the_plugin_imports_no_server() -> None:
    """pytest loads the plugin in every session: it must cost start-up nothing."""
    code = (
        "import sys, project_cloud.pytest_plugin; "
        "print(sorted({m.split('.')[0] for m in sys.modules} "
        "& {'tornado', 'sqlalchemy', 'pytest_jupyter', 'jupyter_server', 'httpx'}))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr

"""``project-filebrowser cloud`` commands (via the click group, and as ``python -m``)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from project_cloud.cli import ByteSize, cloud
from support.cloud import cli_add_user, cli_env, cloud_command, serve_command, spawn_server


def test_add_user_prints_a_token_last(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cloud.db'}"
    runner = CliRunner()
    r = runner.invoke(cloud, ["add-user", "ann", "--password", "pw", "--db", db])
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("pfc_")
    r = runner.invoke(cloud, ["add-user", "ann", "--db", db])
    assert r.exit_code == 1
    assert r.output.strip().count("\n") == 0 and "already exists" in r.output
    r = runner.invoke(cloud, ["add-user", "bad name!", "--db", db])
    assert r.exit_code == 1
    r = runner.invoke(cloud, ["add-user", "--db", db])
    assert r.exit_code == 2
    r = runner.invoke(cloud, ["token", "ann", "--db", db])
    assert r.exit_code == 0 and r.output.strip().splitlines()[-1] != token
    r = runner.invoke(cloud, ["token", "nobody", "--db", db])
    assert r.exit_code == 1

    server = spawn_server(tmp_path)
    try:
        with httpx.Client(base_url=server.api) as c:
            r = c.get("/user", headers={"Authorization": f"Bearer {token}"})
            assert r.json() == {"username": "ann"}
            r = c.post("/auth/token", json={"username": "ann", "password": "pw"})
            assert r.status_code == 200
    finally:
        server.terminate()


def test_module_entry_point_and_usage_errors(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cloud_command(*args),
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=60,
        )

    r = run("--help")
    assert r.returncode == 0 and "serve" in r.stdout and "add-user" in r.stdout
    assert run("serve", "--port", "notaport").returncode == 2
    assert run("serve", "--max-file-size", "lots").returncode == 2
    r = run("add-user", "zed", "--db", f"sqlite:///{tmp_path / 'z.db'}")
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1].startswith("pfc_")


def test_serve_on_a_busy_port_fails_cleanly(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(
            serve_command(tmp_path, port=port),
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=60,
        )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: cannot serve on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1048576", 1048576),
        ("1KiB", 1024),
        ("5GiB", 5 * 1024**3),
        ("2GB", 2 * 10**9),
        ("100k", 100_000),
        ("3 MiB", 3 * 1024**2),
        ("7b", 7),
    ],
)
def test_byte_size(text: str, value: int) -> None:
    assert ByteSize().convert(text, None, None) == value


def test_max_file_size_option(tmp_path: Path) -> None:
    token = cli_add_user(tmp_path, "u")
    server = spawn_server(tmp_path, "--max-file-size", "1KiB")
    try:
        with httpx.Client(base_url=server.api, headers={"Authorization": f"Bearer {token}"}) as c:
            pid = c.post("/projects", json={"name": "p"}).json()["id"]
            assert c.put(f"/projects/{pid}/files/a", content=b"a" * 1024).status_code == 201
            r2 = c.put(f"/projects/{pid}/files/b", content=b"b" * 1025)
            assert r2.status_code == 413
    finally:
        server.terminate()

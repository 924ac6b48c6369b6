"""The real Projects service on a loopback port (in a thread or a subprocess) and HTTP
clients for its users.

Shared by every suite: tests talk to it over HTTP like any client.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from project_cloud.pytest_plugin import CloudServerThread

# The server in a thread comes from the cloud's pytest plugin (whose fixtures the tests use
# too); the tests call it ServerThread.
ServerThread = CloudServerThread
SMALL_MAX_FILE_SIZE = 4 * 1024 * 1024


def start_server(tmp: Path, max_file_size: int = SMALL_MAX_FILE_SIZE) -> ServerThread:
    """A started server on a SQLite file and the blobs in ``tmp``."""
    return ServerThread.in_folder(tmp, max_file_size).start()


# --- users ---------------------------------------------------------------------------------

_names = itertools.count()


def next_name() -> int:
    """A number unique in this test session (for user and project names)."""
    return next(_names)


@dataclass
class User:
    name: str
    token: str
    client: httpx.Client
    password: str = "pw-" + "x" * 8
    extra: dict[str, Any] = field(default_factory=dict)


def new_user(server: ServerThread, prefix: str = "user", password: str = "secret-pw") -> User:
    """A new user of ``server`` with a token and an HTTP client of the API."""
    user = server.new_user(prefix, password=password)
    client = httpx.Client(base_url=server.api, headers=user.headers, timeout=60)
    return User(name=user.name, token=user.token, client=client, password=password)


# --- a server in a subprocess -------------------------------------------------------------


@dataclass
class Spawned:
    proc: subprocess.Popen[str]
    port: int
    log: list[str]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)

    def terminate(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def cli_env() -> dict[str, str]:
    return dict(os.environ)


def cloud_command(*args: str) -> list[str]:
    """``python -m project_cloud.cli ARGS``."""
    return [sys.executable, "-m", "project_cloud.cli", *args]


def serve_command(tmp: Path, *extra: str, port: int = 0) -> list[str]:
    """``serve`` on ``port`` (0: a free one), on ``tmp/cloud.db`` and ``tmp/blobs``."""
    db, blobs = f"sqlite:///{tmp / 'cloud.db'}", str(tmp / "blobs")
    return cloud_command("serve", "--port", str(port), "--db", db, "--storage", blobs, *extra)


def cli_add_user(tmp: Path, name: str) -> str:
    """``add-user NAME`` on ``tmp/cloud.db``; returns the token it prints."""
    out = subprocess.run(
        cloud_command("add-user", name, "--db", f"sqlite:///{tmp / 'cloud.db'}"),
        capture_output=True,
        text=True,
        env=cli_env(),
        check=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]


def spawn_server(tmp: Path, *extra: str, port: int = 0) -> Spawned:
    """``python -m project_cloud.cli serve`` on a free port; waits until it listens."""
    cmd = serve_command(tmp, "--log-level", "WARNING", *extra, port=port)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env()
    )
    log: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        log.append(line)
        match = re.search(r"\(port (\d+)\)", line)
        if match:
            threading.Thread(target=_drain, args=(proc, log), daemon=True).start()
            return Spawned(proc, int(match.group(1)), log)
    proc.kill()
    raise RuntimeError("the server did not start:\n" + "".join(log))


def _drain(proc: subprocess.Popen[str], log: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        log.append(line)


# --- racing requests --------------------------------------------------------------------

WRITERS = 24


def race(
    cloud: ServerThread, user: User, requests: list[tuple[str, str, dict[str, Any]]]
) -> list[httpx.Response]:
    """Send the requests at the same moment, each from its own connection."""
    barrier = threading.Barrier(len(requests))

    def send(req: tuple[str, str, dict[str, Any]]) -> httpx.Response:
        method, url, kwargs = req
        with httpx.Client(
            base_url=cloud.api, headers={"Authorization": f"Bearer {user.token}"}, timeout=60
        ) as client:
            client.get("/user")  # connect first, so the race is on the request
            barrier.wait()
            return client.request(method, url, **kwargs)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))

"""The real Projects service on a loopback port (in a thread or a subprocess) and HTTP
clients for its users.

Shared by every suite: tests talk to it over HTTP like any client.
"""

from __future__ import annotations

import asyncio
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

from project_cloud.server import CloudServer

SMALL_MAX_FILE_SIZE = 4 * 1024 * 1024


class ServerThread:
    """A :class:`CloudServer` serving from a background thread with its own event loop."""

    def __init__(self, db_url: str, storage_url: str, max_file_size: int, port: int = 0) -> None:
        self.args = (db_url, storage_url, max_file_size)
        self.port = port
        self.server = CloudServer(db_url, storage_url, max_file_size)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True, name="cloud-server")

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.port = self.loop.run_until_complete(self.server.start("127.0.0.1", self.port))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    def start(self) -> ServerThread:
        self.thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        fut = asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop)
        fut.result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def restart(self) -> ServerThread:
        """Stop, then serve the same DB and blobs on the same port (clients keep their URL)."""
        self.stop()
        return ServerThread(*self.args, port=self.port).start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api(self) -> str:
        return self.server.url + "/api/v1"

    @property
    def service(self) -> Any:
        return self.server.service


def start_server(tmp: Path, max_file_size: int = SMALL_MAX_FILE_SIZE) -> ServerThread:
    tmp.mkdir(parents=True, exist_ok=True)
    return ServerThread(f"sqlite:///{tmp / 'cloud.db'}", str(tmp / "blobs"), max_file_size).start()


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
    name = f"{prefix}{next_name()}"
    server.service.create_user(name, password)
    token = server.service.issue_token(name)
    client = httpx.Client(
        base_url=server.api, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    return User(name=name, token=token, client=client, password=password)


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


def spawn_server(tmp: Path, *extra: str, port: int = 0) -> Spawned:
    """``python -m project_cloud.cli serve`` on a free port; waits until it listens."""
    cmd = [
        sys.executable,
        "-m",
        "project_cloud.cli",
        "serve",
        "--port",
        str(port),
        "--db",
        f"sqlite:///{tmp / 'cloud.db'}",
        "--storage",
        str(tmp / "blobs"),
        "--log-level",
        "WARNING",
        *extra,
    ]
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

"""Stopping the service and partial uploads (issue 14, item 14).

* A stop lets a download being streamed finish, and answers a new request on an open
  connection 503 ``shutting_down`` (never 500 ``cannot schedule new futures``).
* ``tmp/*.part`` files that no upload uses are removed at start and periodically once they
  are a little old; the one of an upload in progress never is.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from support.cloud import ServerThread
from support.logs import bug_reports, captured_logs
from support.polling import eventually


def test_stop_drains_a_download_and_refuses_new_requests(
    cloud_server_factory: Callable[..., ServerThread],
) -> None:
    cloud = cloud_server_factory(max_file_size=64 << 20)
    token = cloud.new_user(name="ann", password="pw").token
    auth = {"Authorization": f"Bearer {token}"}
    data = os.urandom(24 << 20)  # far more than the socket buffers hold
    with captured_logs() as records, httpx.Client(base_url=cloud.api, headers=auth) as c:
        pid = c.post("/projects", json={"name": "p"}).json()["id"]
        assert c.put(f"/projects/{pid}/files/big.bin", content=data).status_code == 201
        assert c.get("/user").status_code == 200  # a kept-alive connection
        downloader = httpx.Client(base_url=cloud.api, headers=auth)
        with downloader, downloader.stream("GET", f"/projects/{pid}/files/big.bin") as download:
            chunks = download.iter_bytes(1 << 16)
            received = [next(chunks)]
            stopper = threading.Thread(target=cloud.stop)
            stopper.start()
            ctx = cloud.server._app.settings["project_cloud_context"]
            eventually(lambda: ctx.stopping, what="the stop to begin")
            r = c.get("/user")
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "shutting_down"
            assert r.headers["Retry-After"] and r.headers["Connection"] == "close"
            received.extend(chunks)  # the download being streamed completes
        stopper.join(60)
    assert hashlib.sha256(b"".join(received)).digest() == hashlib.sha256(data).digest()
    assert bug_reports(records) == []


def _part(store_dir: Path, name: str, age: float) -> Path:
    path = store_dir / "tmp" / f"{name}.part"
    path.write_bytes(b"left by a killed upload")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_stale_partial_uploads_are_removed_at_start_and_periodically(
    tmp_path: Path, cloud_server_factory: Callable[..., ServerThread]
) -> None:
    blobs = tmp_path / "blobs"
    (blobs / "tmp").mkdir(parents=True)
    old = _part(blobs, "a" * 32, age=3600)
    cloud = cloud_server_factory(
        tmp_path, max_file_size=64 << 20, temp_max_age=60, temp_sweep_seconds=0.1
    )
    assert not old.exists()  # removed at start
    token = cloud.new_user(name="ann", password="pw").token
    pid = httpx.post(
        f"{cloud.api}/projects",
        json={"name": "p"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["id"]
    # an upload in progress, whose temp file is older than the age meanwhile
    sock = socket.create_connection(("127.0.0.1", cloud.server.port))
    head = (
        f"PUT /api/v1/projects/{pid}/files/slow.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {3 << 20}\r\n\r\n"
    )
    sock.sendall(head.encode() + b"x" * (2 << 20))
    eventually(lambda: len(list((blobs / "tmp").glob("*.part"))) == 1, what="the upload")
    (in_use,) = (blobs / "tmp").glob("*.part")
    os.utime(in_use, (time.time() - 3600, time.time() - 3600))
    stale = _part(blobs, "b" * 32, age=3600)
    young = _part(blobs, "c" * 32, age=0)  # maybe another replica's upload
    eventually(lambda: not stale.exists(), what="the periodic clean-up")
    assert in_use.exists() and young.exists()
    sock.sendall(b"x" * (1 << 20))
    reply = sock.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 201"), reply
    sock.close()
    assert not in_use.exists()

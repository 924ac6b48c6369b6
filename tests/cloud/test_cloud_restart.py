"""Restart safety: kill -9 the server mid-upload and mid-write; after a restart every
committed revision is there, sequences continue, and no partial blob is visible."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from support.cloud import Spawned, cli_add_user, spawn_server
from support.polling import eventually


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def client(server: Spawned, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.api, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def start_partial_upload(server: Spawned, token: str, pid: str, sent: int) -> socket.socket:
    """Send the headers of a 64 MiB PUT and ``sent`` bytes of its body, then stall."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        f"PUT /api/v1/projects/{pid}/files/partial.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n".encode()
    )
    chunk = b"P" * 65536
    for _ in range(sent // len(chunk)):
        sock.sendall(chunk)
    return sock


def test_kill_mid_upload_and_restart(tmp_path: Path) -> None:
    token = cli_add_user(tmp_path, "kim")
    server = spawn_server(tmp_path)
    acked: dict[str, tuple[str, bytes]] = {}  # revision -> (path, content)
    try:
        with client(server, token) as c:
            pid = c.post("/projects", json={"name": "durable"}).json()["id"]
            for i in range(20):
                data = f"content {i}".encode() * (i + 1)
                r = c.put(f"/projects/{pid}/files/dir/f{i}.txt", content=data)
                assert r.status_code == 201
                acked[r.json()["revision"]] = (f"dir/f{i}.txt", data)

        sock = start_partial_upload(server, token, pid, 8 * 1024 * 1024)
        tmp_dir = tmp_path / "blobs" / "tmp"
        eventually(lambda: any(p.stat().st_size > 0 for p in tmp_dir.iterdir()))

        # a writer that keeps committing until the server dies
        stop = threading.Event()

        def writer() -> None:
            with client(server, token) as wc:
                i = 0
                while not stop.is_set():
                    data = os.urandom(2048)
                    try:
                        if i % 2:  # a batch of small files (packed together)
                            batch = {f"live/b{i}-{n}.bin": os.urandom(1024) for n in range(10)}
                            manifest = {
                                "items": [
                                    {"path": p, "size": len(d), "sha256": sha256(d)}
                                    for p, d in batch.items()
                                ]
                            }
                            r = wc.post(
                                f"/projects/{pid}/batch",
                                content=json.dumps(manifest).encode()
                                + b"\n"
                                + b"".join(batch.values()),
                            )
                            if r.status_code == 200:
                                for got in r.json()["items"]:
                                    rev = got["version"]["revision"]
                                    acked[rev] = (got["path"], batch[got["path"]])
                        else:
                            r = wc.put(
                                f"/projects/{pid}/files/live/w{i}.bin",
                                content=data,
                                headers={"If-None-Match": "*"},
                            )
                            if r.status_code == 201:
                                acked[r.json()["revision"]] = (f"live/w{i}.bin", data)
                    except httpx.HTTPError:
                        return
                    i += 1

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.5)
        server.kill()  # SIGKILL, mid-upload and mid-write
        stop.set()
        t.join(30)
        sock.close()
    finally:
        if server.proc.poll() is None:
            server.kill()

    assert len(acked) > 25, "the writer committed too little before the kill"
    # the partial upload is still on disk, only under tmp/
    assert list((tmp_path / "blobs" / "tmp").iterdir())

    server = spawn_server(tmp_path)
    try:
        with client(server, token) as c:
            for revision, (path, data) in acked.items():
                r = c.get(f"/projects/{pid}/files/{path}", params={"revision": revision})
                assert r.status_code == 200, (path, r.text)
                assert r.content == data
            files = c.get(f"/projects/{pid}/files", params={"limit": 1000}).json()["items"]
            paths = {f["path"] for f in files}
            assert {p for p, _ in acked.values()} <= paths
            assert "partial.bin" not in paths
            assert c.get(f"/projects/{pid}/files/partial.bin").status_code == 404
            assert c.get(f"/projects/{pid}/files/partial.bin/revisions").status_code == 404

            # changes after the restart: complete, gap-free, and they continue
            changes = c.get(f"/projects/{pid}/changes", params={"limit": 1000}).json()
            seqs = [ch["seq"] for ch in changes["items"]]
            assert seqs == list(range(1, changes["head_seq"] + 1))
            assert len(seqs) >= len(acked)
            r = c.put(f"/projects/{pid}/files/after.txt", content=b"after")
            assert r.status_code == 201
            nxt = c.get(f"/projects/{pid}/changes", params={"since": changes["head_seq"]}).json()
            assert [ch["seq"] for ch in nxt["items"]] == [changes["head_seq"] + 1]
            project = c.get(f"/projects/{pid}").json()
            assert project["file_count"] == len(paths) + 1
    finally:
        server.terminate()

    # every blob in the content-addressed area is complete: its bytes hash to its name
    blobs = list((tmp_path / "blobs" / "sha256").rglob("*"))
    blob_files = [b for b in blobs if b.is_file()]
    assert blob_files
    for blob in blob_files:
        name = blob.parent.name + blob.name
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == name
    # and every recorded packed blob is whole inside its pack
    with sqlite3.connect(tmp_path / "cloud.db") as db:
        packed = db.execute("SELECT sha256, pack, offset, size FROM packed_blobs").fetchall()
    assert packed, "no batch was acknowledged before the kill"
    for digest, pack, offset, size in packed:
        data = (tmp_path / "blobs" / "packs" / f"{pack}.pack").read_bytes()[offset : offset + size]
        assert hashlib.sha256(data).hexdigest() == digest


def test_graceful_stop_with_sigterm(tmp_path: Path) -> None:
    token = cli_add_user(tmp_path, "tess")
    server = spawn_server(tmp_path)
    with client(server, token) as c:
        pid = c.post("/projects", json={"name": "p"}).json()["id"]
        c.put(f"/projects/{pid}/files/a", content=b"a")
    server.terminate()
    assert server.proc.returncode == 0, "".join(server.log)
    server = spawn_server(tmp_path)
    try:
        with client(server, token) as c:
            assert c.get(f"/projects/{pid}/files/a").content == b"a"
    finally:
        server.terminate()

"""Several replicas of the Projects service on one PostgreSQL database and one S3 bucket:
notifications cross replicas (``LISTEN/NOTIFY``), the 412 guarantee holds across them (a
transaction-level guard), bytes written through one are read through the other, and the
CLI runs such a deployment (``cloud add-user`` + two ``cloud serve`` processes).

Skipped without PostgreSQL or an S3 server; failed instead with ``PFB_REQUIRE_TEAM_STACK=1``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import s3fs
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from project_cloud.notify import PostgresNotifier
from support.cloud import SMALL_MAX_FILE_SIZE, WRITERS, ServerThread, User, new_user
from support.team_stack import s3_env


@dataclass
class Replicas:
    a: ServerThread
    b: ServerThread
    db_url: str
    storage_url: str

    @property
    def all(self) -> list[ServerThread]:
        return [self.a, self.b]


@pytest.fixture
def replicas(
    team_urls: tuple[str, str], cloud_server_factory: Callable[..., ServerThread]
) -> Replicas:
    db_url, storage_url = team_urls
    a, b = (
        cloud_server_factory(
            db_url=db_url, storage_url=storage_url, max_file_size=SMALL_MAX_FILE_SIZE
        )
        for _ in "ab"
    )
    return Replicas(a, b, db_url, storage_url)


def client_for(server: ServerThread, user: User) -> httpx.Client:
    return httpx.Client(
        base_url=server.api, headers={"Authorization": f"Bearer {user.token}"}, timeout=60
    )


async def subscribe(server_url: str, token: str, project_id: str) -> WebSocketClientConnection:
    url = server_url.replace("http://", "ws://") + "/api/v1/stream"
    ws = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"Bearer {token}"}))
    await ws.write_message(json.dumps({"type": "subscribe", "projects": [project_id]}))
    reply = await recv(ws)
    assert reply["type"] == "subscribed" and reply["missing"] == [], reply
    return ws


async def recv(ws: WebSocketClientConnection, timeout: float = 10) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.read_message(), timeout)
    assert isinstance(msg, str), msg
    return dict(json.loads(msg))


def in_thread(fn: Any, *args: Any) -> asyncio.Future[Any]:
    return asyncio.get_running_loop().run_in_executor(None, fn, *args)


def test_a_commit_on_one_replica_notifies_subscribers_of_the_other(replicas: Replicas) -> None:
    assert all(isinstance(r.server.notifier, PostgresNotifier) for r in replicas.all)
    alice = new_user(replicas.a, "ra")
    bob = new_user(replicas.a, "rb")
    on_b = client_for(replicas.b, alice)
    pid = on_b.post("/projects", json={"name": "rep"}).json()["id"]
    assert on_b.put(f"/projects/{pid}/collaborators/{bob.name}", json={"role": "read"}).is_success

    async def main() -> None:
        ws = await subscribe(replicas.a.url, alice.token, pid)
        bob_ws = await subscribe(replicas.a.url, bob.token, pid)
        for i in range(1, 4):  # each write through B is announced on A, in order
            started = time.monotonic()
            put = functools.partial(on_b.put, f"/projects/{pid}/files/f.txt", content=b"%d" % i)
            r = await in_thread(put)
            assert r.status_code in (200, 201), r.text
            assert await recv(ws) == {"type": "changed", "project_id": pid, "seq": i}
            assert await recv(bob_ws) == {"type": "changed", "project_id": pid, "seq": i}
            assert time.monotonic() - started < 5
        # a move through B: one change
        r = await in_thread(
            lambda: on_b.post(f"/projects/{pid}/moves", json={"from": "f.txt", "to": "g.txt"})
        )
        assert r.status_code == 200, r.text
        assert (await recv(ws))["seq"] == 4
        await recv(bob_ws)
        # the reader's access revoked through B: only bob hears it, on A
        r = await in_thread(lambda: on_b.delete(f"/projects/{pid}/collaborators/{bob.name}"))
        assert r.status_code == 204
        assert await recv(bob_ws) == {"type": "revoked", "project_id": pid}
        # the project deleted through B
        r = await in_thread(lambda: on_b.delete(f"/projects/{pid}"))
        assert r.status_code == 204
        assert await recv(ws) == {"type": "deleted", "project_id": pid}
        ws.close()
        bob_ws.close()

    try:
        asyncio.run(main())
    finally:
        on_b.close()
        alice.client.close()
        bob.client.close()


def test_racing_writers_on_two_replicas(replicas: Replicas) -> None:
    """Writers split across both replicas, all with the same If-Match: exactly one wins."""
    user = new_user(replicas.a, "race")
    pid = user.client.post("/projects", json={"name": "race"}).json()["id"]
    url = f"/projects/{pid}/files/shared.txt"
    base = user.client.put(url, content=b"base").json()["revision"]

    def race(requests: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
        barrier = threading.Barrier(len(requests))

        def send(i: int) -> httpx.Response:
            method, kwargs = requests[i]
            target = kwargs.pop("url", url)
            with client_for(replicas.all[i % 2], user) as client:
                client.get("/user")  # connected: the race is on the request
                barrier.wait()
                return client.request(method, target, **kwargs)

        with ThreadPoolExecutor(len(requests)) as pool:
            return list(pool.map(send, range(len(requests))))

    results = race(
        [("PUT", {"content": b"w%d" % i, "headers": {"If-Match": base}}) for i in range(WRITERS)]
    )
    assert sorted(r.status_code for r in results) == [200] + [412] * (WRITERS - 1)
    winner = next(r for r in results if r.status_code == 200).json()
    # both replicas now serve the winner's bytes (from the shared bucket)
    for server in replicas.all:
        with client_for(server, user) as c:
            got = c.get(url)
            assert got.headers["ETag"] == f'"{winner["revision"]}"'
            assert got.content == next(
                b"w%d" % i for i, r in enumerate(results) if r.status_code == 200
            )
    # a DELETE and PUTs racing with the winner's revision, across replicas: one wins
    rev = winner["revision"]
    results = race(
        [("DELETE", {"headers": {"If-Match": rev}})]
        + [("PUT", {"content": b"late", "headers": {"If-Match": rev}}) for _ in range(7)]
    )
    assert sorted(r.status_code for r in results).count(412) == 7
    # creators of one new path across replicas: one 201
    results = race(
        [
            (
                "PUT",
                {
                    "url": f"/projects/{pid}/files/new.txt",
                    "content": b"n",
                    "headers": {"If-None-Match": "*"},
                },
            )
            for _ in range(WRITERS)
        ]
    )
    assert sorted(r.status_code for r in results) == [201] + [412] * (WRITERS - 1)
    # unconditional writers of different paths on both replicas: gap-free seqs
    results = race(
        [("PUT", {"url": f"/projects/{pid}/files/p{i}", "content": b"x"}) for i in range(WRITERS)]
    )
    assert all(r.status_code == 201 for r in results)
    changes = user.client.get(f"/projects/{pid}/changes", params={"limit": 1000}).json()
    assert [c["seq"] for c in changes["items"]] == list(range(1, changes["head_seq"] + 1))
    user.client.close()


def test_notifications_survive_a_lost_listen_connection(replicas: Replicas) -> None:
    """A's LISTEN connection dies; a write through B meanwhile still reaches A's subscriber
    (after the reconnect, from the catch-up if the NOTIFY itself was missed)."""
    user = new_user(replicas.b, "lost")
    pid = user.client.post("/projects", json={"name": "lost"}).json()["id"]
    notifier = replicas.a.server.notifier
    assert isinstance(notifier, PostgresNotifier)
    connects = notifier.connects

    async def main() -> None:
        ws = await subscribe(replicas.a.url, user.token, pid)
        asyncio.run_coroutine_threadsafe(notifier.drop_connection(), replicas.a.loop).result(10)
        r = await in_thread(lambda: user.client.put(f"/projects/{pid}/files/x", content=b"1"))
        assert r.status_code == 201
        msg = await recv(ws, timeout=20)
        assert msg == {"type": "changed", "project_id": pid, "seq": 1}
        ws.close()

    asyncio.run(main())
    assert notifier.connects > connects
    user.client.close()


def test_blobs_are_shared_and_stored_in_the_bucket(replicas: Replicas) -> None:
    user = new_user(replicas.a, "blob")
    pid = user.client.post("/projects", json={"name": "b"}).json()["id"]
    data = os.urandom(3 * 1024 * 1024 + 17)
    r = user.client.put(f"/projects/{pid}/files/big.bin", content=data)
    assert r.status_code == 201
    sha = r.json()["sha256"]
    with client_for(replicas.b, user) as c:
        got = c.get(f"/projects/{pid}/files/big.bin")
        assert got.status_code == 200 and got.content == data
    fs = replicas.a.server.blobs.fs
    assert isinstance(fs, s3fs.S3FileSystem)
    root = replicas.a.server.blobs.root
    assert fs.exists(f"{root}/sha256/{sha[:2]}/{sha[2:]}")
    assert replicas.a.server.blobs.temp_files() == []
    user.client.close()


def test_cli_serves_two_replicas(team_urls: tuple[str, str]) -> None:
    """``cloud add-user`` and two ``cloud serve`` processes on the same --db and --storage
    URLs, as in docs/deploy.md."""
    db_url, storage_url = team_urls
    env = s3_env(dict(os.environ))
    cli = [sys.executable, "-m", "project_cloud.cli"]
    out = subprocess.run(
        [*cli, "add-user", "carol", "--password", "pw", "--db", db_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    token = out.stdout.strip().splitlines()[-1]
    procs: list[subprocess.Popen[str]] = []
    ports: list[int] = []
    try:
        for _ in range(2):
            proc = subprocess.Popen(
                [
                    *cli,
                    "serve",
                    "--port",
                    "0",
                    "--db",
                    db_url,
                    "--storage",
                    storage_url,
                    "--log-level",
                    "WARNING",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
            )
            procs.append(proc)
        for proc in procs:
            assert proc.stdout is not None
            lines: list[str] = []
            for line in proc.stdout:
                lines.append(line)
                match = re.search(r"\(port (\d+)\)", line)
                if match:
                    ports.append(int(match.group(1)))
                    break
            else:
                pytest.fail("a replica did not start:\n" + "".join(lines))
        url_a, url_b = (f"http://127.0.0.1:{p}" for p in ports)
        headers = {"Authorization": f"Bearer {token}"}

        async def main() -> None:
            with httpx.Client(base_url=url_b + "/api/v1", headers=headers, timeout=60) as b:
                pid = b.post("/projects", json={"name": "cli"}).json()["id"]
                ws = await subscribe(url_a, token, pid)
                r = await in_thread(lambda: b.put(f"/projects/{pid}/files/a", content=b"a"))
                assert r.status_code == 201
                assert await recv(ws) == {"type": "changed", "project_id": pid, "seq": 1}
                ws.close()
            with httpx.Client(base_url=url_a + "/api/v1", headers=headers, timeout=60) as a:
                assert a.get(f"/projects/{pid}/files/a").content == b"a"

        asyncio.run(main())
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                assert proc.wait(30) == 0
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)
                raise

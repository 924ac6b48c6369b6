"""Websocket fan-out: N browser connections, one project change, the time until each has it.

Starts a real Jupyter server with the extension on the embedded cloud (loopback, temporary
folders), links a project, connects N websocket clients subscribed to it, writes one file
into the project folder and measures, per client, the time from the write until the
``file_status ... synced`` event for that file arrives (watcher debounce + upload + fan-out),
and the spread between the first and the last client (the fan-out alone).

    python bench/ws_fanout.py [--clients 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

sys.path.insert(0, str(Path(__file__).parent))
from _harness import free_port, percentile, start_jupyter_server


async def wait_for_server(base: str, token: str) -> None:
    client = AsyncHTTPClient()
    for _ in range(300):
        try:
            response = await client.fetch(
                f"{base}project-filebrowser/api/status",
                headers={"Authorization": f"token {token}"},
                raise_error=False,
            )
            if response.code == 200 and json.loads(response.body)["cloud"]["connected"]:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the Jupyter server did not come up")


async def run(clients: int, rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="pfb-bench-ws-"))
    port, token = free_port(), secrets.token_hex(16)
    server = start_jupyter_server(work, port, token, subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    headers = {"Authorization": f"token {token}"}
    try:
        await wait_for_server(base, token)
        http = AsyncHTTPClient()
        response = await http.fetch(
            f"{base}project-filebrowser/api/projects",
            method="POST",
            headers=headers,
            body=json.dumps({"name": "fanout"}),
        )
        project = json.loads(response.body)
        folder = work / "root" / project["local_path"]

        sockets: list[WebSocketClientConnection] = []
        started = time.perf_counter()
        for _ in range(clients):
            ws = await websocket_connect(
                HTTPRequest(f"ws://127.0.0.1:{port}/project-filebrowser/ws", headers=headers),
                max_message_size=16 << 20,
            )
            await ws.read_message()  # hello
            await ws.write_message(
                json.dumps({"type": "subscribe", "id": "s", "projects": [project["id"]]})
            )
            sockets.append(ws)
        connect_seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)  # let the first sync of the new project settle

        all_latencies: list[float] = []
        spreads: list[float] = []
        for round_number in range(rounds):
            name = f"change-{round_number}.txt"

            async def wait_for(ws: WebSocketClientConnection, t0: float, name: str = name) -> float:
                while True:
                    message = await asyncio.wait_for(ws.read_message(), 60)
                    if message is None:
                        raise SystemExit("a websocket closed")
                    event = json.loads(message)
                    if (
                        event.get("type") == "file_status"
                        and event.get("path") == name
                        and event.get("state") == "synced"
                    ):
                        return time.perf_counter() - t0

            t0 = time.perf_counter()
            (folder / name).write_text(f"round {round_number}\n")
            latencies = await asyncio.gather(*(wait_for(ws, t0) for ws in sockets))
            all_latencies.extend(latencies)
            spreads.append(max(latencies) - min(latencies))
            await asyncio.sleep(0.5)
        for ws in sockets:
            ws.close()
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)

    ms = [x * 1000 for x in all_latencies]
    print(f"websocket fan-out: {clients} clients, {rounds} changes, one Jupyter server")
    print(f"{'':<40}{'p50':>10}{'p99':>10}{'max':>10}")
    print(
        f"{'write -> file_status synced, per client':<40}"
        f"{percentile(ms, 50):>8.1f}ms{percentile(ms, 99):>8.1f}ms{max(ms):>8.1f}ms"
    )
    spread_ms = [x * 1000 for x in spreads]
    print(
        f"{'fan-out spread (first to last client)':<40}"
        f"{statistics.median(spread_ms):>8.1f}ms{percentile(spread_ms, 99):>8.1f}ms"
        f"{max(spread_ms):>8.1f}ms"
    )
    print(f"connecting {clients} clients took {connect_seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.clients, args.rounds))


if __name__ == "__main__":
    main()

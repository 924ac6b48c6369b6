"""The real Projects service on a loopback port, served from a background thread.

Shared by the cloud suite and the sync suite: tests talk to it over HTTP like any client.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

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

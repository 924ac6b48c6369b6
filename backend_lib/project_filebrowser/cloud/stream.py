"""The change-stream listener: one websocket to the cloud's ``/stream``, reconnecting with
backoff. While it is down, the changes endpoint is polled instead; after a reconnect every
project catches up from its stored cursor (the engine always reads the feed from there).
``projects_changed`` messages, and every reconnect, call ``on_projects``: the user's
project list changed, or may have while the stream was away."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable

from pydantic_core import from_json
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

log = logging.getLogger(__name__)


class ChangeStream:
    def __init__(
        self,
        cloud_url: str,
        token: str,
        *,
        projects: Callable[[], list[str]],
        on_change: Callable[[str], None],
        on_state: Callable[[bool], None] = lambda _connected: None,
        on_projects: Callable[[], None] = lambda: None,
        poll_seconds: float = 5.0,
        backoff_max: float = 30.0,
    ) -> None:
        self.url = cloud_url.replace("http", "ws", 1).rstrip("/") + "/api/v1/stream"
        self.token = token
        self.projects = projects
        self.on_change = on_change
        self.on_state = on_state
        self.on_projects = on_projects  # the user's project list changed (or may have)
        self.poll_seconds = poll_seconds
        self.backoff_max = backoff_max
        self.connected = False
        self.ever_connected = False
        self._conn: WebSocketClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_poll = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def resubscribe(self) -> None:
        """Call after linking or unlinking a project."""
        if self._conn is not None:
            await self._conn.write_message(
                json.dumps({"type": "subscribe", "projects": self.projects()})
            )

    def _set_connected(self, value: bool) -> None:
        self.ever_connected |= value
        if value != self.connected:
            self.connected = value
            self.on_state(value)

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                request = HTTPRequest(self.url, headers={"Authorization": f"Bearer {self.token}"})
                self._conn = await websocket_connect(request, ping_interval=20, ping_timeout=20)
            except Exception as exc:  # unreachable, refused, 401: poll and retry
                log.debug("project-filebrowser: change stream unavailable: %s", exc)
                self._set_connected(False)
                delay = random.uniform(0, min(self.backoff_max, 0.5 * 2**attempt))
                attempt += 1
                await self._poll_for(max(delay, 0.1))
                continue
            attempt = 0
            self._set_connected(True)
            await self.resubscribe()
            for project_id in self.projects():  # catch up on what happened while away
                self.on_change(project_id)
            self.on_projects()
            while True:
                message = await self._conn.read_message()
                if message is None:
                    break
                self._handle(message)
            self._conn = None
            self._set_connected(False)

    def _handle(self, message: str | bytes) -> None:
        try:
            body = from_json(message, allow_inf_nan=False)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        if body.get("type") == "changed":
            project_id = body.get("project_id")
            if isinstance(project_id, str):
                self.on_change(project_id)
        elif body.get("type") == "projects_changed":
            self.on_projects()

    async def _poll_for(self, seconds: float) -> None:
        """Wait ``seconds`` before reconnecting; meanwhile ask every project to catch up from
        the changes endpoint once per poll period."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (remaining := end - loop.time()) > 0:
            await asyncio.sleep(min(remaining, self.poll_seconds))
            if loop.time() - self._last_poll >= self.poll_seconds:
                self._last_poll = loop.time()
                for project_id in self.projects():
                    self.on_change(project_id)

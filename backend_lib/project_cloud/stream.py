"""The change stream: websocket ``/api/v1/stream``.

Authentication: ``Authorization: Bearer <token>`` or, for browsers that cannot set
headers, ``?token=<token>`` (the access log redacts it). Then, as JSON text frames:

* client: ``{"type": "subscribe", "projects": [id, ...]}`` - replaces the subscription;
  reply ``{"type": "subscribed", "projects": [{"id", "head_seq"}], "missing": [ids]}``
  (``missing``: ids that do not exist or that the user may not see).
* client: ``{"type": "ping"}`` - reply ``{"type": "pong"}``.
* server: ``{"type": "changed", "project_id": id, "seq": n}`` right after each commit
  (a checkpoint restore sends its last seq only); read ``/changes?since=`` to catch up.
* server: ``{"type": "projects_changed", "project_id": id}`` when the user's project list
  changed because of that project (created, shared with the user, unshared, renamed or
  deleted), whatever the subscription: read ``GET /projects`` again.
* server: ``{"type": "deleted", "project_id": id}`` when a subscribed project is deleted,
  ``{"type": "revoked", "project_id": id}`` when the user lost access to it; either ends
  that subscription.
* a malformed or unknown message gets ``{"type": "error", "code", "message"}`` and the
  connection stays open.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import tornado.websocket
from pydantic_core import from_json

from .auth import Principal
from .errors import Unauthorized, error_body
from .notify import Event
from .web import AppContext, JsonErrors

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 1000


class StreamHandler(JsonErrors, tornado.websocket.WebSocketHandler):
    def initialize(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.principal: Principal | None = None
        self.subscriptions: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None

    async def prepare(self) -> None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            token = self.get_query_argument("token", "") or ""
        token = token.strip()
        principal = await self.ctx.run(self.ctx.service.authenticate, token) if token else None
        if principal is None:
            raise Unauthorized("a valid bearer token is required")
        self.principal = principal

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if self.request.headers.get("Upgrade", "").lower() != "websocket":
            self.set_status(400)
            self.set_header("Content-Type", "application/json")
            self.finish(error_body("websocket_required", "this is a websocket endpoint"))
            return
        await super().get(*args, **kwargs)

    def open(self, *args: str, **kwargs: str) -> None:
        self.ctx.connections.add(self)
        self._unsubscribe = self.ctx.service.notifier.subscribe(self._on_event)

    def on_close(self) -> None:
        self.ctx.connections.discard(self)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(tornado.websocket.WebSocketClosedError):
            self.write_message(json.dumps(message))

    def _error(self, code: str, message: str) -> None:
        self._send({"type": "error", "code": code, "message": message})

    def _on_event(self, event: Event) -> None:
        if event.kind == "projects_changed":  # for the user, whatever the subscription
            if self.principal is not None and event.username == self.principal.username:
                self._send({"type": "projects_changed", "project_id": event.project_id})
            return
        if event.project_id not in self.subscriptions:
            return
        if event.kind == "changed":
            self._send({"type": "changed", "project_id": event.project_id, "seq": event.seq})
        elif event.kind == "deleted":
            self.subscriptions.discard(event.project_id)
            self._send({"type": "deleted", "project_id": event.project_id})
        elif (
            event.kind == "revoked"
            and self.principal is not None
            and event.username == self.principal.username
        ):
            self.subscriptions.discard(event.project_id)
            self._send({"type": "revoked", "project_id": event.project_id})

    async def on_message(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self._error("invalid_message", "send JSON text frames")
            return
        try:
            # jiter (pydantic's parser) bounds the nesting depth where json.loads would
            # raise RecursionError and drop the connection
            data = from_json(message, allow_inf_nan=False)
        except ValueError:
            self._error("invalid_json", "the message is not valid JSON")
            return
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            self._error("invalid_message", "a message is a JSON object with a string 'type'")
            return
        kind = data["type"]
        if kind == "ping":
            self._send({"type": "pong"})
        elif kind == "subscribe":
            await self._subscribe(data)
        else:
            self._error("unknown_type", f"unknown message type {kind!r}")

    async def _subscribe(self, data: dict[str, Any]) -> None:
        projects = data.get("projects")
        if (
            not isinstance(projects, list)
            or not all(isinstance(p, str) for p in projects)
            or len(projects) > MAX_SUBSCRIPTIONS
        ):
            self._error(
                "invalid_message",
                f"'projects' must be a list of at most {MAX_SUBSCRIPTIONS} project ids",
            )
            return
        assert self.principal is not None
        visible = await self.ctx.run(self.ctx.service.visible_project_ids, self.principal, projects)
        self.subscriptions = set(visible)
        self._send(
            {
                "type": "subscribed",
                "projects": [{"id": pid, "head_seq": seq} for pid, seq in visible.items()],
                "missing": [p for p in dict.fromkeys(projects) if p not in visible],
            }
        )

"""The browser's websocket at ``{base_url}project-filebrowser/ws`` (CONTRACT.md).

Authenticated and origin-checked like every Jupyter websocket (``JupyterHandler`` with
``WebSocketMixin``, which also sends keep-alive pings and drops connections that stop
answering). Each message is validated against one discriminated union; a bad one gets an
``error`` reply and the connection stays up. Events from the engine's bus are filtered by
the connection's subscription and written through a bounded ``Outbox``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from tornado import web, websocket

from .._version import __version__
from ..outbox import Outbox
from ..schemas import (
    CLIENT_MESSAGE,
    CLIENT_MESSAGE_TYPES,
    CancelMessage,
    CloudProjectsEvent,
    ConflictEvent,
    DeletesAppliedEvent,
    FileMergedEvent,
    FileStatusEvent,
    JobFinishedEvent,
    JobProgressEvent,
    ListProjectsMessage,
    PingMessage,
    ProjectRemovedEvent,
    ProjectUpdatedEvent,
    ResolveConflictMessage,
    ServerEvent,
    SubscribeMessage,
    SyncMessage,
)
from ..service import ProjectFileBrowserService, ServiceError
from .base import AUTH_RESOURCE

PROTOCOL = 1
MAX_MESSAGE = 1 << 20  # bytes; larger messages get an error
RATE = 50.0  # messages per second a client may send on average ...
BURST = 200.0  # ... and at once; beyond that it is flooding and is disconnected
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
CANCEL_WAIT = 10.0  # seconds a cancel reply waits for the job to stop


_last_serialized: tuple[ServerEvent | None, str] = (None, "")


def _serialized(event: ServerEvent) -> str:
    """The event's JSON, made once however many connections forward it (the bus hands the
    same event object to every subscriber in turn)."""
    global _last_serialized
    if _last_serialized[0] is not event:
        _last_serialized = (event, event.model_dump_json())
    return _last_serialized[1]


def _project_of(event: ServerEvent) -> str | None:
    """The project an event is about (None: about no single project, sent to everyone)."""
    if isinstance(event, CloudProjectsEvent):
        return None
    if isinstance(event, ProjectUpdatedEvent):
        return event.project.id
    if isinstance(
        event, FileStatusEvent | FileMergedEvent | ProjectRemovedEvent | DeletesAppliedEvent
    ):
        return event.project_id
    if isinstance(event, JobProgressEvent | JobFinishedEvent):
        return event.job.project_id
    if isinstance(event, ConflictEvent):
        return event.conflict.project_id
    raise TypeError(f"which project is a {type(event).__name__} about?")  # a new event type


class ProjectWebSocket(WebSocketMixin, websocket.WebSocketHandler, JupyterHandler):  # type: ignore[misc]
    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> ProjectFileBrowserService:
        service: ProjectFileBrowserService = self.settings["project_filebrowser_service"]
        return service

    async def pre_get(self) -> None:
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "read", AUTH_RESOURCE)
        )
        if not allowed:
            raise web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self.pre_get()
        await super().get(*args, **kwargs)

    # -- life cycle -------------------------------------------------------------------------

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        self.subscription: set[str] | None = None  # None: every project
        self.tokens, self.refilled = BURST, time.monotonic()
        self.outbox = Outbox(self._write, on_overflow=self._too_slow)
        self.outbox.start()
        self.unsubscribe = self.service.bus.subscribe(self._on_event)
        self._send({"type": "hello", "protocol": PROTOCOL, "version": __version__})

    def on_close(self) -> None:
        unsubscribe = getattr(self, "unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        outbox = getattr(self, "outbox", None)
        if outbox is not None:
            outbox.close()

    async def _write(self, payload: str) -> None:
        try:
            await self.write_message(payload)
        except websocket.WebSocketClosedError:
            self.on_close()

    def _too_slow(self) -> None:
        self.log.warning("project-filebrowser: closing a websocket that stopped reading")
        self.close(TRY_AGAIN_LATER, "too far behind")

    def _send(self, message: dict[str, Any] | BaseModel, **extra: Any) -> None:
        body = message.model_dump(mode="json") if isinstance(message, BaseModel) else message
        self.outbox.put(json.dumps({**body, **extra}))

    def _on_event(self, event: ServerEvent) -> None:
        project_id = _project_of(event)
        subscription = self.subscription
        if subscription is not None and project_id is not None and project_id not in subscription:
            return
        payload = _serialized(event)
        if isinstance(event, JobProgressEvent):
            self.outbox.put(payload, droppable=True, key=("job", event.job.id))
        elif isinstance(event, FileStatusEvent):
            self.outbox.put(payload, droppable=True, key=("file", event.project_id, event.path))
        elif isinstance(event, CloudProjectsEvent):  # only the newest list matters
            self.outbox.put(payload, droppable=True, key=("cloud_projects",))
        else:
            self.outbox.put(payload)

    # -- messages ---------------------------------------------------------------------------

    def _flooding(self) -> bool:
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.refilled) * RATE)
        self.refilled = now
        self.tokens -= 1
        return self.tokens < 0

    def _error(self, code: str, message: str, request_id: str | None = None) -> None:
        reply: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if request_id is not None:
            reply["id"] = request_id
        self._send(reply)

    async def on_message(self, message: str | bytes) -> None:
        if self._flooding():
            self.log.warning("project-filebrowser: closing a websocket that floods")
            self.close(POLICY_VIOLATION, "too many messages")
            return
        if len(message) > MAX_MESSAGE:
            self._error("message_too_large", f"messages are limited to {MAX_MESSAGE} bytes")
            return
        try:
            # jiter (pydantic's parser) bounds the nesting depth where json.loads would
            # raise RecursionError and drop the connection
            raw = from_json(message, allow_inf_nan=False)
        except ValueError:
            self._error("invalid_json", "the message is not valid JSON")
            return
        request_id = raw.get("id") if isinstance(raw, dict) else None
        request_id = request_id if isinstance(request_id, str) else None
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            self._error("invalid_message", "a message is a JSON object with a string 'type'")
            return
        if raw["type"] not in CLIENT_MESSAGE_TYPES:
            known = ", ".join(CLIENT_MESSAGE_TYPES)
            self._error("unknown_type", f"unknown type {raw['type']!r}; known: {known}", request_id)
            return
        try:
            parsed = CLIENT_MESSAGE.validate_python(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'][1:])) or 'message'}: {e['msg']}" for e in exc.errors()
            )
            self._error("invalid_message", problems, request_id)
            return
        try:
            await self._dispatch(parsed)
        except ServiceError as exc:
            self._error(exc.code, exc.message, parsed.id)
        except Exception:
            self.log.exception("project-filebrowser: websocket request failed")
            message = "the request failed on the server; see its log"
            self._error("internal_error", message, parsed.id)

    async def _authorize_write(self) -> None:
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "write", AUTH_RESOURCE)
        )
        if not allowed:
            raise ServiceError(403, "forbidden", "you may not change projects on this server")

    async def _dispatch(self, message: BaseModel) -> None:
        service = self.service
        rid = getattr(message, "id", None)
        reply = {"id": rid} if rid is not None else {}
        if isinstance(message, PingMessage):
            self._send({"type": "pong"}, **reply)
        elif isinstance(message, SubscribeMessage):
            self.subscription = None if message.projects is None else set(message.projects)
            self._send({"type": "subscribed", "projects": message.projects}, **reply)
        elif isinstance(message, ListProjectsMessage):
            items = await service.list_projects("local")
            self._send(
                {"type": "projects", "items": [p.model_dump(mode="json") for p in items]}, **reply
            )
        elif isinstance(message, SyncMessage):
            await self._authorize_write()
            job = service.sync(
                message.project_id,
                confirm_deletes=message.confirm_deletes,
                restore_deletes=message.restore_deletes,
            )
            self._send(JobProgressEvent(job=job), **reply)
        elif isinstance(message, CancelMessage):
            await self._authorize_write()
            job = await service.cancel_job_and_wait(message.job_id, timeout=CANCEL_WAIT)
            self._send(JobFinishedEvent(job=job), **reply)
        elif isinstance(message, ResolveConflictMessage):
            await self._authorize_write()
            conflict = await service.resolve_conflict(message.conflict_id, message.keep)
            self._send(ConflictEvent(conflict=conflict), **reply)

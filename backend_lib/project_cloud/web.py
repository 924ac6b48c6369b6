"""The HTTP plumbing of the Projects API, shared by the routes (:mod:`.handlers`), the
change stream (:mod:`.stream`) and the OpenAPI document (:mod:`.openapi`).

* the limits: :data:`MAX_JSON_BODY`, :data:`DRAIN_LIMIT`, :data:`MAX_BATCH_BODY`,
  :data:`MAX_SINCE` (the OpenAPI document states them; the handlers enforce them);
* :class:`AppContext`, what every handler needs (the service, the thread pool, the
  requests in flight), and :func:`api`, the wrapper of every HTTP method;
* :class:`BaseHandler`: auth, body streaming with limits, query parameters, JSON replies
  and the contract's JSON errors;
* :func:`redacting_log_function`, the access log.

Every handler streams its request body (``stream_request_body``): JSON bodies are
collected up to ``max_json_body`` bytes, file uploads go straight into a temp blob, and both
are cut off with 413 when too large. A request refused before its body is read (401, 404,
412, 413 ...) still gets its JSON error reply: bodies up to :data:`DRAIN_LIMIT` are read and
dropped first, larger ones are refused at once and the connection is closed (the only way
not to read them).

Every error is a :class:`~.errors.ServiceError`, always replied as ``{"error": {"code":
"<snake_case>", "message": "<sentence>"}}``; a status with no more specific code gets the
one of :data:`~.errors.GENERIC_CODES`.

This module imports no other module of the package's HTTP layer, so all of them may import it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Executor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar, ParamSpec, TypeVar

import tornado.web
from pydantic import BaseModel, ValidationError

from . import schemas
from .auth import Principal
from .errors import (
    InvalidRequest,
    MethodNotAllowed,
    ServiceError,
    ShuttingDown,
    TooLarge,
    Unauthorized,
    error_body,
    generic_code,
)
from .service import CloudService

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_JSON_BODY = 1024 * 1024
DRAIN_LIMIT = 16 * 1024 * 1024
MAX_BATCH_BODY = 32 * 1024 * 1024
MAX_SINCE = 2**63 - 1  # integer query parameters: what a signed 64-bit column holds

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class AppContext:
    """What every handler needs."""

    service: CloudService
    executor: Executor | None = None
    max_json_body: int = MAX_JSON_BODY
    connections: set[Any] = field(default_factory=set)
    in_flight: set[Any] = field(default_factory=set)  # requests being answered
    stopping: bool = False  # the server is shutting down: new requests get 503

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking work (DB, blob IO) in the thread pool."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))
        except RuntimeError:  # the pool is shut down
            if not self.stopping:
                raise
            raise ShuttingDown() from None

    async def drain(self, timeout: float) -> bool:
        """Wait until no request is being answered (True), or ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return not self.in_flight


def _model_json(model: BaseModel) -> bytes:
    return model.model_dump_json(by_alias=True).encode("utf-8")


_HANDLER_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


def api(
    method: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., Coroutine[Any, Any, None]]:
    """Wrap an HTTP method: honour an earlier refusal, map service errors to replies."""

    @functools.wraps(method)
    async def wrapper(self: BaseHandler, *args: str) -> None:
        if self._finished:
            return
        if self.rejected is not None:
            raise self.rejected
        await method(self, *args)

    return wrapper


class JsonErrors(tornado.web.RequestHandler):
    """The contract's JSON error replies, for the routes and the stream alike: a
    :class:`~.errors.ServiceError` is replied with its own status, code and message; any
    other error with :meth:`unexpected_error`. A refusal is no bug: it is not logged."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        details: dict[str, Any] = {}
        if isinstance(exc, ServiceError):
            status_code, code, message, details = exc.status, exc.code, exc.message, exc.details
            self.set_status(status_code)
        else:
            code, message = self.unexpected_error(status_code, exc)
        self.error_headers(status_code)
        self.finish(error_body(code, message, details))

    def error_headers(self, status: int) -> None:
        """The headers of an error reply of ``status``."""
        self.set_header("Content-Type", "application/json")
        if status == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="project-cloud"')

    def unexpected_error(self, status_code: int, exc: BaseException | None) -> tuple[str, str]:
        """The code and message of an error that is no :class:`~.errors.ServiceError`."""
        return "error", self._reason

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ServiceError):  # a refusal, not a bug
            return
        super().log_exception(typ, value, tb)


@tornado.web.stream_request_body
class BaseHandler(JsonErrors):
    """Auth, body streaming with limits, JSON replies and errors."""

    auth_required = True
    # Query parameters each method accepts; any other one is refused (a typo such as
    # ?sinse=5 must not silently mean "since 0").
    query_params: ClassVar[dict[str, frozenset[str]]] = {}

    def initialize(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.service = ctx.service
        self.principal: Principal | None = None
        self.rejected: ServiceError | None = None
        self._received = 0
        self._drained = 0
        self._body = bytearray()

    # ----- plumbing -----

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def compute_etag(self) -> str | None:
        return None

    def body_limit(self) -> int:
        return self.ctx.max_json_body

    def too_large(self) -> ServiceError:
        return TooLarge(
            f"the request body is larger than {self.body_limit()} bytes", "body_too_large"
        )

    def allowed_methods(self) -> list[str]:
        return [
            m.upper()
            for m in _HANDLER_METHODS
            if getattr(type(self), m) is not getattr(tornado.web.RequestHandler, m)
        ]

    def _content_length(self) -> int | None:
        value = self.request.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    def _expects_body(self) -> bool:
        length = self._content_length()
        return bool(length) or "chunked" in self.request.headers.get("Transfer-Encoding", "")

    async def prepare(self) -> None:
        self.ctx.in_flight.add(self)
        try:
            if self.ctx.stopping:
                raise ShuttingDown()
            if self.request.method not in self.allowed_methods():
                self.set_header("Allow", ", ".join(self.allowed_methods()))
                raise MethodNotAllowed(f"{self.request.method} is not allowed here")
            allowed = self.query_params.get(self.request.method or "", frozenset())
            unknown = sorted(set(self.request.query_arguments) - allowed)
            if unknown:
                raise InvalidRequest(f"unknown query parameter(s): {', '.join(unknown)}")
            length = self._content_length()
            if length is not None and length > self.body_limit():
                raise self.too_large()
            if self.auth_required:
                self.principal = await self.authenticate()
            await self.before_body()
        except ServiceError as exc:
            self.reject(exc)

    async def authenticate(self) -> Principal:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        principal = await self.ctx.run(self.service.authenticate, token.strip())
        if principal is None:
            raise Unauthorized("the token is not valid (revoked, or from another service)")
        return principal

    async def before_body(self) -> None:
        """Checks to make before the body is read (the file upload overrides this)."""

    def reject(self, err: ServiceError) -> None:
        """Refuse the request: reply once the body is read, or now if it is too big to
        drain or the client waits for ``100 Continue`` (then the connection is closed)."""
        self.rejected = err
        length = self._content_length()
        if not self._expects_body():
            return  # the HTTP method runs next and raises it
        waiting = self.request.headers.get("Expect", "").lower() == "100-continue"
        if not waiting and (length is None or length - self._received <= DRAIN_LIMIT):
            return  # read and drop the rest (up to DRAIN_LIMIT), then reply
        if length is not None:
            # Keep tornado from adding its own 400 after our reply.
            self.request.connection.set_max_body_size(length)  # type: ignore[union-attr]
        self.reply_error(err)

    async def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._received += len(chunk)
        if self.rejected is not None:
            self._drained += len(chunk)
            if self._drained > DRAIN_LIMIT:
                self.reply_error(self.rejected)
            return
        if self._received > self.body_limit():
            self.reject(self.too_large())
            if self.rejected is not None and not self._finished:
                self._drained = len(chunk)
            return
        await self.consume(chunk)

    async def consume(self, chunk: bytes) -> None:
        self._body += chunk

    def reply_error(self, err: ServiceError) -> None:
        """Reply ``err`` now (from a body callback, outside the HTTP method)."""
        if self._finished:
            return
        if self._headers_written:  # too late for an error reply: cut the connection
            self.request.connection.close()  # type: ignore[union-attr]
            return
        allow = self._headers.get("Allow")
        self.clear()
        if allow:
            self.set_header("Allow", allow)
        self.set_status(err.status)
        self.error_headers(err.status)
        self.finish(err.body())

    def on_finish(self) -> None:
        self.ctx.in_flight.discard(self)

    def on_connection_close(self) -> None:
        self.ctx.in_flight.discard(self)
        super().on_connection_close()

    def error_headers(self, status: int) -> None:
        super().error_headers(status)
        if status == 405 and "Allow" not in self._headers:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        if status == 503:
            self.set_header("Retry-After", "1")
            if self.ctx.stopping:
                self.set_header("Connection", "close")

    def unexpected_error(self, status_code: int, exc: BaseException | None) -> tuple[str, str]:
        code = generic_code(status_code)
        if isinstance(exc, tornado.web.HTTPError):
            message = exc.log_message or HTTPStatus(status_code).phrase
            return code, message % exc.args if exc.args else message
        if status_code >= 500:
            return code, "the server failed; the error is logged"
        return code, self._reason or "error"

    # ----- helpers for subclasses -----

    @property
    def user(self) -> Principal:
        assert self.principal is not None
        return self.principal

    def parse_body(self, model: type[BaseModel]) -> Any:
        if not self._body:
            raise InvalidRequest("a JSON body is required", "invalid_json")
        return self.parse_json(model, bytes(self._body))

    def parse_json(self, model: type[BaseModel], raw: bytes) -> Any:
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                raise InvalidRequest("the body is not valid JSON", "invalid_json") from None
            problems = "; ".join(_in_words(model, e) for e in exc.errors()[:5])
            raise InvalidRequest(f"invalid request body: {problems}") from None

    def str_arg(self, name: str, allow_empty: bool = False) -> str | None:
        """A query parameter given at most once (None if absent)."""
        values = self.get_query_arguments(name)
        if not values:
            return None
        if len(values) > 1:
            raise InvalidRequest(f"the query parameter {name} is given more than once")
        if values[0] == "" and not allow_empty:
            raise InvalidRequest(f"the query parameter {name} is empty")
        return values[0]

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        value = self.str_arg(name)
        if value is None:
            return default
        if not re.fullmatch(r"-?[0-9]{1,19}", value) or abs(int(value)) > MAX_SINCE:
            raise InvalidRequest(f"{name} must be an integer of at most {MAX_SINCE}")
        return int(value)

    def bool_arg(self, name: str) -> bool:
        value = (self.str_arg(name) or "false").lower()
        if value in ("1", "true"):
            return True
        if value in ("0", "false"):
            return False
        raise InvalidRequest(f"{name} must be true or false")

    def reply(self, model: BaseModel, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(_model_json(model))

    def no_content(self) -> None:
        self.set_status(204)
        self.finish()

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Awaitable[T]:
        return self.ctx.run(fn, *args, **kwargs)


def _in_words(model: type[BaseModel], error: Any) -> str:
    """One validation problem as a sentence: a pattern is told as its rule, never shown."""
    where = ".".join(str(p) for p in error["loc"]) or "body"
    if error["type"] != "string_pattern_mismatch":
        return f"{where}: {error['msg']}"
    if model is schemas.ProjectCreate and error["loc"] == ("name",):
        return schemas.project_name_problem(error["input"]) or f"{where}: not allowed"
    field = model.model_fields.get(str(error["loc"][0]))
    return f"{where}: {field.description if field and field.description else 'not allowed'}"


def redacting_log_function(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log, without ``token=`` query values."""
    status = handler.get_status()
    if status < 400:
        log_method = logging.getLogger("tornado.access").info
    elif status < 500 or status == 503:  # a refusal, or "try again" while stopping
        log_method = logging.getLogger("tornado.access").warning
    else:
        log_method = logging.getLogger("tornado.access").error
    uri = handler.request.uri or ""
    if "token=" in uri:
        uri = re.sub(r"(token=)[^&]*", r"\1REDACTED", uri)
    request_time = 1000.0 * handler.request.request_time()
    log_method(
        "%d %s %s (%s) %.2fms",
        status,
        handler.request.method,
        uri,
        handler.request.remote_ip,
        request_time,
    )

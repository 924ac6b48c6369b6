"""Thin Tornado handlers of the Projects API (prefix ``/api/v1``).

Each handler parses the request, authenticates, runs one service call in the thread pool
and shapes the reply. Every handler streams its request body (``stream_request_body``):
JSON bodies are collected up to ``max_json_body`` bytes, file uploads go straight into a
temp blob, and both are cut off with 413 when too large. A request refused before its body
is read (401, 404, 412, 413 ...) still gets its JSON error reply: bodies up to
:data:`DRAIN_LIMIT` are read and dropped first, larger ones are refused at once and the
connection is closed (the only way not to read them).

Errors are always ``{"error": {"code": "<snake_case>", "message": "<sentence>"}}``.
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
from tornado import httputil
from tornado.iostream import StreamClosedError

from . import schemas
from .blobs import SHA256_RE, BlobWriter, ChecksumMismatch
from .errors import (
    InvalidPathError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    ServiceError,
    ShuttingDown,
    TooLarge,
    Unauthorized,
    error_body,
    generic_code,
)
from .service import CloudService, Preconditions, Principal

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_JSON_BODY = 1024 * 1024
DRAIN_LIMIT = 16 * 1024 * 1024
MAX_BATCH_BODY = 32 * 1024 * 1024
WRITE_BATCH = 1024 * 1024
READ_CHUNK = 1024 * 1024
MTIME_HEADER = "X-Mtime-Ns"
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


class ApiError(tornado.web.HTTPError):
    """An error reply with the contract's body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, log_message=None)
        self.code = code
        self.message = message

    @classmethod
    def from_service(cls, err: ServiceError) -> ApiError:
        return cls(err.status, err.code, err.message)


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
            raise ApiError.from_service(self.rejected)
        try:
            await method(self, *args)
        except ServiceError as exc:
            raise ApiError.from_service(exc) from None

    return wrapper


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
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
        self.reply_error(err.status, err.code, err.message)

    async def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._received += len(chunk)
        if self.rejected is not None:
            self._drained += len(chunk)
            if self._drained > DRAIN_LIMIT:
                self.reply_error(self.rejected.status, self.rejected.code, self.rejected.message)
            return
        if self._received > self.body_limit():
            self.reject(self.too_large())
            if self.rejected is not None and not self._finished:
                self._drained = len(chunk)
            return
        await self.consume(chunk)

    async def consume(self, chunk: bytes) -> None:
        self._body += chunk

    def reply_error(self, status: int, code: str, message: str) -> None:
        if self._finished:
            return
        if self._headers_written:  # too late for an error reply: cut the connection
            self.request.connection.close()  # type: ignore[union-attr]
            return
        allow = self._headers.get("Allow")
        self.clear()
        if allow:
            self.set_header("Allow", allow)
        self.set_status(status)
        self._error_headers(status)
        self.finish(error_body(code, message))

    def _error_headers(self, status: int) -> None:
        self.set_header("Content-Type", "application/json")
        if status == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="project-cloud"')
        if status == 503:
            self.set_header("Retry-After", "1")
            if self.ctx.stopping:
                self.set_header("Connection", "close")

    def on_finish(self) -> None:
        self.ctx.in_flight.discard(self)

    def on_connection_close(self) -> None:
        self.ctx.in_flight.discard(self)
        super().on_connection_close()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            code, message = exc.code, exc.message
        elif isinstance(exc, tornado.web.HTTPError):
            code = generic_code(status_code)
            message = exc.log_message or HTTPStatus(status_code).phrase
            message = message % exc.args if exc.args else message
        else:
            code = generic_code(status_code)
            message = (
                "the server failed; the error is logged"
                if status_code >= 500
                else (self._reason or "error")
            )
        if status_code == 405 and "Allow" not in self._headers:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        self._error_headers(status_code)
        self.finish(error_body(code, message))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ApiError):
            return
        super().log_exception(typ, value, tb)

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


class NotFoundHandler(BaseHandler):
    """Any URL no route matches: 404 with the usual error body. (Replying here, after
    the body is read, keeps the connection alive; replying in prepare() would close it.)"""

    auth_required = False

    async def prepare(self) -> None:
        self.reject(NotFound(f"no such endpoint: {self.request.path}"))

    @api
    async def get(self, *args: str) -> None:
        raise AssertionError("unreachable: the request was rejected in prepare()")

    head = post = put = patch = delete = options = get


# --- auth ---------------------------------------------------------------------------------


class TokenHandler(BaseHandler):
    auth_required = False

    @api
    async def post(self) -> None:
        req: schemas.TokenRequest = self.parse_body(schemas.TokenRequest)
        token = await self.run(self.service.login, req.username, req.password)
        self.reply(schemas.TokenReply(token=token))

    @api
    async def delete(self) -> None:
        """Revoke the token this request carries."""
        self.principal = await self.authenticate()
        token = self.request.headers["Authorization"].partition(" ")[2].strip()
        await self.run(self.service.revoke_token, token)
        self.no_content()


class UserHandler(BaseHandler):
    @api
    async def get(self) -> None:
        self.reply(schemas.UserInfo(username=self.user.username))


# --- projects -----------------------------------------------------------------------------


class ProjectsHandler(BaseHandler):
    query_params = {"GET": frozenset({"limit", "page_token"})}

    @api
    async def get(self) -> None:
        page = await self.run(
            self.service.list_projects,
            self.user,
            self.int_arg("limit"),
            self.str_arg("page_token"),
        )
        self.reply(page)

    @api
    async def post(self) -> None:
        req = self.parse_body(schemas.ProjectCreate)
        project = await self.run(self.service.create_project, self.user, req)
        self.set_header("Location", f"{API_PREFIX}/projects/{project.id}")
        self.reply(project, 201)


class ProjectHandler(BaseHandler):
    @api
    async def get(self, project_id: str) -> None:
        self.reply(await self.run(self.service.get_project, self.user, project_id))

    @api
    async def patch(self, project_id: str) -> None:
        req = self.parse_body(schemas.ProjectUpdate)
        self.reply(await self.run(self.service.update_project, self.user, project_id, req))

    @api
    async def delete(self, project_id: str) -> None:
        await self.run(self.service.delete_project, self.user, project_id)
        self.no_content()


class CollaboratorsHandler(BaseHandler):
    @api
    async def get(self, project_id: str) -> None:
        self.reply(await self.run(self.service.list_collaborators, self.user, project_id))


class CollaboratorHandler(BaseHandler):
    @api
    async def put(self, project_id: str, username: str) -> None:
        req: schemas.CollaboratorSet = self.parse_body(schemas.CollaboratorSet)
        self.reply(
            await self.run(self.service.set_collaborator, self.user, project_id, username, req.role)
        )

    @api
    async def delete(self, project_id: str, username: str) -> None:
        await self.run(self.service.remove_collaborator, self.user, project_id, username)
        self.no_content()


# --- files --------------------------------------------------------------------------------


def _etag(revision: str) -> str:
    return f'"{revision}"'


class FileListHandler(BaseHandler):
    query_params = {"GET": frozenset({"prefix", "limit", "page_token", "include_deleted"})}

    @api
    async def get(self, project_id: str) -> None:
        page = await self.run(
            self.service.list_files,
            self.user,
            project_id,
            prefix=self.str_arg("prefix", allow_empty=True) or None,
            limit=self.int_arg("limit"),
            page_token=self.str_arg("page_token"),
            include_deleted=self.bool_arg("include_deleted"),
        )
        self.reply(page)


class FileHandler(BaseHandler):
    """``/projects/{id}/files/{path}``: download (GET, HEAD), upload (PUT), delete."""

    query_params = {
        "GET": frozenset({"revision"}),
        "HEAD": frozenset({"revision"}),
        "DELETE": frozenset({"confirmed"}),
    }
    writer: BlobWriter | None = None
    _pending: bytearray

    _bad_utf8 = False

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            # Refused in before_body(), so that the body is drained and the reply is clean.
            self._bad_utf8 = True
            return value.decode("utf-8", "replace")

    def file_path(self) -> str:
        return self.path_args[1]

    def body_limit(self) -> int:
        if self.request.method == "PUT":
            return self.service.max_file_size
        return self.ctx.max_json_body

    def too_large(self) -> ServiceError:
        if self.request.method == "PUT":
            return TooLarge(f"the file is larger than the limit of {self.body_limit()} bytes")
        return super().too_large()

    def preconditions(self) -> Preconditions:
        return Preconditions.from_headers(
            self.request.headers.get("If-Match"), self.request.headers.get("If-None-Match")
        )

    def expected_sha256(self) -> str | None:
        value = self.request.headers.get("X-Content-SHA256")
        if value is None:
            return None
        value = value.strip().lower()
        if not SHA256_RE.match(value):
            raise InvalidRequest("X-Content-SHA256 must be 64 hex digits")
        return value

    def mtime_ns(self) -> int | None:
        """``X-Mtime-Ns``: the file's modification time, integer ns since the epoch."""
        value = self.request.headers.get(MTIME_HEADER)
        if value is None:
            return None
        if not re.fullmatch(schemas.MTIME_PATTERN, value):
            raise InvalidRequest(
                f"{MTIME_HEADER} must be an integer of nanoseconds since the epoch, "
                f"{schemas.MIN_MTIME_NS} to {schemas.MAX_MTIME_NS}"
            )
        return int(value)

    async def before_body(self) -> None:
        if self._bad_utf8:
            raise InvalidPathError("invalid path: it is not valid UTF-8")
        if self.request.method != "PUT":
            return
        self.expected_sha256()
        self.mtime_ns()
        await self.run(
            self.service.check_put,
            self.user,
            self.path_args[0],
            self.file_path(),
            self.preconditions(),
        )
        self._pending = bytearray()
        self.writer = await self.run(self.service.blobs.writer)

    async def consume(self, chunk: bytes) -> None:
        if self.writer is None:
            await super().consume(chunk)
            return
        self._pending += chunk
        if len(self._pending) >= WRITE_BATCH:
            data = bytes(self._pending)
            self._pending.clear()
            await self.run(self.writer.write, data)

    def _drop_upload(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                asyncio.get_running_loop().run_in_executor(self.ctx.executor, writer.abort)
            except RuntimeError:  # no loop, or the pool is shut down
                writer.abort()

    def on_connection_close(self) -> None:
        self._drop_upload()
        super().on_connection_close()

    def on_finish(self) -> None:
        self._drop_upload()
        super().on_finish()

    @api
    async def put(self, project_id: str, *_: str) -> None:
        writer = self.writer
        assert writer is not None
        if self._pending:
            await self.run(writer.write, bytes(self._pending))
            self._pending.clear()
        try:
            sha256, size = await self.run(writer.commit, self.expected_sha256())
        except ChecksumMismatch as exc:
            raise InvalidRequest(str(exc), "checksum_mismatch") from None
        self.writer = None
        version, created = await self.run(
            self.service.put_file,
            self.user,
            project_id,
            self.file_path(),
            sha256,
            size,
            self.preconditions(),
            self.mtime_ns(),
        )
        self.set_header("ETag", _etag(version.revision))
        if created:
            self.set_header("Location", self.request.path)
        self.reply(version, 201 if created else 200)

    @api
    async def delete(self, project_id: str, *_: str) -> None:
        tomb = await self.run(
            self.service.delete_file,
            self.user,
            project_id,
            self.file_path(),
            self.preconditions(),
            confirmed=self.bool_arg("confirmed"),
        )
        self.set_header("ETag", _etag(tomb.revision))
        self.no_content()

    @api
    async def head(self, project_id: str, *_: str) -> None:
        await self.download(project_id, self.file_path(), body=False)

    @api
    async def get(self, project_id: str, *_: str) -> None:
        await self.download(project_id, self.file_path(), body=True)

    async def download(self, project_id: str, path: str, body: bool) -> None:
        revision = self.str_arg("revision")
        stored = await self.run(self.service.get_file, self.user, project_id, path, revision)
        version = stored.version
        self.set_header("ETag", _etag(version.revision))
        self.set_header("X-Content-SHA256", stored.sha256)
        self.set_header(MTIME_HEADER, str(version.mtime_ns))
        self.set_header("Last-Modified", httputil.format_timestamp(version.modified_at))
        self.set_header("X-Modified-By", version.modified_by)
        if_none_match = self.request.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {
                t.removeprefix("W/")
                for t in Preconditions.from_headers(None, if_none_match).if_none_match or ()
            }
            if "*" in tags or version.revision in tags:
                self.set_status(304)
                self.finish()
                return
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(version.size))
        if not body:
            self.finish()
            return
        if stored.packed is not None:
            self.finish(await self.run(self.service.blobs.read_packed, stored.packed))
            return
        f = await self.run(self.service.blobs.open_read, stored.sha256)
        try:
            while True:
                chunk = await self.run(f.read, READ_CHUNK)
                if not chunk:
                    break
                self.write(chunk)
                await self.flush()
        except StreamClosedError:
            return
        finally:
            await self.run(f.close)
        self.finish()


class RevisionListHandler(BaseHandler):
    """``GET /projects/{id}/revisions/{path}``: the revisions of a path. Outside ``files/``,
    so that no file name can be read as this route."""

    @api
    async def get(self, project_id: str, path: str) -> None:
        self.reply(await self.run(self.service.revisions, self.user, project_id, path))


class LegacyRevisionsHandler(FileHandler):
    """``/projects/{id}/files/{x}/revisions``: the file ``x/revisions``, except a GET of old
    clients that meant the revision listing of ``x`` (kept where unambiguous: see
    :meth:`CloudService.lists_revisions`). New clients use :class:`RevisionListHandler`."""

    def file_path(self) -> str:
        return self.path_args[1] + "/revisions"

    @api
    async def get(self, project_id: str, folder: str) -> None:
        if self.get_query_arguments("revision") or not await self.run(
            self.service.lists_revisions, self.user, project_id, folder
        ):
            await self.download(project_id, self.file_path(), body=True)
            return
        self.reply(await self.run(self.service.revisions, self.user, project_id, folder))


class MovesHandler(BaseHandler):
    @api
    async def post(self, project_id: str) -> None:
        req: schemas.MoveRequest = self.parse_body(schemas.MoveRequest)
        version = await self.run(
            self.service.move_file, self.user, project_id, req.from_, req.to, req.if_match
        )
        self.set_header("ETag", _etag(version.revision))
        self.reply(version)


class BatchHandler(BaseHandler):
    """``POST /projects/{id}/batch``: many small files in one request and one transaction.

    The body is the manifest - one line of JSON, ``{"items": [{path, size, sha256,
    if_match?, if_none_match?, stored?}]}`` - then ``\n``, then each file's bytes in
    manifest order (none for a ``stored`` item).
    The reply has one result per item; each file succeeds or fails as its own upload would.
    """

    def body_limit(self) -> int:
        return MAX_BATCH_BODY

    @api
    async def post(self, project_id: str) -> None:
        newline = self._body.find(b"\n")
        if newline < 0:
            raise InvalidRequest(
                "the body must start with the JSON manifest and a newline", "invalid_batch"
            )
        if newline > self.ctx.max_json_body:
            raise TooLarge(
                f"the manifest is larger than {self.ctx.max_json_body} bytes", "body_too_large"
            )
        manifest: schemas.BatchManifest = self.parse_json(
            schemas.BatchManifest, bytes(self._body[:newline])
        )
        payload = memoryview(self._body)[newline + 1 :]
        reply = await self.run(
            self.service.put_batch, self.user, project_id, manifest.items, payload
        )
        self.reply(reply)


class ChangesHandler(BaseHandler):
    query_params = {"GET": frozenset({"since", "limit"})}

    @api
    async def get(self, project_id: str) -> None:
        since = self.int_arg("since", 0)
        assert since is not None
        self.reply(
            await self.run(
                self.service.changes, self.user, project_id, since, self.int_arg("limit")
            )
        )


# --- checkpoints --------------------------------------------------------------------------


class CheckpointsHandler(BaseHandler):
    @api
    async def get(self, project_id: str) -> None:
        self.reply(await self.run(self.service.list_checkpoints, self.user, project_id))

    @api
    async def post(self, project_id: str) -> None:
        req = self.parse_body(schemas.CheckpointCreate)
        cp = await self.run(self.service.create_checkpoint, self.user, project_id, req)
        self.set_header("Location", f"{API_PREFIX}/projects/{project_id}/checkpoints/{cp.id}")
        self.reply(cp, 201)


class CheckpointHandler(BaseHandler):
    @api
    async def get(self, project_id: str, checkpoint_id: str) -> None:
        self.reply(
            await self.run(self.service.get_checkpoint, self.user, project_id, checkpoint_id)
        )

    @api
    async def delete(self, project_id: str, checkpoint_id: str) -> None:
        await self.run(self.service.delete_checkpoint, self.user, project_id, checkpoint_id)
        self.no_content()


class RestoreHandler(BaseHandler):
    @api
    async def post(self, project_id: str, checkpoint_id: str) -> None:
        self.reply(
            await self.run(self.service.restore_checkpoint, self.user, project_id, checkpoint_id)
        )


# --- OpenAPI ------------------------------------------------------------------------------


class OpenAPIHandler(BaseHandler):
    auth_required = False

    @api
    async def get(self) -> None:
        from .openapi import openapi_json

        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-cache")
        self.finish(openapi_json(self.service.max_file_size))


ID = r"([^/]+)"


def _in_words(model: type[BaseModel], error: Any) -> str:
    """One validation problem as a sentence: a pattern is told as its rule, never shown."""
    where = ".".join(str(p) for p in error["loc"]) or "body"
    if error["type"] != "string_pattern_mismatch":
        return f"{where}: {error['msg']}"
    if model is schemas.ProjectCreate and error["loc"] == ("name",):
        return schemas.project_name_problem(error["input"]) or f"{where}: not allowed"
    field = model.model_fields.get(str(error["loc"][0]))
    return f"{where}: {field.description if field and field.description else 'not allowed'}"


def routes(ctx: AppContext) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    from .stream import StreamHandler

    p = API_PREFIX
    table: list[tuple[str, type[tornado.web.RequestHandler]]] = [
        (rf"{p}/openapi\.json", OpenAPIHandler),
        (rf"{p}/auth/token", TokenHandler),
        (rf"{p}/user", UserHandler),
        (rf"{p}/stream", StreamHandler),
        (rf"{p}/projects", ProjectsHandler),
        (rf"{p}/projects/{ID}", ProjectHandler),
        (rf"{p}/projects/{ID}/collaborators", CollaboratorsHandler),
        (rf"{p}/projects/{ID}/collaborators/{ID}", CollaboratorHandler),
        (rf"{p}/projects/{ID}/files", FileListHandler),
        (rf"{p}/projects/{ID}/files/(.+)/revisions", LegacyRevisionsHandler),
        (rf"{p}/projects/{ID}/files/(.+)", FileHandler),
        (rf"{p}/projects/{ID}/revisions/(.+)", RevisionListHandler),
        (rf"{p}/projects/{ID}/moves", MovesHandler),
        (rf"{p}/projects/{ID}/batch", BatchHandler),
        (rf"{p}/projects/{ID}/changes", ChangesHandler),
        (rf"{p}/projects/{ID}/checkpoints", CheckpointsHandler),
        (rf"{p}/projects/{ID}/checkpoints/{ID}", CheckpointHandler),
        (rf"{p}/projects/{ID}/checkpoints/{ID}/restore", RestoreHandler),
    ]
    return [(pattern, handler, {"ctx": ctx}) for pattern, handler in table]

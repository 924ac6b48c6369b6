"""The routes of the Projects API (prefix ``/api/v1``): thin Tornado handlers.

Each handler parses the request, authenticates, runs one service call in the thread pool
and shapes the reply; the plumbing they share (auth, body streaming with limits, JSON
replies and errors, :class:`~.web.AppContext`) is in :mod:`.web`. :func:`routes` is the
URL table.

Errors are always ``{"error": {"code": "<snake_case>", "message": "<sentence>"}}``.

Over 400 lines on purpose: it is the whole API surface, one small class per resource, and
read together with the URL table at its end; split by domain, each part would be a few
classes long and the table would have to import them all back.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import tornado.web
from tornado import httputil
from tornado.iostream import StreamClosedError

from . import schemas
from .blobs import SHA256_RE, BlobWriter, ChecksumMismatch
from .errors import InvalidPathError, InvalidRequest, NotFound, ServiceError, TooLarge
from .openapi import openapi_json
from .reads import Preconditions
from .stream import StreamHandler
from .web import (
    API_PREFIX,
    DRAIN_LIMIT,
    MAX_BATCH_BODY,
    MAX_JSON_BODY,
    MAX_SINCE,
    AppContext,
    BaseHandler,
    api,
)

__all__ = [  # the limits are re-exported for older imports of them from here
    "DRAIN_LIMIT",
    "MAX_BATCH_BODY",
    "MAX_JSON_BODY",
    "MAX_SINCE",
    "AppContext",
    "NotFoundHandler",
    "routes",
]

WRITE_BATCH = 1024 * 1024
READ_CHUNK = 1024 * 1024
MTIME_HEADER = "X-Mtime-Ns"


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
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-cache")
        self.finish(openapi_json(self.service.max_file_size))


ID = r"([^/]+)"


def routes(ctx: AppContext) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
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

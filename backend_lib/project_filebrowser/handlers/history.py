"""REST handlers for a file's history, restore, the deleted files and checkpoints
(docs/interfaces.md, "History")."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field
from tornado import web

from ..schemas import CheckpointList
from ..service import ServiceError
from .base import BaseHandler

# Query parameters any route takes: Jupyter's own (a token in the URL, the XSRF cookie's).
_JUPYTER_PARAMS = frozenset({"token", "_xsrf"})
CHUNK = 1 << 20


def _cache_buster(name: str, values: list[bytes]) -> bool:
    """JupyterLab's ``ServerConnection.makeRequest`` appends a bare timestamp (``?1796...``)
    to every request unless told ``cache: 'no-cache'``: not a parameter, so not refused."""
    return name.isdigit() and values == [b""]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RestoreBody(_Body):
    revision: str | None = Field(default=None, min_length=1, max_length=128)


class CheckpointBody(_Body):
    name: str = Field(min_length=1, max_length=256)


class _QueryHandler(BaseHandler):
    """A handler whose query parameters are checked: an unknown one, or one given twice,
    is refused (400 ``invalid_query``)."""

    def query(self, *names: str) -> dict[str, str | None]:
        known = set(names) | _JUPYTER_PARAMS
        unknown = sorted(
            name
            for name, values in self.request.query_arguments.items()
            if name not in known and not _cache_buster(name, values)
        )
        if unknown:
            raise ServiceError(
                400,
                "invalid_query",
                f"unknown query parameter {unknown[0]!r}; this route takes "
                + (", ".join(names) or "none"),
            )
        values: dict[str, str | None] = {}
        for name in names:
            given = self.get_query_arguments(name)
            if len(given) > 1:
                raise ServiceError(400, "invalid_query", f"{name} is given more than once")
            values[name] = given[0] if given else None
        return values

    def page(self) -> tuple[int | None, str | None]:
        args = self.query("limit", "page_token")
        limit = args["limit"]
        if limit is not None and not (limit.isdigit() and len(limit) <= 6):
            raise ServiceError(400, "invalid_query", "limit must be a whole number")
        return (None if limit is None else int(limit)), args["page_token"]


class HistoryHandler(_QueryHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str, path: str) -> None:
        limit, token = self.page()
        self.write_json(await self.service.history(project_id, path, limit=limit, page_token=token))


class ContentHandler(_QueryHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str, path: str) -> None:
        revision = self.query("revision")["revision"]
        if not revision:
            raise ServiceError(400, "invalid_query", "give the revision: ?revision=R")
        version, data, media_type = await self.service.revision_content(project_id, path, revision)
        with data:
            self.set_header("Content-Type", media_type)
            self.set_header("ETag", f'"{version.revision}"')
            self.set_header("Content-Length", str(version.size))
            if version.modified_by:
                self.set_header("X-Modified-By", version.modified_by)
            while chunk := data.read(CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish()

    def compute_etag(self) -> None:
        return None  # the ETag is the revision's, set above


class DiffHandler(_QueryHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str, path: str) -> None:
        args = self.query("from", "to")
        if not args["from"]:
            raise ServiceError(400, "invalid_query", "give the revision to compare: ?from=R")
        if args["to"] == "":
            raise ServiceError(
                400, "invalid_query", "to is empty: omit it to compare the file here"
            )
        self.write_json(await self.service.diff(project_id, path, args["from"], args["to"]))


class RestoreHandler(_QueryHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str, path: str) -> None:
        self.query()
        body = self.parse(RestoreBody, optional=True)
        self.write_json(await self.service.restore(project_id, path, body.revision))


class DeletedHandler(_QueryHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str) -> None:
        limit, token = self.page()
        self.write_json(await self.service.deleted(project_id, limit=limit, page_token=token))


class CheckpointsHandler(_QueryHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str) -> None:
        self.query()
        self.write_json(CheckpointList(items=await self.service.checkpoints(project_id)))

    @web.authenticated
    @authorized
    async def post(self, project_id: str) -> None:
        self.query()
        body = self.parse(CheckpointBody)
        self.write_json(await self.service.create_checkpoint(project_id, body.name), status=201)


class CheckpointRestoreHandler(_QueryHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str, checkpoint_id: str) -> None:
        self.query()
        self.parse(_Body, optional=True)  # no fields: an empty body, or {}
        self.write_json(await self.service.restore_checkpoint(project_id, checkpoint_id))

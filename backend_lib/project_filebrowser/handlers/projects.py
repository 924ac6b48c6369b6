"""REST handlers for projects, files, conflicts and jobs (CONTRACT.md)."""

from __future__ import annotations

from typing import Any, Literal

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field
from tornado import web

from ..schemas import ConflictPolicy
from ..service import ServiceError, document_bytes
from .base import BaseHandler


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateProjectBody(_Body):
    name: str = Field(max_length=4096)  # the rule itself is the service's, told in words
    title: str = Field(default="", max_length=256)
    description: str = Field(default="", max_length=100_000)
    adopt: bool = False


class LinkBody(_Body):
    local_path: str | None = Field(default=None, max_length=4096)


class SyncBody(_Body):
    confirm_deletes: bool = False
    restore_deletes: bool = False
    dry_run: bool = False
    # this run's delete guard instead of the max_delete_fraction setting: a share or a count
    max_delete_fraction: float | None = Field(default=None, ge=0, le=1)
    max_deletes: int | None = Field(default=None, ge=0)


class ResolveBody(_Body):
    keep: Literal["local", "remote", "both"]


# An editor's buffer kept as a conflict copy may be a large notebook.
KEEP_COPY_MAX_BODY = 256 << 20


class KeepCopyBody(_Body):
    path: str = Field(min_length=1, max_length=4096)
    revision: str | None = Field(default=None, min_length=1, max_length=128)
    content: str | dict[str, Any] | None = None
    format: Literal["json", "text", "base64"] | None = None


class ProjectsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        scope = self.get_query_argument("scope", "local")
        if scope not in ("local", "cloud"):
            raise ServiceError(400, "invalid_scope", "scope must be 'local' or 'cloud'")
        items = await self.service.list_projects(scope)  # type: ignore[arg-type]
        self.write_json({"items": items})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.parse(CreateProjectBody)
        project = await self.service.create_project(
            body.name, body.title, body.description, adopt=body.adopt
        )
        self.write_json(project, status=201)


class ProjectSettingsBody(_Body):
    conflict_policy: ConflictPolicy


class ProjectHandler(BaseHandler):
    @web.authenticated
    @authorized
    def get(self, project_id: str) -> None:
        self.write_json(self.service.get_project(project_id))

    @web.authenticated
    @authorized
    def patch(self, project_id: str) -> None:
        body = self.parse(ProjectSettingsBody)
        self.write_json(self.service.set_conflict_policy(project_id, body.conflict_policy))

    @web.authenticated
    @authorized
    async def delete(self, project_id: str) -> None:
        await self.service.delete_project(project_id)
        self.write_json(None, status=204)


class LinkHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str) -> None:
        body = self.parse(LinkBody, optional=True)
        self.write_json(await self.service.link(project_id, body.local_path), status=201)

    @web.authenticated
    @authorized
    def delete(self, project_id: str) -> None:
        self.service.unlink(project_id)
        self.write_json(None, status=204)


class SyncHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str) -> None:
        body = self.parse(SyncBody, optional=True)
        if body.max_delete_fraction is not None and body.max_deletes is not None:
            raise ServiceError(
                400, "invalid_body", "give max_delete_fraction or max_deletes, not both"
            )
        limits = {"max_delete_fraction": body.max_delete_fraction, "max_deletes": body.max_deletes}
        if body.dry_run:
            if body.confirm_deletes or body.restore_deletes:
                raise ServiceError(
                    400, "invalid_body", "a dry run changes nothing: it confirms nothing"
                )
            self.write_json(await self.service.preview(project_id, **limits))
            return
        job = self.service.sync(
            project_id,
            confirm_deletes=body.confirm_deletes,
            restore_deletes=body.restore_deletes,
            **limits,
        )
        self.write_json(job, status=202)


class FilesHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, project_id: str) -> None:
        self.write_json({"items": await self.service.files(project_id)})


class KeepCopyHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, project_id: str) -> None:
        body = self.parse(KeepCopyBody, limit=KEEP_COPY_MAX_BODY)
        content = None if body.content is None else document_bytes(body.content, body.format)
        conflict = await self.service.keep_copy(
            project_id, body.path, revision=body.revision, content=content
        )
        self.write_json(conflict, status=201)


class ConflictsHandler(BaseHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        project_id = self.get_query_argument("project_id", None)
        self.write_json({"items": self.service.conflicts(project_id)})


class ResolveConflictHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, conflict_id: str) -> None:
        body = self.parse(ResolveBody)
        self.write_json(await self.service.resolve_conflict(int(conflict_id), body.keep))


class JobsHandler(BaseHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.write_json({"items": self.service.jobs()})


class JobHandler(BaseHandler):
    @web.authenticated
    @authorized
    def delete(self, job_id: str) -> None:
        self.service.cancel_job(job_id)
        self.write_json(None, status=204)

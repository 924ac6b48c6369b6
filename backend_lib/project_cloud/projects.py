"""Projects: list, create, read, update, delete.

A project's ``head_seq`` counts its changes (gap-free, strictly increasing, incremented in
the write transaction); ``file_count`` and ``size_bytes`` are kept by the revision writer
(:mod:`.revisions`). Deleting a project deletes its whole history; its blobs stay until a
garbage collection.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import schemas
from .access import people, project_for, projects_changed
from .auth import Principal
from .core import Core
from .errors import Conflict
from .models import Checkpoint, Collaborator, FileHead, FileVersion, Project, User, utcnow
from .notify import Event
from .reads import check_limit, decode_page_token, encode_page_token


def project_out(s: Session, project: Project) -> schemas.CloudProject:
    owner = s.scalar(select(User.username).where(User.id == project.owner_id))
    return schemas.CloudProject(
        id=project.id,
        name=project.name,
        title=project.title,
        description=project.description,
        owner=owner or "",
        created_at=project.created_at,
        updated_at=project.updated_at,
        metadata=project.metadata_json,
        head_seq=project.head_seq,
        file_count=project.file_count,
        size_bytes=project.size_bytes,
    )


def list_projects(
    core: Core, principal: Principal, limit: int | None = None, page_token: str | None = None
) -> schemas.ProjectList:
    limit = check_limit(limit)
    shared = select(Collaborator.project_id).where(Collaborator.user_id == principal.user_id)
    stmt = select(Project).where(or_(Project.owner_id == principal.user_id, Project.id.in_(shared)))
    if page_token:
        name, pid = decode_page_token(page_token, (str, str))
        stmt = stmt.where(or_(Project.name > name, and_(Project.name == name, Project.id > pid)))
    stmt = stmt.order_by(Project.name, Project.id).limit(limit + 1)
    with core.reading() as s:
        rows = list(s.scalars(stmt))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [project_out(s, p) for p in rows]
    token = encode_page_token([rows[-1].name, rows[-1].id]) if more else None
    return schemas.ProjectList(items=items, next_page_token=token)


def create_project(
    core: Core, principal: Principal, req: schemas.ProjectCreate
) -> schemas.CloudProject:
    now = utcnow()
    try:
        with core.writing() as (s, events):
            taken = s.scalar(
                select(Project.id).where(
                    Project.owner_id == principal.user_id, Project.name == req.name
                )
            )
            if taken is not None:
                raise Conflict(f"you already have a project named {req.name!r}")
            project = Project(
                id=uuid.uuid4().hex,
                owner_id=principal.user_id,
                name=req.name,
                title=req.title if req.title is not None else req.name,
                description=req.description or "",
                metadata_json=req.metadata or {},
                created_at=now,
                updated_at=now,
                head_seq=0,
                file_count=0,
                size_bytes=0,
            )
            s.add(project)
            s.flush()
            projects_changed(s, events, project.id, [principal.username])
            created = project_out(s, project)
    except IntegrityError:
        raise Conflict(f"you already have a project named {req.name!r}") from None
    return created


def get_project(core: Core, principal: Principal, project_id: str) -> schemas.CloudProject:
    with core.reading() as s:
        return project_out(s, project_for(s, principal, project_id))


def update_project(
    core: Core, principal: Principal, project_id: str, req: schemas.ProjectUpdate
) -> schemas.CloudProject:
    with core.writing() as (s, events):
        project = project_for(s, principal, project_id, "write", lock=True)
        if req.title is not None:
            project.title = req.title
        if req.description is not None:
            project.description = req.description
        if req.metadata is not None:
            project.metadata_json = req.metadata
        project.updated_at = utcnow()
        s.flush()
        projects_changed(s, events, project_id)
        updated = project_out(s, project)
    return updated


def delete_project(core: Core, principal: Principal, project_id: str) -> None:
    """Delete a project and its whole history (owner only). Its blobs stay until a garbage
    collection."""
    with core.writing() as (s, events):
        project_for(s, principal, project_id, "owner", lock=True)
        told = people(s, project_id)  # before their rows go
        s.execute(delete(FileHead).where(FileHead.project_id == project_id))
        s.execute(delete(FileVersion).where(FileVersion.project_id == project_id))
        s.execute(delete(Checkpoint).where(Checkpoint.project_id == project_id))
        s.execute(delete(Collaborator).where(Collaborator.project_id == project_id))
        s.execute(delete(Project).where(Project.id == project_id))
        events.add(Event("deleted", project_id))
        projects_changed(s, events, project_id, told)

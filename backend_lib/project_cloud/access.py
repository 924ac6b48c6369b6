"""Who may do what: roles, the access check every call makes, and collaborators.

A user sees the projects they own or collaborate on; any other project id answers 404
``not_found`` exactly like a missing one. Read collaborators get 403 ``forbidden`` on
writes; only the owner may delete a project or manage collaborators. A change of who may
see a project is told to each user concerned (``projects_changed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import schemas
from .auth import Principal
from .core import Core, Outbox
from .errors import Conflict, Forbidden, NotFound
from .models import Collaborator, Project, User
from .notify import Event

AccessLevel = Literal["read", "write", "owner"]
_RANK = {"read": 1, "write": 2, "owner": 3}


def role(s: Session, principal: Principal, project: Project) -> AccessLevel | None:
    """The principal's role in ``project`` (None: none, the project is invisible)."""
    if project.owner_id == principal.user_id:
        return "owner"
    found = s.scalar(
        select(Collaborator.role).where(
            Collaborator.project_id == project.id,
            Collaborator.user_id == principal.user_id,
        )
    )
    return cast(AccessLevel | None, found)


def project_for(
    s: Session,
    principal: Principal,
    project_id: str,
    need: AccessLevel = "read",
    lock: bool = False,
) -> Project:
    """The project if ``principal`` has ``need`` access; 404 if invisible, 403 if the role
    is too weak. ``lock`` takes the row lock that serializes the project's writers (on
    SQLite the IMMEDIATE transaction already holds the database write lock)."""
    stmt = select(Project).where(Project.id == project_id)
    if lock:
        stmt = stmt.with_for_update()
    project = s.scalar(stmt)
    found = role(s, principal, project) if project is not None else None
    if project is None or found is None:
        raise NotFound(f"no project {project_id!r}")
    if _RANK[found] < _RANK[need]:
        what = "the owner" if need == "owner" else "a collaborator with write access"
        raise Forbidden(f"only {what} may do this")
    return project


def people(s: Session, project_id: str) -> list[str]:
    """The usernames of a project's owner and collaborators."""
    owner = select(User.username).join(Project, Project.owner_id == User.id)
    shared = select(User.username).join(Collaborator, Collaborator.user_id == User.id)
    return list(
        s.scalars(
            owner.where(Project.id == project_id).union(
                shared.where(Collaborator.project_id == project_id)
            )
        )
    )


def projects_changed(
    s: Session, events: Outbox, project_id: str, usernames: Iterable[str] | None = None
) -> None:
    """Tell each user whose project list changed (by default the project's owner and
    collaborators)."""
    for username in people(s, project_id) if usernames is None else usernames:
        events.add(Event("projects_changed", project_id, username=username))


def list_collaborators(
    core: Core, principal: Principal, project_id: str
) -> schemas.CollaboratorList:
    with core.reading() as s:
        project_for(s, principal, project_id)
        rows = s.execute(
            select(User.username, Collaborator.role)
            .join(Collaborator, Collaborator.user_id == User.id)
            .where(Collaborator.project_id == project_id)
            .order_by(User.username)
        ).all()
    return schemas.CollaboratorList(
        items=[schemas.Collaborator(username=u, role=cast(schemas.Role, r)) for u, r in rows]
    )


def set_collaborator(
    core: Core, principal: Principal, project_id: str, username: str, role: schemas.Role
) -> schemas.Collaborator:
    with core.writing() as (s, events):
        project = project_for(s, principal, project_id, "owner", lock=True)
        user_id = s.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound(f"no user {username!r}", "user_not_found")
        if user_id == project.owner_id:
            raise Conflict("the owner cannot also be a collaborator", "owner_is_collaborator")
        row = s.get(Collaborator, (project_id, user_id))
        if row is None:
            s.add(Collaborator(project_id=project_id, user_id=user_id, role=role))
        else:
            row.role = role
        projects_changed(s, events, project_id, [username])
    return schemas.Collaborator(username=username, role=role)


def remove_collaborator(core: Core, principal: Principal, project_id: str, username: str) -> None:
    with core.writing() as (s, events):
        project_for(s, principal, project_id, "owner", lock=True)
        user_id = s.scalar(select(User.id).where(User.username == username))
        row = s.get(Collaborator, (project_id, user_id)) if user_id is not None else None
        if row is None:
            raise NotFound(f"{username!r} is not a collaborator", "user_not_found")
        s.delete(row)
        events.add(Event("revoked", project_id, username=username))
        projects_changed(s, events, project_id, [username])


def visible_project_ids(core: Core, principal: Principal, ids: Iterable[str]) -> dict[str, int]:
    """Of ``ids``, those the user may see, with their head_seq."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    shared = select(Collaborator.project_id).where(Collaborator.user_id == principal.user_id)
    with core.reading() as s:
        rows = s.execute(
            select(Project.id, Project.head_seq).where(
                Project.id.in_(wanted),
                or_(Project.owner_id == principal.user_id, Project.id.in_(shared)),
            )
        ).all()
    return {pid: seq for pid, seq in rows}

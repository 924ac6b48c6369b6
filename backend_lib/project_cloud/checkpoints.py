"""Checkpoints: named seqs of a project, and restoring one.

A restore never rewrites history: it writes new revisions (puts and tombstones, through
the one revision writer) for every path whose content differs from what it was at the
checkpoint's seq, deletes first, so that no state in between has a path as a file and a
folder at once.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import schemas
from .access import project_for
from .auth import Principal
from .core import Core
from .errors import Conflict, NotFound, ServiceError
from .models import Checkpoint, FileHead, FileVersion, utcnow
from .notify import Event
from .projects import project_out
from .reads import mtime_ns
from .revisions import Write, record


def checkpoint_out(c: Checkpoint) -> schemas.Checkpoint:
    return schemas.Checkpoint(id=c.id, name=c.name, seq=c.seq, created_at=c.created_at)


def create_checkpoint(
    core: Core, principal: Principal, project_id: str, req: schemas.CheckpointCreate
) -> schemas.Checkpoint:
    try:
        with core.writing() as (s, _events):
            # the project's lock: a retention run (which also takes it) sees this checkpoint
            project = project_for(s, principal, project_id, "write", lock=True)
            seq = project.head_seq if req.seq is None else req.seq
            if seq > project.head_seq:
                raise Conflict(
                    f"seq {seq} is after the head_seq {project.head_seq}", "seq_after_head"
                )
            taken = s.scalar(
                select(Checkpoint.id).where(
                    Checkpoint.project_id == project_id, Checkpoint.name == req.name
                )
            )
            if taken is not None:
                raise Conflict(f"a checkpoint named {req.name!r} exists")
            cp = Checkpoint(
                id=uuid.uuid4().hex,
                project_id=project_id,
                name=req.name,
                seq=seq,
                created_at=utcnow(),
                created_by=principal.username,
            )
            s.add(cp)
            s.flush()
            return checkpoint_out(cp)
    except IntegrityError:
        raise Conflict(f"a checkpoint named {req.name!r} exists") from None


def list_checkpoints(core: Core, principal: Principal, project_id: str) -> schemas.CheckpointList:
    with core.reading() as s:
        project_for(s, principal, project_id)
        rows = s.scalars(
            select(Checkpoint)
            .where(Checkpoint.project_id == project_id)
            .order_by(Checkpoint.created_at.desc(), Checkpoint.seq.desc(), Checkpoint.id)
        )
        return schemas.CheckpointList(items=[checkpoint_out(c) for c in rows])


def _checkpoint(s: Session, project_id: str, checkpoint_id: str) -> Checkpoint:
    cp = s.get(Checkpoint, checkpoint_id)
    if cp is None or cp.project_id != project_id:
        raise NotFound(f"no checkpoint {checkpoint_id!r}")
    return cp


def get_checkpoint(
    core: Core, principal: Principal, project_id: str, checkpoint_id: str
) -> schemas.Checkpoint:
    with core.reading() as s:
        project_for(s, principal, project_id)
        return checkpoint_out(_checkpoint(s, project_id, checkpoint_id))


def delete_checkpoint(
    core: Core, principal: Principal, project_id: str, checkpoint_id: str
) -> None:
    with core.writing() as (s, _events):
        project_for(s, principal, project_id, "write")
        s.delete(_checkpoint(s, project_id, checkpoint_id))


def _state_at(s: Session, project_id: str, seq: int) -> dict[str, FileVersion]:
    """The last version of every path at ``seq``."""
    last = (
        select(FileVersion.path, func.max(FileVersion.seq).label("seq"))
        .where(FileVersion.project_id == project_id, FileVersion.seq <= seq)
        .group_by(FileVersion.path)
        .subquery()
    )
    rows = s.scalars(
        select(FileVersion).join(
            last,
            and_(
                FileVersion.project_id == project_id,
                FileVersion.path == last.c.path,
                FileVersion.seq == last.c.seq,
            ),
        )
    )
    return {v.path: v for v in rows}


def restore_checkpoint(
    core: Core, principal: Principal, project_id: str, checkpoint_id: str
) -> schemas.CloudProject:
    """Make the project's files what they were at the checkpoint, by writing new revisions
    (puts and tombstones) for every path that differs. History stays."""
    with core.writing() as (s, events):
        project = project_for(s, principal, project_id, "write", lock=True)
        cp = _checkpoint(s, project_id, checkpoint_id)
        target = _state_at(s, project_id, cp.seq)
        current: dict[str, FileVersion] = {
            h.path: v
            for h, v in s.execute(
                select(FileHead, FileVersion)
                .join(FileVersion, FileHead.version_id == FileVersion.id)
                .where(FileHead.project_id == project_id)
            ).tuples()
        }
        deletes: list[Write] = []
        puts: list[Write] = []
        for path in sorted(set(target) | set(current)):
            want, have = target.get(path), current.get(path)
            have_live = have is not None and not have.deleted
            if want is not None and not want.deleted:
                if not have_live or (have is not None and have.sha256 != want.sha256):
                    puts.append(Write(path, want.sha256, want.size, mtime_ns=mtime_ns(want)))
            elif have_live:
                deletes.append(Write(path))
        # Deletes first, so that no intermediate state has a path as file and folder.
        written = record(s, project, principal, [[w] for w in deletes + puts], core.blobs)
        failed = next((w for w in written if isinstance(w, ServiceError)), None)
        if failed is not None:
            raise failed
        s.flush()
        out = project_out(s, project)
        if written:
            events.add(Event("changed", project_id, project.head_seq))
    return out

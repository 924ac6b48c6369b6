"""Loading and saving the trees of one project in the local store.

Small query functions, one place: the engine never writes SQL elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..cloud.client import Change, FileVersion
from ..store.models import (
    Base,
    CloudCursor,
    LocalIndexEntry,
    RemoteEntry,
    SyncedEntry,
    utcnow,
)
from .trees import (
    BaseEntry,
    LocalFile,
    LocalTree,
    RemoteFile,
    RemoteTree,
    SyncedTree,
    is_safe_path,
)

# Trees are loaded as plain rows, not ORM objects: tens of thousands per plan.


def load_synced(session: Session, project_id: str) -> SyncedTree:
    rows = session.execute(
        select(
            SyncedEntry.path,
            SyncedEntry.sha256,
            SyncedEntry.revision,
            SyncedEntry.size,
            SyncedEntry.mtime_ns,
            SyncedEntry.inode,
        ).where(SyncedEntry.project_id == project_id)
    )
    return {row[0]: BaseEntry(*row) for row in rows}


def load_remote(session: Session, project_id: str) -> RemoteTree:
    rows = session.execute(
        select(RemoteEntry.path, RemoteEntry.revision, RemoteEntry.sha256, RemoteEntry.size).where(
            RemoteEntry.project_id == project_id
        )
    )
    return {row[0]: RemoteFile(*row) for row in rows}


def load_index(session: Session, project_id: str) -> LocalTree:
    rows = session.execute(
        select(
            LocalIndexEntry.path,
            LocalIndexEntry.sha256,
            LocalIndexEntry.size,
            LocalIndexEntry.mtime_ns,
            LocalIndexEntry.inode,
        ).where(LocalIndexEntry.project_id == project_id)
    )
    return {row[0]: LocalFile(*row) for row in rows}


def load_cursor(session: Session, project_id: str) -> int | None:
    row = session.get(CloudCursor, project_id)
    return None if row is None else row.seq


log = logging.getLogger(__name__)

# A file modified this recently may change again within the same timestamp tick without its
# (size, mtime, inode) changing ("racy git"); such entries are not trusted to the index, so
# the next scan hashes the file once more.
RACY_NS = 2_000_000_000


def _racy(entry: LocalFile) -> bool:
    return entry.mtime_ns >= time.time_ns() - RACY_NS


def save_index(session: Session, project_id: str, old: LocalTree, new: LocalTree) -> None:
    """Write only the difference between the previous index and the fresh scan."""
    gone = [path for path in old if path not in new or _racy(new[path])]
    if gone:
        session.execute(
            delete(LocalIndexEntry).where(
                LocalIndexEntry.project_id == project_id, LocalIndexEntry.path.in_(gone)
            )
        )
    for path, entry in new.items():
        if old.get(path) != entry:
            set_index(session, project_id, entry)


def set_index(session: Session, project_id: str, entry: LocalFile) -> None:
    """Remember a file's hash for its (size, mtime, inode), unless it is too fresh to trust."""
    if _racy(entry):
        drop_index(session, project_id, entry.path)
        return
    session.merge(
        LocalIndexEntry(
            project_id=project_id,
            path=entry.path,
            size=entry.size,
            mtime_ns=entry.mtime_ns,
            inode=entry.inode,
            sha256=entry.sha256,
        )
    )


def _drop(session: Session, model: type[Base], project_id: str, path: str) -> None:
    row = session.get(model, (project_id, path))
    if row is not None:
        session.delete(row)


def drop_index(session: Session, project_id: str, path: str) -> None:
    _drop(session, LocalIndexEntry, project_id, path)


def set_synced(session: Session, project_id: str, local: LocalFile, revision: str) -> None:
    session.merge(
        SyncedEntry(
            project_id=project_id,
            path=local.path,
            sha256=local.sha256,
            size=local.size,
            mtime_ns=local.mtime_ns,
            inode=local.inode,
            revision=revision,
            synced_at=utcnow(),
        )
    )


def drop_synced(session: Session, project_id: str, path: str) -> None:
    _drop(session, SyncedEntry, project_id, path)


def set_remote(session: Session, project_id: str, version: FileVersion | RemoteFile) -> None:
    assert version.sha256 is not None, "a deletion is not a remote file"
    session.merge(
        RemoteEntry(
            project_id=project_id,
            path=version.path,
            revision=version.revision,
            sha256=version.sha256,
            size=version.size,
        )
    )


def drop_remote(session: Session, project_id: str, path: str) -> None:
    _drop(session, RemoteEntry, project_id, path)


def replace_remote(
    session: Session, project_id: str, versions: Iterable[FileVersion], cursor: int
) -> None:
    """A full listing: the remote tree becomes exactly ``versions`` as of ``cursor``."""
    session.execute(delete(RemoteEntry).where(RemoteEntry.project_id == project_id))
    for version in versions:
        if not version.deleted and version.sha256 is not None and _safe(version.path):
            set_remote(session, project_id, version)
    set_cursor(session, project_id, cursor)


def _safe(path: str) -> bool:
    if is_safe_path(path):
        return True
    log.warning("project-filebrowser: ignoring the cloud path %r: it would leave the project", path)
    return False


def apply_changes(session: Session, project_id: str, changes: Iterable[Change]) -> None:
    for change in changes:
        if not _safe(change.path) or (change.from_path is not None and not _safe(change.from_path)):
            continue
        if change.op == "delete":
            drop_remote(session, project_id, change.path)
            continue
        if change.op == "move" and change.from_path:
            drop_remote(session, project_id, change.from_path)
        if change.revision is None or change.sha256 is None or change.size is None:
            continue
        set_remote(
            session,
            project_id,
            RemoteFile(change.path, change.revision, change.sha256, change.size),
        )


def set_cursor(session: Session, project_id: str, seq: int) -> None:
    row = session.get(CloudCursor, project_id)
    if row is None:
        session.add(CloudCursor(project_id=project_id, seq=seq))
    elif seq > row.seq:
        row.seq = seq

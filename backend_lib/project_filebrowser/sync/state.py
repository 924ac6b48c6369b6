"""Loading and saving the trees of one project in the local store.

Small query functions, one place: the engine never writes SQL elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from .. import settings as defaults
from ..remotes import Change, FileVersion
from ..store import raw
from ..store.models import (
    Base,
    CloudCursor,
    ConfirmedDelete,
    Conflict,
    LocalIndexEntry,
    LocalProjectRow,
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

# Trees are loaded as plain rows through Core (the ORM's row handling costs four times as
# much): tens of thousands per plan.


def _rows(session: Session, model: type[Base], project_id: str, *columns: str) -> list[Any]:
    table = model.__table__
    return (
        session.connection()
        .execute(
            select(*(table.c[name] for name in columns)).where(table.c.project_id == project_id)
        )
        .all()
    )  # fetchall: far cheaper than fetching row by row


def load_synced(session: Session, project_id: str) -> SyncedTree:
    rows = _rows(session, SyncedEntry, project_id, *raw.SYNCED_COLUMNS)
    return {row[0]: BaseEntry(*row) for row in rows}


def load_remote(session: Session, project_id: str) -> RemoteTree:
    rows = _rows(session, RemoteEntry, project_id, *raw.REMOTE_COLUMNS)
    return {row[0]: RemoteFile(*row) for row in rows}


def load_index(session: Session, project_id: str) -> LocalTree:
    rows = _rows(session, LocalIndexEntry, project_id, *raw.INDEX_COLUMNS)
    return {row[0]: LocalFile(*row) for row in rows}


def load_cursor(session: Session, project_id: str) -> int | None:
    row = session.get(CloudCursor, project_id)
    return None if row is None else row.seq


log = logging.getLogger(__name__)

# A file modified this recently may change again within the same timestamp tick without its
# (size, mtime, inode, ctime) changing ("racy git"); such entries are not trusted to the
# index, so the next scan hashes the file once more.
RACY_NS = 2_000_000_000


def _racy(entry: LocalFile) -> bool:
    return max(entry.mtime_ns, entry.ctime_ns) >= time.time_ns() - RACY_NS


# Writes are Core statements over many rows at once (a first sync records tens of thousands):
# an upsert is a delete of the paths followed by one executemany insert.
_CHUNK = 500


def _delete_paths(
    session: Session, model: type[Base], project_id: str, paths: Iterable[str]
) -> None:
    table = model.__table__
    wanted = list(dict.fromkeys(paths))
    for start in range(0, len(wanted), _CHUNK):
        session.execute(
            delete(table).where(
                table.c.project_id == project_id, table.c.path.in_(wanted[start : start + _CHUNK])
            )
        )


def _upsert(
    session: Session, model: type[Base], project_id: str, rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    last = {row["path"]: row for row in rows}  # the last word on a path wins
    _delete_paths(session, model, project_id, last)
    session.execute(
        insert(model.__table__), [{"project_id": project_id, **row} for row in last.values()]
    )


def save_index(session: Session, project_id: str, old: LocalTree, new: LocalTree) -> None:
    """Write only the difference between the previous index and the fresh scan."""
    _delete_paths(session, LocalIndexEntry, project_id, (path for path in old if path not in new))
    set_index_many(session, project_id, (e for path, e in new.items() if old.get(path) != e))


def set_index_many(session: Session, project_id: str, entries: Iterable[LocalFile]) -> None:
    """Remember files' hashes for their (size, mtime, inode, ctime), except those too fresh to
    trust (dropped, so that the next scan hashes them again)."""
    entries = list(entries)
    _delete_paths(session, LocalIndexEntry, project_id, (e.path for e in entries if _racy(e)))
    _upsert(
        session,
        LocalIndexEntry,
        project_id,
        [
            {
                "path": e.path,
                "size": e.size,
                "mtime_ns": e.mtime_ns,
                "inode": e.inode,
                "ctime_ns": e.ctime_ns,
                "sha256": e.sha256,
            }
            for e in entries
            if not _racy(e)
        ],
    )


def set_index(session: Session, project_id: str, entry: LocalFile) -> None:
    set_index_many(session, project_id, [entry])


def drop_index(session: Session, project_id: str, path: str) -> None:
    _delete_paths(session, LocalIndexEntry, project_id, [path])


def set_synced_many(
    session: Session, project_id: str, entries: Iterable[tuple[LocalFile, str]]
) -> None:
    """Record what both sides now agree on: ``(local file, cloud revision)`` pairs."""
    now = utcnow()
    _upsert(
        session,
        SyncedEntry,
        project_id,
        [
            {
                "path": local.path,
                "sha256": local.sha256,
                "size": local.size,
                "mtime_ns": local.mtime_ns,
                "inode": local.inode,
                "revision": revision,
                "synced_at": now,
            }
            for local, revision in entries
        ],
    )


def set_synced(session: Session, project_id: str, local: LocalFile, revision: str) -> None:
    set_synced_many(session, project_id, [(local, revision)])


def drop_synced(session: Session, project_id: str, path: str) -> None:
    _delete_paths(session, SyncedEntry, project_id, [path])


def set_remote_many(
    session: Session, project_id: str, versions: Iterable[FileVersion | RemoteFile]
) -> None:
    rows = []
    for version in versions:
        assert version.sha256 is not None, "a deletion is not a remote file"
        rows.append(
            {
                "path": version.path,
                "revision": version.revision,
                "sha256": version.sha256,
                "size": version.size,
            }
        )
    _upsert(session, RemoteEntry, project_id, rows)


def set_remote(session: Session, project_id: str, version: FileVersion | RemoteFile) -> None:
    set_remote_many(session, project_id, [version])


def drop_remote(session: Session, project_id: str, path: str) -> None:
    _delete_paths(session, RemoteEntry, project_id, [path])


def replace_remote(
    session: Session, project_id: str, versions: Iterable[FileVersion], cursor: int
) -> None:
    """A full listing: the remote tree becomes exactly ``versions`` as of ``cursor``."""
    session.execute(delete(RemoteEntry.__table__).where(RemoteEntry.project_id == project_id))
    set_remote_many(session, project_id, live_files(versions).values())
    set_cursor(session, project_id, cursor)


def live_files(versions: Iterable[FileVersion]) -> RemoteTree:
    """The remote tree of a full listing: its live files with paths inside the project."""
    return {
        v.path: RemoteFile(v.path, v.revision, v.sha256, v.size)
        for v in versions
        if not v.deleted and v.sha256 is not None and _safe(v.path)
    }


def _safe(path: str) -> bool:
    if is_safe_path(path):
        return True
    log.warning("project-filebrowser: ignoring the cloud path %r: it would leave the project", path)
    return False


def _effects(changes: Iterable[Change]) -> Iterator[tuple[str, RemoteFile | Change | None]]:
    """What a page of the change feed does to the remote tree, in seq order: ``(path, file)``
    puts a file at a path, ``(path, None)`` removes the path, ``(path, change)`` removes it
    by a delete a person confirmed past another replica's guard."""
    for change in changes:
        if not _safe(change.path) or (change.from_path is not None and not _safe(change.from_path)):
            continue
        if change.op == "delete" or (change.op == "move" and change.from_path):
            confirmed = change.op == "delete" and change.confirmed
            yield change.from_path or change.path, change if confirmed else None
            if change.op == "delete":
                continue
        if change.revision is None or change.sha256 is None or change.size is None:
            continue
        yield change.path, RemoteFile(change.path, change.revision, change.sha256, change.size)


def fold_changes(tree: RemoteTree, confirmed: dict[str, str], changes: Iterable[Change]) -> None:
    """Fold a page of the change feed into an in-memory remote tree and its confirmed
    deletes, path -> who (a dry run's)."""
    for path, effect in _effects(changes):
        confirmed.pop(path, None)
        if isinstance(effect, RemoteFile):
            tree[path] = effect
            continue
        tree.pop(path, None)
        if effect is not None:
            confirmed[path] = effect.modified_by


def apply_changes(session: Session, project_id: str, changes: Iterable[Change]) -> None:
    """Fold a page of the change feed into the stored remote tree and confirmed deletes, in
    seq order: runs of puts are written together; a removal ends the run."""
    puts: list[RemoteFile] = []
    touched: list[str] = []
    confirmed: dict[str, Change] = {}
    for path, effect in _effects(changes):
        touched.append(path)
        confirmed.pop(path, None)
        if isinstance(effect, RemoteFile):
            puts.append(effect)
            continue
        set_remote_many(session, project_id, puts)
        puts.clear()
        drop_remote(session, project_id, path)
        if effect is not None:
            confirmed[path] = effect
    set_remote_many(session, project_id, puts)
    _delete_paths(session, ConfirmedDelete, project_id, touched)
    _upsert(
        session,
        ConfirmedDelete,
        project_id,
        [
            {"path": path, "deleted_by": change.modified_by, "seq": change.seq}
            for path, change in confirmed.items()
        ],
    )


def load_conflict_policy(session: Session, project_id: str) -> str:
    row = session.get(LocalProjectRow, project_id)
    return row.conflict_policy if row is not None else defaults.CONFLICT_POLICY


def load_confirmed(session: Session, project_id: str) -> dict[str, str]:
    """The confirmed cloud deletes not yet applied here: path -> who deleted it."""
    rows = _rows(session, ConfirmedDelete, project_id, "path", "deleted_by")
    return {path: by for path, by in rows}


def drop_confirmed(session: Session, project_id: str, path: str) -> None:
    _delete_paths(session, ConfirmedDelete, project_id, [path])


def set_cursor(session: Session, project_id: str, seq: int) -> None:
    row = session.get(CloudCursor, project_id)
    if row is None:
        session.add(CloudCursor(project_id=project_id, seq=seq))
    elif seq > row.seq:
        row.seq = seq


def add_conflict(
    session: Session,
    project_id: str,
    path: str,
    conflict_path: str,
    *,
    local_sha256: str | None,
    remote_revision: str | None,
    reason: str | None = None,
    cells: list[dict[str, Any]] | None = None,
) -> int:
    """Record that both versions of ``path`` are kept, one as ``conflict_path``, with why
    they did not merge (``reason``, ``cells``); its id."""
    row = Conflict(
        project_id=project_id,
        path=path,
        conflict_path=conflict_path,
        local_sha256=local_sha256,
        remote_revision=remote_revision,
        reason=reason,
        cells=cells or [],
    )
    session.add(row)
    session.flush()
    return row.id

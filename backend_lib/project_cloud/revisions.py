"""The one writer of revisions: every put, delete, move and restore goes through
:func:`record`.

A *change* is what one ``seq`` holds: one :class:`Write` (a put or a delete) or two (a
move: the tombstone it leaves at the old path, then the file at the new one). For each
change, in order, :func:`record` checks every write against the path's head as this
transaction sees it and against the changes accepted before it:

* a tombstone needs a live file (404 ``not_found``);
* the write's preconditions (``If-Match`` / ``If-None-Match``, 412);
* a write that must not replace a live file (a move's target) finds none (412
  ``target_exists``);
* a path cannot be a file and a folder at once (409 ``path_conflict``): no parent of a new
  file is a live file, and a new file is not where live files are below.

A change that fails any check is returned as its error and changes nothing; the accepted
ones get the next seqs, their rows are written with set statements (not a round trip per
row), the paths' heads move only if they still are what was checked (else 412: a
concurrent writer won), and the project's ``head_seq``, ``file_count`` and ``size_bytes``
follow. The caller holds the project's lock and announces the change.
"""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import schemas
from .auth import Principal
from .blobs import BlobStore
from .errors import Conflict, NotFound, PreconditionFailed, ServiceError
from .gc import BlobGone, claim
from .models import FileHead, FileVersion, Project, utcnow
from .paths import parent_paths
from .reads import HeadRow, Preconditions, heads, ns

Op = Literal["put", "delete", "move", "moved"]

# Live files strictly below a folder (at most n of them): paths between "<folder>/" and
# "<folder>0" ('0' is the code point after '/'). One statement, compiled once: it runs for
# every new file.
_LIVE_BELOW = (
    select(FileHead.path)
    .where(
        FileHead.project_id == bindparam("pid"),
        FileHead.path > bindparam("lo"),
        FileHead.path < bindparam("hi"),
        FileHead.deleted.is_(False),
    )
    .limit(bindparam("n"))
)


def new_revision(seq: int) -> str:
    return f"{seq}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Write:
    """One path's new revision: content ``sha256`` (its bytes already stored) or, if None,
    a tombstone."""

    path: str
    sha256: str | None = None
    size: int = 0
    pre: Preconditions = field(default_factory=Preconditions)
    mtime_ns: int | None = None  # the client's; None: the server's time stands in
    op: Op | None = None  # None: "put", or "delete" for a tombstone
    confirmed: bool = False  # a tombstone a person confirmed past a delete guard
    from_path: str | None = None  # op "move": where the file was
    to_path: str | None = None  # op "moved": where the file went
    replace: bool = True  # False: a live file at the path refuses the write

    @property
    def deleted(self) -> bool:
        return self.sha256 is None


@dataclass(frozen=True)
class Written:
    """An accepted change: its seq and the versions it wrote, in order."""

    seq: int
    versions: list[schemas.FileVersion]
    created: bool  # its last write put a live file where there was none

    @property
    def version(self) -> schemas.FileVersion:
        return self.versions[-1]


def is_a_file(path: str) -> Conflict:
    return Conflict(f"{path!r} is a file, so it cannot be a folder", "path_conflict")


def is_a_folder(path: str, holds: str | None = None) -> Conflict:
    what = f" (it holds {holds!r})" if holds else ""
    return Conflict(f"{path!r} is a folder{what}, so it cannot be a file", "path_conflict")


class _Paths:
    """The file-or-folder state the checks see: the database's, plus the changes accepted
    so far in this call."""

    def __init__(self, s: Session, project_id: str, writes: list[Write]) -> None:
        self.s = s
        self.project_id = project_id
        parents = {p for w in writes if not w.deleted for p in parent_paths(w.path)}
        found = heads(s, project_id, parents | {w.path for w in writes})
        self.heads = {w.path: found[w.path] for w in writes if w.path in found}
        self.live = {path for path, head in found.items() if not head.deleted}
        self.gone: set[str] = set()  # live in the database, tombstoned by this call
        self.made: set[str] = set()  # folders the accepted files make
        self._gone_sorted: list[str] | None = []  # self.gone in order (None: to sort again)

    def _holds(self, folder: str) -> str | None:
        """A live file below ``folder``, if there is one ("" if it is one of this call's)."""
        if folder in self.made:
            return ""
        lo, hi = folder + "/", folder + "0"  # '0' is the code point after '/'
        if self._gone_sorted is None:
            self._gone_sorted = sorted(self.gone)
        skip = bisect.bisect_left(self._gone_sorted, hi) - bisect.bisect_left(self._gone_sorted, lo)
        params = {"pid": self.project_id, "lo": lo, "hi": hi, "n": skip + 1}
        below = self.s.connection().execute(_LIVE_BELOW, params).scalars()
        return next((p for p in below if p not in self.gone), None)

    def check(self, w: Write) -> None:
        head = self.heads.get(w.path)
        live = w.path in self.live
        if w.deleted and not live:
            raise NotFound(f"no file {w.path!r}")
        w.pre.check(head)
        if w.deleted:
            return
        if live and not w.replace:
            raise PreconditionFailed(f"a file exists at {w.path!r}", "target_exists")
        clash = next((p for p in parent_paths(w.path) if p in self.live), None)
        if clash is not None:
            raise is_a_file(clash)
        if not live:
            holds = self._holds(w.path)
            if holds is not None:
                raise is_a_folder(w.path, holds)

    def accept(self, change: Sequence[Write]) -> None:
        """Check the writes of one change in order and apply them to the state; on a
        failure, undo what the change applied and raise."""
        # a one-write change fails before it applies anything: nothing to keep for an undo
        saved = (set(self.live), set(self.gone), set(self.made)) if len(change) > 1 else None
        try:
            for w in change:
                self.check(w)
                if w.deleted:
                    self.live.discard(w.path)
                    self.gone.add(w.path)
                    self._gone_sorted = None
                else:
                    self.live.add(w.path)
                    self.made.update(parent_paths(w.path))
        except ServiceError:
            if saved is not None:
                self.live, self.gone, self.made = saved
                self._gone_sorted = None
            raise

    def live_before(self, path: str) -> bool:
        head = self.heads.get(path)
        return head is not None and not head.deleted


def record(
    s: Session,
    project: Project,
    principal: Principal,
    changes: Sequence[Sequence[Write]],
    blobs: BlobStore,
) -> list[Written | ServiceError]:
    """Check and write ``changes`` (see the module's docstring): one result per change, in
    order. No path may be written twice in one call. Raises :class:`.gc.BlobGone` (the
    caller's transaction must roll back) when a blob the writes refer to was collected:
    the check comes after the rows are inserted, which is what makes it safe against a
    concurrent garbage collection (:mod:`.gc`)."""
    writes = [w for change in changes for w in change]
    if len({w.path for w in writes}) != len(writes):
        raise ValueError("a path is written twice in one call")
    state = _Paths(s, project.id, writes)
    accepted: list[Sequence[Write]] = []
    errors: dict[int, ServiceError] = {}
    for index, change in enumerate(changes):
        try:
            state.accept(change)
        except ServiceError as exc:
            errors[index] = exc
            continue
        accepted.append(change)
    if not accepted:
        return [errors[i] for i in range(len(changes))]
    now = utcnow()
    first = project.head_seq + 1
    rows = [
        _row(project.id, first + n, w, principal, now)
        for n, change in enumerate(accepted)
        for w in change
    ]
    ids = s.scalars(
        insert(FileVersion).returning(FileVersion.id, sort_by_parameter_order=True), rows
    ).all()
    missing = claim(s, blobs, {row["sha256"] for row in rows if row["sha256"] is not None})
    if missing:
        raise BlobGone(missing)
    _move_heads(s, project.id, state.heads, rows, list(ids))
    project.head_seq = first + len(accepted) - 1
    project.updated_at = now
    for w in (w for change in accepted for w in change):
        old = state.heads.get(w.path)
        if old is not None and not old.deleted:
            project.file_count -= 1
            project.size_bytes -= old.size
        if not w.deleted:
            project.file_count += 1
            project.size_bytes += w.size
    done = iter(rows)
    seqs = iter(range(first, first + len(accepted)))
    results: list[Written | ServiceError] = []
    for index, change in enumerate(changes):
        if index in errors:
            results.append(errors[index])
            continue
        versions = [_version_out(next(done), now) for _w in change]
        last = change[-1]
        created = not last.deleted and not state.live_before(last.path)
        results.append(Written(next(seqs), versions, created))
    return results


def _row(project_id: str, seq: int, w: Write, principal: Principal, now: Any) -> dict[str, Any]:
    deleted = w.deleted
    return {
        "project_id": project_id,
        "seq": seq,
        "path": w.path,
        "op": w.op or ("delete" if deleted else "put"),
        "revision": new_revision(seq),
        "deleted": deleted,
        "sha256": w.sha256,
        "size": 0 if deleted else w.size,
        "modified_at": now,
        "modified_by": principal.username,
        "mtime_ns": None if deleted else w.mtime_ns,
        "from_path": w.from_path,
        "to_path": w.to_path,
        "confirmed": w.confirmed,
    }


def _version_out(row: dict[str, Any], now: Any) -> schemas.FileVersion:
    return schemas.FileVersion(
        path=row["path"],
        revision=row["revision"],
        sha256=row["sha256"],
        size=row["size"],
        modified_at=now,
        modified_by=row["modified_by"],
        deleted=row["deleted"],
        mtime_ns=row["mtime_ns"] if row["mtime_ns"] is not None else ns(now),
    )


def _move_heads(
    s: Session,
    project_id: str,
    old: dict[str, HeadRow],
    rows: list[dict[str, Any]],
    ids: list[int],
) -> None:
    """Point each path's head at its new row, but only if it still is the one checked."""
    fresh = [
        {
            "project_id": project_id,
            "path": r["path"],
            "version_id": vid,
            "revision": r["revision"],
            "deleted": r["deleted"],
        }
        for r, vid in zip(rows, ids, strict=True)
        if r["path"] not in old
    ]
    if fresh:
        try:
            with s.begin_nested():
                s.execute(insert(FileHead.__table__), fresh)
        except IntegrityError:
            what = repr(fresh[0]["path"]) if len(fresh) == 1 else "a path"
            raise PreconditionFailed(f"{what} was created concurrently") from None
    moved = [
        {
            "b_pid": project_id,
            "b_path": r["path"],
            "b_old": old[r["path"]].revision,
            "b_vid": vid,
            "b_rev": r["revision"],
            "b_deleted": r["deleted"],
        }
        for r, vid in zip(rows, ids, strict=True)
        if r["path"] in old
    ]
    if moved:
        table = FileHead.__table__
        result = s.execute(
            update(table)
            .where(
                table.c.project_id == bindparam("b_pid"),
                table.c.path == bindparam("b_path"),
                table.c.revision == bindparam("b_old"),
            )
            .values(
                version_id=bindparam("b_vid"),
                revision=bindparam("b_rev"),
                deleted=bindparam("b_deleted"),
            ),
            moved,
        )
        if result.rowcount not in (-1, len(moved)):  # type: ignore[attr-defined]
            what = repr(moved[0]["b_path"]) if len(moved) == 1 else "a path"
            raise PreconditionFailed(f"{what} was changed concurrently")

"""Reading files: listings, downloads, a path's history, the change feed; and what reads
and writes share - page tokens and limits, path checks, ETags and preconditions, the rows
of a path's head, the API shapes of a stored version.

* **Revisions** are opaque (today ``"<seq>-<12 hex>"``); clients compare them for equality
  only. A path's history follows it back through moves.
* **Preconditions.** ``If-Match`` (quoted or bare revisions, or ``*``) must name the path's
  current revision (a tombstone's revision counts: "I saw it deleted"); ``If-None-Match:
  *`` requires that no live file is at the path.
* **Page tokens** are opaque too: base64 of the sort key of the last item returned.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic_core import from_json
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import schemas
from .access import project_for
from .auth import Principal
from .blobs import PackEntry
from .core import Core, chunks
from .errors import InvalidPathError, InvalidRequest, NotFound, PreconditionFailed
from .models import FileHead, FileVersion
from .packs import packed
from .paths import InvalidPath, validate_path

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# --- page tokens, limits, paths -----------------------------------------------------------


def encode_page_token(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_page_token(token: str, types: tuple[type, ...]) -> list[Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        values = from_json(base64.urlsafe_b64decode(padded.encode("ascii")), allow_inf_nan=False)
    except (ValueError, binascii.Error, UnicodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != len(types)
        or not all(isinstance(v, t) for v, t in zip(values, types, strict=True))
    ):
        raise InvalidRequest("the page_token is not one this service issued", "invalid_page_token")
    return values


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def check_path(path: str) -> str:
    try:
        return validate_path(path)
    except InvalidPath as exc:
        raise InvalidPathError(f"invalid path: {exc}") from None


# --- ETags and preconditions --------------------------------------------------------------


def parse_etags(value: str | None) -> tuple[str, ...] | None:
    """``'"a", b, W/"c"'`` -> ``("a", "b", "W/c")``; ``"*"`` -> ``("*",)``; None -> None.
    Weak tags keep a ``W/`` prefix so they never match a (strong) revision."""
    if value is None:
        return None
    tags: list[str] = []
    for raw in value.split(","):
        tag = raw.strip()
        if not tag:
            continue
        weak = tag.startswith("W/")
        if weak:
            tag = tag[2:]
        if len(tag) >= 2 and tag[0] == '"' and tag[-1] == '"':
            tag = tag[1:-1]
        tags.append(("W/" + tag) if weak else tag)
    if not tags:
        raise InvalidRequest("an empty If-Match / If-None-Match header")
    return tuple(tags)


@dataclass(frozen=True, slots=True)
class HeadRow:
    """What a write needs of a path's head: its revision, whether it is a tombstone, and
    the size of the content it points to."""

    revision: str
    deleted: bool
    size: int


@dataclass(frozen=True)
class Preconditions:
    """Parsed ``If-Match`` / ``If-None-Match`` (None = header absent)."""

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None

    @classmethod
    def from_headers(cls, if_match: str | None, if_none_match: str | None) -> Preconditions:
        return cls(parse_etags(if_match), parse_etags(if_none_match))

    @property
    def empty(self) -> bool:
        return self.if_match is None and self.if_none_match is None

    def check(self, head: FileHead | HeadRow | None) -> None:
        """Raise :class:`PreconditionFailed` unless the head satisfies both headers."""
        live = head is not None and not head.deleted
        current = head.revision if head is not None else None
        if self.if_match is not None:
            if "*" in self.if_match:
                if not live:
                    raise PreconditionFailed("If-Match: * but there is no file at this path")
            elif current is None or current not in self.if_match:
                raise PreconditionFailed(
                    f"the path's revision is {current!r}, not the one in If-Match"
                    if current
                    else "If-Match given but the path has no revision"
                )
        if self.if_none_match is not None:
            if "*" in self.if_none_match:
                if live:
                    raise PreconditionFailed("If-None-Match: * but a file exists at this path")
            elif current is not None:
                bare = {t.removeprefix("W/") for t in self.if_none_match}
                if current in bare:
                    raise PreconditionFailed("the path's revision matches If-None-Match")


# --- rows and their API shapes ------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def ns(when: dt.datetime) -> int:
    """A time as integer nanoseconds since the epoch (exactly, no float)."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def mtime_ns(v: FileVersion) -> int:
    """The file's modification time: what the uploading client sent, else the server's."""
    return v.mtime_ns if v.mtime_ns is not None else ns(v.modified_at)


def version_out(v: FileVersion) -> schemas.FileVersion:
    return schemas.FileVersion(
        path=v.path,
        revision=v.revision,
        sha256=v.sha256,
        size=v.size,
        modified_at=v.modified_at,
        modified_by=v.modified_by,
        deleted=v.deleted,
        mtime_ns=mtime_ns(v),
    )


def change_out(v: FileVersion) -> schemas.Change:
    op: Literal["put", "delete", "move"] = v.op  # type: ignore[assignment]
    return schemas.Change(
        seq=v.seq,
        path=v.path,
        op=op,
        revision=v.revision,
        sha256=v.sha256,
        size=v.size,
        from_path=v.from_path,
        modified_by=v.modified_by,
        confirmed=bool(v.confirmed),
        mtime_ns=None if v.deleted else mtime_ns(v),
    )


@dataclass(frozen=True)
class StoredFile:
    """A file version plus where its bytes are."""

    version: schemas.FileVersion
    sha256: str
    packed: PackEntry | None = None  # None: a loose blob


def heads(s: Session, project_id: str, paths: Iterable[str]) -> dict[str, HeadRow]:
    """The head rows of ``paths`` (those that have one), with their content size."""
    found: dict[str, HeadRow] = {}
    for chunk in chunks(paths):
        rows = s.execute(
            select(FileHead.path, FileHead.revision, FileHead.deleted, FileVersion.size)
            .join(FileVersion, FileVersion.id == FileHead.version_id)
            .where(FileHead.project_id == project_id, FileHead.path.in_(chunk))
        )
        for path, revision, deleted, size in rows:
            found[path] = HeadRow(revision, deleted, 0 if deleted else size)
    return found


def history(s: Session, project_id: str, path: str) -> list[FileVersion]:
    """All versions at ``path`` plus, for each move into it, the moved file's earlier
    history; newest first."""
    seen: dict[int, FileVersion] = {}
    todo: list[tuple[str, int | None]] = [(path, None)]
    done: set[tuple[str, int | None]] = set()
    while todo:
        p, before = todo.pop()
        if (p, before) in done:
            continue
        done.add((p, before))
        stmt = select(FileVersion).where(
            FileVersion.project_id == project_id, FileVersion.path == p
        )
        if before is not None:
            stmt = stmt.where(FileVersion.seq < before)
        for v in s.scalars(stmt):
            if v.id in seen:
                continue
            seen[v.id] = v
            if v.op == "move" and v.from_path is not None:
                todo.append((v.from_path, v.seq))
    return sorted(seen.values(), key=lambda v: (v.seq, v.id), reverse=True)


# --- the reads ----------------------------------------------------------------------------


def list_files(
    core: Core,
    principal: Principal,
    project_id: str,
    prefix: str | None = None,
    limit: int | None = None,
    page_token: str | None = None,
    include_deleted: bool = False,
) -> schemas.FileList:
    """Current files in path order (code point order), optionally only those whose path
    starts with ``prefix`` (a plain string prefix)."""
    limit = check_limit(limit)
    if prefix is not None and ("\x00" in prefix or len(prefix) > 4096):
        raise InvalidPathError("invalid prefix")
    stmt = (
        select(FileVersion)
        .join(FileHead, FileHead.version_id == FileVersion.id)
        .where(FileHead.project_id == project_id)
    )
    if not include_deleted:
        stmt = stmt.where(FileHead.deleted.is_(False))
    if prefix:
        stmt = stmt.where(
            FileHead.path >= prefix,
            func.substr(FileHead.path, 1, len(prefix)) == prefix,
        )
    if page_token:
        (after,) = decode_page_token(page_token, (str,))
        stmt = stmt.where(FileHead.path > after)
    stmt = stmt.order_by(FileHead.path).limit(limit + 1)
    with core.reading() as s:
        project_for(s, principal, project_id)
        rows = list(s.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    token = encode_page_token([rows[-1].path]) if more else None
    return schemas.FileList(items=[version_out(v) for v in rows], next_page_token=token)


def get_file(
    core: Core, principal: Principal, project_id: str, path: str, revision: str | None = None
) -> StoredFile:
    """The current version of a path (or the given revision from its history)."""
    check_path(path)
    with core.reading() as s:
        project_for(s, principal, project_id)
        if revision is None:
            head = s.get(FileHead, (project_id, path))
            if head is None or head.deleted:
                raise NotFound(f"no file {path!r}")
            version = s.get(FileVersion, head.version_id)
            assert version is not None
        else:
            found = s.scalar(
                select(FileVersion).where(
                    FileVersion.project_id == project_id, FileVersion.revision == revision
                )
            )
            if found is None or (
                found.path != path and found.id not in {v.id for v in history(s, project_id, path)}
            ):
                raise NotFound(f"no revision {revision!r} of {path!r}")
            if found.deleted or found.sha256 is None:
                raise NotFound(f"revision {revision!r} of {path!r} is a deletion")
            version = found
        assert version.sha256 is not None
        where = packed(s, [version.sha256]).get(version.sha256)
        return StoredFile(version_out(version), version.sha256, where)


def revisions(core: Core, principal: Principal, project_id: str, path: str) -> schemas.RevisionList:
    check_path(path)
    with core.reading() as s:
        project_for(s, principal, project_id)
        found = history(s, project_id, path)
    if not found:
        raise NotFound(f"no file {path!r} was ever written")
    return schemas.RevisionList(items=[version_out(v) for v in found])


def lists_revisions(core: Core, principal: Principal, project_id: str, folder: str) -> bool:
    """Does an old client's ``GET files/{folder}/revisions`` (no ``?revision=``) mean the
    revision listing of ``folder`` rather than the file ``folder/revisions``? Only where
    that cannot hide the file: a live ``folder/revisions`` is always the file; a live file
    ``folder`` (which cannot also be a folder) is the listing; otherwise the path that was
    ever written wins, the file first."""
    path = f"{folder}/revisions"
    check_path(path)
    with core.reading() as s:
        project_for(s, principal, project_id)
        found = heads(s, project_id, [path, folder])
    file, parent = found.get(path), found.get(folder)
    if file is not None and not file.deleted:
        return False
    if parent is not None and not parent.deleted:
        return True
    return file is None and parent is not None


def changes(
    core: Core, principal: Principal, project_id: str, since: int = 0, limit: int | None = None
) -> schemas.ChangeList:
    """Changes with ``seq > since``, oldest first."""
    limit = check_limit(limit)
    if since < 0:
        raise InvalidRequest("since must be >= 0")
    with core.reading() as s:
        project = project_for(s, principal, project_id)
        rows = list(
            s.scalars(
                select(FileVersion)
                .where(
                    FileVersion.project_id == project_id,
                    FileVersion.seq > since,
                    FileVersion.op != "moved",
                )
                .order_by(FileVersion.seq)
                .limit(limit + 1)
            )
        )
        head_seq = project.head_seq
    more = len(rows) > limit
    rows = rows[:limit]
    return schemas.ChangeList(
        items=[change_out(v) for v in rows],
        next_since=rows[-1].seq if rows else since,
        has_more=more,
        head_seq=head_seq,
    )

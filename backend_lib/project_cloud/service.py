"""The Projects service: all business rules, no HTTP.

Methods are synchronous (SQLAlchemy sessions); the Tornado handlers run them in a thread
pool. Each method is one database transaction. Errors are :class:`ServiceError` subclasses
carrying the HTTP status and the contract's snake_case code.

Rules worth knowing:

* **Visibility.** A user sees projects they own or collaborate on; any other project id
  answers 404 ``not_found`` exactly like a missing one. Read collaborators get 403
  ``forbidden`` on writes; only the owner may delete a project or manage collaborators.
* **Revisions.** Every write of a path (put, delete, either side of a move, a restore)
  adds a row to ``file_versions`` with a new opaque ``revision`` (today ``"<seq>-<12 hex>"``;
  clients must only compare revisions for equality). Deletions are tombstones.
* **Preconditions.** ``If-Match`` (quoted or bare revisions, or ``*``) must name the
  path's current revision (a tombstone's revision counts: "I saw it deleted");
  ``If-None-Match: *`` requires that no live file is at the path. A PUT or DELETE with
  no precondition at all is last-writer-wins (the sync engine always sends one).
  Preconditions are checked inside the write transaction, after the project row is locked,
  and the head row is replaced by a conditional UPDATE; of two racing writers with the same
  precondition exactly one commits, the other gets 412.
* **Sequences.** ``projects.head_seq`` is incremented in the write transaction, so seqs are
  gap-free and strictly increasing per project; a move is one seq.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from pydantic_core import from_json
from sqlalchemy import Engine, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import schemas
from .blobs import BlobStore, PackEntry
from .db import read_session, write_session
from .errors import (
    Conflict,
    Forbidden,
    InvalidPathError,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    ServiceError,
    TooLarge,
    Unauthorized,
)
from .models import (
    Checkpoint,
    Collaborator,
    FileHead,
    FileVersion,
    PackedBlob,
    Project,
    Token,
    User,
    utcnow,
)
from .notify import Event, InProcessNotifier, Notifier, is_transactional
from .paths import InvalidPath, parent_paths, validate_path

DEFAULT_MAX_FILE_SIZE = 5 * 1024**3
MAX_BATCH_ITEMS = 1000
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
TOKEN_PREFIX = "pfc_"

# --- small value types --------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """An authenticated user."""

    user_id: int
    username: str


AccessLevel = Literal["read", "write", "owner"]
_RANK = {"read": 1, "write": 2, "owner": 3}


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

    def check(self, head: FileHead | _HeadRow | None) -> None:
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


@dataclass(frozen=True, slots=True)
class _HeadRow:
    """What a write needs of a path's head: its revision, whether it is a tombstone, and
    the size of the content it points to."""

    revision: str
    deleted: bool
    size: int


@dataclass(frozen=True, slots=True)
class _Put:
    """One new revision to record: its bytes are in the blob store already."""

    path: str
    sha256: str
    size: int
    pre: Preconditions
    mtime_ns: int | None = None  # as the client sent it


@dataclass(frozen=True)
class StoredFile:
    """A file version plus where its bytes are."""

    version: schemas.FileVersion
    sha256: str
    packed: PackEntry | None = None  # None: a loose blob


# --- helpers ------------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(digest, expected)


_DUMMY_HASH = hash_password(secrets.token_hex(8))


def _new_revision(seq: int) -> str:
    return f"{seq}-{secrets.token_hex(6)}"


def _encode_page_token(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_page_token(token: str, types: tuple[type, ...]) -> list[Any]:
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


def _check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def _check_path(path: str) -> str:
    try:
        return validate_path(path)
    except InvalidPath as exc:
        raise InvalidPathError(f"invalid path: {exc}") from None


def _ns(when: dt.datetime) -> int:
    """A time as integer nanoseconds since the epoch (exactly, no float)."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1) * 1000


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _mtime_ns(v: FileVersion) -> int:
    """The file's modification time: what the uploading client sent, else the server's."""
    return v.mtime_ns if v.mtime_ns is not None else _ns(v.modified_at)


def _version_out(v: FileVersion) -> schemas.FileVersion:
    return schemas.FileVersion(
        path=v.path,
        revision=v.revision,
        sha256=v.sha256,
        size=v.size,
        modified_at=v.modified_at,
        modified_by=v.modified_by,
        deleted=v.deleted,
        mtime_ns=_mtime_ns(v),
    )


def _change_out(v: FileVersion) -> schemas.Change:
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
        mtime_ns=None if v.deleted else _mtime_ns(v),
    )


# A live file strictly below a folder: paths between "<folder>/" and "<folder>0" ('0' is the
# code point after '/'), optionally other than one (the source of a move). One statement,
# compiled once: it runs for every new file.
_LIVE_BELOW = (
    select(FileHead.path)
    .where(
        FileHead.project_id == bindparam("pid"),
        FileHead.path > bindparam("lo"),
        FileHead.path < bindparam("hi"),
        FileHead.deleted.is_(False),
        FileHead.path != bindparam("ignore"),  # "" (no path is empty) ignores nothing
    )
    .limit(1)
)


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """The distinct values in sorted lists of at most ``size`` (for ``IN (...)``)."""
    wanted = sorted(set(values))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def _is_a_file(path: str) -> Conflict:
    return Conflict(f"{path!r} is a file, so it cannot be a folder", "path_conflict")


def _is_a_folder(path: str, holds: str | None = None) -> Conflict:
    what = f" (it holds {holds!r})" if holds else ""
    return Conflict(f"{path!r} is a folder{what}, so it cannot be a file", "path_conflict")


def _item_error(path: str, exc: ServiceError) -> schemas.BatchItemResult:
    return schemas.BatchItemResult(
        path=path, status=exc.status, error=schemas.ErrorDetail(code=exc.code, message=exc.message)
    )


def _checkpoint_out(c: Checkpoint) -> schemas.Checkpoint:
    return schemas.Checkpoint(id=c.id, name=c.name, seq=c.seq, created_at=c.created_at)


_USERNAME_RE = re.compile(schemas.USERNAME_PATTERN)


def write_token_file(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` readable by the owner only (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (token + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


# --- the service --------------------------------------------------------------------------


class CloudService:
    """The Projects service on a metadata DB (``engine``) and a blob store."""

    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore | None,
        notifier: Notifier | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    ) -> None:
        self.engine = engine
        self._blobs = blobs
        self.notifier: Notifier = notifier if notifier is not None else InProcessNotifier()
        self.max_file_size = max_file_size

    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            raise RuntimeError("this CloudService has no blob store")
        return self._blobs

    # ----- users and tokens -----

    def create_user(self, username: str, password: str | None = None) -> Principal:
        """Create a user (a random, unknown password if none is given)."""
        if not _USERNAME_RE.match(username):
            raise InvalidRequest(
                "a username is 1-64 letters, digits, '.', '_', '@', '-', starting with a "
                "letter or digit",
                "invalid_username",
            )
        pw_hash = hash_password(password if password is not None else secrets.token_urlsafe(24))
        try:
            with write_session(self.engine) as s:
                if s.scalar(select(User.id).where(User.username == username)) is not None:
                    raise Conflict(f"user {username!r} already exists")
                user = User(username=username, password_hash=pw_hash, created_at=utcnow())
                s.add(user)
                s.flush()
                return Principal(user.id, user.username)
        except IntegrityError:
            raise Conflict(f"user {username!r} already exists") from None

    def issue_token(self, username: str, label: str = "api") -> str:
        """A new API token for ``username`` (shown once; only its hash is stored)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with write_session(self.engine) as s:
            user_id = s.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                raise NotFound(f"no user {username!r}", "user_not_found")
            s.add(
                Token(
                    user_id=user_id,
                    token_hash=_hash_token(token),
                    label=label[:64],
                    created_at=utcnow(),
                )
            )
        return token

    def login(self, username: str, password: str) -> str:
        """Check a password and issue a token; 401 ``invalid_credentials`` otherwise."""
        with read_session(self.engine) as s:
            stored = s.scalar(select(User.password_hash).where(User.username == username))
        # Hash even for unknown users so that timing does not reveal which names exist.
        ok = verify_password(password, stored if stored is not None else _DUMMY_HASH)
        if stored is None or not ok:
            raise Unauthorized("wrong username or password", "invalid_credentials")
        return self.issue_token(username, label="login")

    def authenticate(self, token: str) -> Principal | None:
        """The user a token belongs to, or None."""
        if not token:
            return None
        with read_session(self.engine) as s:
            row = s.execute(
                select(User.id, User.username)
                .join(Token, Token.user_id == User.id)
                .where(Token.token_hash == _hash_token(token))
            ).first()
        return Principal(row[0], row[1]) if row is not None else None

    def revoke_token(self, token: str) -> bool:
        with write_session(self.engine) as s:
            result = s.execute(delete(Token).where(Token.token_hash == _hash_token(token)))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def ensure_user(self, username: str, token_file: Path | None = None) -> str:
        """Make sure ``username`` exists and return a token for it (embedded mode).

        With ``token_file``, the token is kept there (mode 0600) and reused while it is
        valid, so it is stable across restarts; without, every call issues a new token.
        """
        with contextlib.suppress(Conflict):
            self.create_user(username)
        if token_file is not None and token_file.exists():
            token = token_file.read_text(encoding="utf-8").strip()
            principal = self.authenticate(token)
            if principal is not None and principal.username == username:
                return token
        token = self.issue_token(username, label="embedded")
        if token_file is not None:
            write_token_file(token_file, token)
        return token

    # ----- access -----

    def _role(self, s: Session, principal: Principal, project: Project) -> AccessLevel | None:
        if project.owner_id == principal.user_id:
            return "owner"
        role = s.scalar(
            select(Collaborator.role).where(
                Collaborator.project_id == project.id,
                Collaborator.user_id == principal.user_id,
            )
        )
        return role  # type: ignore[return-value]

    def _project(
        self,
        s: Session,
        principal: Principal,
        project_id: str,
        need: AccessLevel = "read",
        lock: bool = False,
    ) -> Project:
        """The project if ``principal`` has ``need`` access; 404 if invisible, 403 if the
        role is too weak. ``lock`` takes the row lock that serializes the project's writers
        (on SQLite the IMMEDIATE transaction already holds the database write lock)."""
        stmt = select(Project).where(Project.id == project_id)
        if lock:
            stmt = stmt.with_for_update()
        project = s.scalar(stmt)
        role = self._role(s, principal, project) if project is not None else None
        if project is None or role is None:
            raise NotFound(f"no project {project_id!r}")
        if _RANK[role] < _RANK[need]:
            what = "the owner" if need == "owner" else "a collaborator with write access"
            raise Forbidden(f"only {what} may do this")
        return project

    def _project_out(self, s: Session, project: Project) -> schemas.CloudProject:
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

    def _announce(self, s: Session, event: Event) -> None:
        """Inside a write transaction, once its event is known: a transactional notifier
        (PostgreSQL ``NOTIFY``) queues the event on the transaction itself, so it goes out
        at commit and never for a rolled-back one."""
        if is_transactional(self.notifier):
            self.notifier.publish_in_transaction(s.connection(), event)  # type: ignore[attr-defined]

    def _publish(self, event: Event) -> None:
        """After the commit: in-process notifiers deliver now (transactional ones already
        sent the event with the commit)."""
        if not is_transactional(self.notifier):
            self.notifier.publish(event)

    def _projects_changed(
        self, s: Session, project_id: str, usernames: Iterable[str] | None = None
    ) -> list[Event]:
        """Inside a write transaction: tell each user whose project list changed (by
        default the project's owner and collaborators). Publish the events returned with
        :meth:`_publish` after the commit."""
        if usernames is None:
            usernames = self._people(s, project_id)
        events = [Event("projects_changed", project_id, username=u) for u in usernames]
        for event in events:
            self._announce(s, event)
        return events

    def _people(self, s: Session, project_id: str) -> list[str]:
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

    # ----- projects -----

    def list_projects(
        self, principal: Principal, limit: int | None = None, page_token: str | None = None
    ) -> schemas.ProjectList:
        limit = _check_limit(limit)
        shared = select(Collaborator.project_id).where(Collaborator.user_id == principal.user_id)
        stmt = select(Project).where(
            or_(Project.owner_id == principal.user_id, Project.id.in_(shared))
        )
        if page_token:
            name, pid = _decode_page_token(page_token, (str, str))
            stmt = stmt.where(
                or_(Project.name > name, and_(Project.name == name, Project.id > pid))
            )
        stmt = stmt.order_by(Project.name, Project.id).limit(limit + 1)
        with read_session(self.engine) as s:
            rows = list(s.scalars(stmt))
            more = len(rows) > limit
            rows = rows[:limit]
            items = [self._project_out(s, p) for p in rows]
        token = _encode_page_token([rows[-1].name, rows[-1].id]) if more else None
        return schemas.ProjectList(items=items, next_page_token=token)

    def create_project(
        self, principal: Principal, req: schemas.ProjectCreate
    ) -> schemas.CloudProject:
        now = utcnow()
        try:
            with write_session(self.engine) as s:
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
                events = self._projects_changed(s, project.id, [principal.username])
                created = self._project_out(s, project)
        except IntegrityError:
            raise Conflict(f"you already have a project named {req.name!r}") from None
        for event in events:
            self._publish(event)
        return created

    def get_project(self, principal: Principal, project_id: str) -> schemas.CloudProject:
        with read_session(self.engine) as s:
            return self._project_out(s, self._project(s, principal, project_id))

    def update_project(
        self, principal: Principal, project_id: str, req: schemas.ProjectUpdate
    ) -> schemas.CloudProject:
        with write_session(self.engine) as s:
            project = self._project(s, principal, project_id, "write", lock=True)
            if req.title is not None:
                project.title = req.title
            if req.description is not None:
                project.description = req.description
            if req.metadata is not None:
                project.metadata_json = req.metadata
            project.updated_at = utcnow()
            s.flush()
            events = self._projects_changed(s, project_id)
            updated = self._project_out(s, project)
        for event in events:
            self._publish(event)
        return updated

    def delete_project(self, principal: Principal, project_id: str) -> None:
        """Delete a project and its whole history (owner only). Its blobs stay until a
        garbage collection."""
        with write_session(self.engine) as s:
            self._project(s, principal, project_id, "owner", lock=True)
            people = self._people(s, project_id)  # before their rows go
            s.execute(delete(FileHead).where(FileHead.project_id == project_id))
            s.execute(delete(FileVersion).where(FileVersion.project_id == project_id))
            s.execute(delete(Checkpoint).where(Checkpoint.project_id == project_id))
            s.execute(delete(Collaborator).where(Collaborator.project_id == project_id))
            s.execute(delete(Project).where(Project.id == project_id))
            self._announce(s, Event("deleted", project_id))
            events = self._projects_changed(s, project_id, people)
        self._publish(Event("deleted", project_id))
        for event in events:
            self._publish(event)

    # ----- collaborators -----

    def list_collaborators(self, principal: Principal, project_id: str) -> schemas.CollaboratorList:
        with read_session(self.engine) as s:
            self._project(s, principal, project_id)
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
        self, principal: Principal, project_id: str, username: str, role: schemas.Role
    ) -> schemas.Collaborator:
        with write_session(self.engine) as s:
            project = self._project(s, principal, project_id, "owner", lock=True)
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
            events = self._projects_changed(s, project_id, [username])
        for event in events:
            self._publish(event)
        return schemas.Collaborator(username=username, role=role)

    def remove_collaborator(self, principal: Principal, project_id: str, username: str) -> None:
        with write_session(self.engine) as s:
            self._project(s, principal, project_id, "owner", lock=True)
            user_id = s.scalar(select(User.id).where(User.username == username))
            row = s.get(Collaborator, (project_id, user_id)) if user_id is not None else None
            if row is None:
                raise NotFound(f"{username!r} is not a collaborator", "user_not_found")
            s.delete(row)
            self._announce(s, Event("revoked", project_id, username=username))
            events = self._projects_changed(s, project_id, [username])
        self._publish(Event("revoked", project_id, username=username))
        for event in events:
            self._publish(event)

    # ----- files: reading -----

    def list_files(
        self,
        principal: Principal,
        project_id: str,
        prefix: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> schemas.FileList:
        """Current files in path order (code point order), optionally only those whose
        path starts with ``prefix`` (a plain string prefix)."""
        limit = _check_limit(limit)
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
            (after,) = _decode_page_token(page_token, (str,))
            stmt = stmt.where(FileHead.path > after)
        stmt = stmt.order_by(FileHead.path).limit(limit + 1)
        with read_session(self.engine) as s:
            self._project(s, principal, project_id)
            rows = list(s.scalars(stmt))
        more = len(rows) > limit
        rows = rows[:limit]
        token = _encode_page_token([rows[-1].path]) if more else None
        return schemas.FileList(items=[_version_out(v) for v in rows], next_page_token=token)

    def get_file(
        self, principal: Principal, project_id: str, path: str, revision: str | None = None
    ) -> StoredFile:
        """The current version of a path (or the given revision from its history)."""
        _check_path(path)
        with read_session(self.engine) as s:
            self._project(s, principal, project_id)
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
                    found.path != path
                    and found.id not in {v.id for v in self._history(s, project_id, path)}
                ):
                    raise NotFound(f"no revision {revision!r} of {path!r}")
                if found.deleted or found.sha256 is None:
                    raise NotFound(f"revision {revision!r} of {path!r} is a deletion")
                version = found
            assert version.sha256 is not None
            packed = self._packed(s, [version.sha256]).get(version.sha256)
            return StoredFile(_version_out(version), version.sha256, packed)

    def _history(self, s: Session, project_id: str, path: str) -> list[FileVersion]:
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

    def revisions(self, principal: Principal, project_id: str, path: str) -> schemas.RevisionList:
        _check_path(path)
        with read_session(self.engine) as s:
            self._project(s, principal, project_id)
            history = self._history(s, project_id, path)
        if not history:
            raise NotFound(f"no file {path!r} was ever written")
        return schemas.RevisionList(items=[_version_out(v) for v in history])

    def lists_revisions(self, principal: Principal, project_id: str, folder: str) -> bool:
        """Does an old client's ``GET files/{folder}/revisions`` (no ``?revision=``) mean
        the revision listing of ``folder`` rather than the file ``folder/revisions``? Only
        where that cannot hide the file: a live ``folder/revisions`` is always the file; a
        live file ``folder`` (which cannot also be a folder) is the listing; otherwise the
        path that was ever written wins, the file first."""
        path = f"{folder}/revisions"
        _check_path(path)
        with read_session(self.engine) as s:
            self._project(s, principal, project_id)
            heads = self._heads(s, project_id, [path, folder])
        file, parent = heads.get(path), heads.get(folder)
        if file is not None and not file.deleted:
            return False
        if parent is not None and not parent.deleted:
            return True
        return file is None and parent is not None

    def changes(
        self, principal: Principal, project_id: str, since: int = 0, limit: int | None = None
    ) -> schemas.ChangeList:
        """Changes with ``seq > since``, oldest first."""
        limit = _check_limit(limit)
        if since < 0:
            raise InvalidRequest("since must be >= 0")
        with read_session(self.engine) as s:
            project = self._project(s, principal, project_id)
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
            items=[_change_out(v) for v in rows],
            next_since=rows[-1].seq if rows else since,
            has_more=more,
            head_seq=head_seq,
        )

    # ----- files: writing -----

    def check_put(
        self, principal: Principal, project_id: str, path: str, pre: Preconditions
    ) -> None:
        """Early checks before an upload streams in (access, path, preconditions), so a
        doomed upload is refused before its bytes are sent. :meth:`put_file` checks again."""
        _check_path(path)
        with read_session(self.engine) as s:
            self._project(s, principal, project_id, "write")
            pre.check(s.get(FileHead, (project_id, path)))

    def _next_seq(self, project: Project) -> int:
        project.head_seq += 1
        project.updated_at = utcnow()
        return project.head_seq

    def _check_no_path_conflict(
        self, s: Session, project_id: str, path: str, ignore: str | None = None
    ) -> None:
        """A path cannot be a file and a folder at once."""
        parents = [p for p in parent_paths(path) if p != ignore]
        if parents:
            clash = s.scalar(
                select(FileHead.path).where(
                    FileHead.project_id == project_id,
                    FileHead.path.in_(parents),
                    FileHead.deleted.is_(False),
                )
            )
            if clash is not None:
                raise _is_a_file(clash)
        below = self._live_below(s, project_id, path, ignore)
        if below is not None:
            raise _is_a_folder(path, below)

    def _live_below(
        self, s: Session, project_id: str, folder: str, ignore: str | None = None
    ) -> str | None:
        """A live file strictly below ``folder`` (other than ``ignore``), if there is one."""
        params = {"pid": project_id, "lo": folder + "/", "hi": folder + "0", "ignore": ignore or ""}
        return s.connection().execute(_LIVE_BELOW, params).scalar()

    def _set_head(
        self, s: Session, project_id: str, path: str, old: FileHead | None, new: FileVersion
    ) -> None:
        """Point the path's head at ``new``, but only if it still is ``old``."""
        if old is None:
            try:
                with s.begin_nested():
                    s.add(
                        FileHead(
                            project_id=project_id,
                            path=path,
                            version_id=new.id,
                            revision=new.revision,
                            deleted=new.deleted,
                        )
                    )
            except IntegrityError:
                raise PreconditionFailed(f"{path!r} was created concurrently") from None
            return
        result = s.execute(
            update(FileHead)
            .where(
                FileHead.project_id == project_id,
                FileHead.path == path,
                FileHead.revision == old.revision,
            )
            .values(version_id=new.id, revision=new.revision, deleted=new.deleted)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PreconditionFailed(f"{path!r} was changed concurrently")

    def _add_version(self, s: Session, **values: Any) -> FileVersion:
        version = FileVersion(**values)
        s.add(version)
        s.flush()
        return version

    def _write(
        self,
        s: Session,
        project: Project,
        principal: Principal,
        path: str,
        head: FileHead | None,
        old: FileVersion | None,
        sha256: str | None,
        size: int = 0,
        *,
        confirmed: bool = False,
        mtime_ns: int | None = None,
    ) -> FileVersion:
        """Add a revision of ``path`` with the next seq - content ``sha256`` or, if None, a
        tombstone (``confirmed``: by a person, past a delete guard) - point the path's head
        at it (only if it still is ``head``), and keep the project's counters."""
        seq = self._next_seq(project)
        deleted = sha256 is None
        version = self._add_version(
            s,
            project_id=project.id,
            seq=seq,
            path=path,
            op="delete" if deleted else "put",
            revision=_new_revision(seq),
            deleted=deleted,
            sha256=sha256,
            size=0 if deleted else size,
            modified_at=utcnow(),
            modified_by=principal.username,
            confirmed=confirmed,
            mtime_ns=None if deleted else mtime_ns,
        )
        self._set_head(s, project.id, path, head, version)
        if old is not None and not old.deleted:
            project.file_count -= 1
            project.size_bytes -= old.size
        if not deleted:
            project.file_count += 1
            project.size_bytes += size
        return version

    def _head(
        self, s: Session, project_id: str, path: str
    ) -> tuple[FileHead | None, FileVersion | None]:
        head = s.get(FileHead, (project_id, path))
        old = s.get(FileVersion, head.version_id) if head is not None else None
        return head, old

    def put_file(
        self,
        principal: Principal,
        project_id: str,
        path: str,
        sha256: str,
        size: int,
        pre: Preconditions,
        mtime_ns: int | None = None,
    ) -> tuple[schemas.FileVersion, bool]:
        """Record a new revision of ``path`` whose bytes are already in the blob store,
        with the file's modification time as the client sent it (None: the server's).
        Returns the version and whether the path was created (no live file before)."""
        _check_path(path)
        if size > self.max_file_size:
            raise TooLarge(f"the file is larger than {self.max_file_size} bytes")
        if not self.blobs.exists(sha256):
            raise InvalidRequest("no blob with that SHA-256 was uploaded")
        with write_session(self.engine) as s:
            project = self._project(s, principal, project_id, "write", lock=True)
            [outcome] = self._record_puts(
                s, project, principal, [_Put(path, sha256, size, pre, mtime_ns)]
            )
            if isinstance(outcome, ServiceError):
                raise outcome
            seq = project.head_seq
            self._announce(s, Event("changed", project_id, seq))
        self._publish(Event("changed", project_id, seq))
        return outcome

    def put_batch(
        self,
        principal: Principal,
        project_id: str,
        items: list[schemas.BatchItem],
        payload: memoryview,
    ) -> schemas.BatchReply:
        """Many uploads in one call: ``payload`` holds the items' bytes one after another.
        Each file is checked and recorded exactly as :meth:`put_file` would (its own
        revision and seq; a file that fails - stale precondition, bad path, bytes that do
        not match its SHA-256 - fails alone and changes nothing), but the blobs are flushed
        once and the revisions committed in one transaction. A ``stored`` item brings no
        bytes: it reuses content this project already holds (:meth:`_held`)."""
        if len(items) > MAX_BATCH_ITEMS:
            raise InvalidRequest(f"a batch holds at most {MAX_BATCH_ITEMS} files", "invalid_batch")
        if sum(item.size for item in items if not item.stored) != len(payload):
            raise InvalidRequest(
                "the body's length does not match the sizes in the manifest", "invalid_batch"
            )
        if len({item.path for item in items}) != len(items):
            raise InvalidRequest("a path appears twice in the batch", "invalid_batch")
        with read_session(self.engine) as s:
            self._project(s, principal, project_id, "write")  # refuse before storing bytes
        failed: dict[int, ServiceError] = {}
        puts: list[tuple[int, _Put]] = []
        reused: list[tuple[int, _Put]] = []
        contents: list[tuple[str, memoryview]] = []
        offset = 0
        for index, item in enumerate(items):
            sent = 0 if item.stored else item.size  # a stored item has no part of the body
            data, offset = payload[offset : offset + sent], offset + sent
            try:
                _check_path(item.path)
                if item.size > self.max_file_size:
                    raise TooLarge(f"the file is larger than {self.max_file_size} bytes")
                pre = Preconditions.from_headers(item.if_match, item.if_none_match)
            except ServiceError as exc:
                failed[index] = exc
                continue
            put = _Put(item.path, item.sha256.lower(), item.size, pre, item.mtime_ns)
            if item.stored:
                reused.append((index, put))
            else:
                puts.append((index, put))
                contents.append((put.sha256, data))
        with read_session(self.engine) as s:
            known = self._packed(s, {sha256 for sha256, _data in contents})
            held = self._held(s, project_id, {put.sha256 for _index, put in reused})
        matched, packed = self.blobs.write_pack(contents, set(known))
        for (index, _put), good in zip(puts, matched, strict=True):
            if not good:
                failed[index] = InvalidRequest(
                    "the bytes' SHA-256 is not the one announced", "checksum_mismatch"
                )
        for index, put in reused:
            if held.get(put.sha256) != put.size:
                failed[index] = Conflict(
                    "this project holds no content with that SHA-256 and size; send the bytes",
                    "unknown_content",
                )
        puts = sorted((p for p in [*puts, *reused] if p[0] not in failed), key=lambda p: p[0])
        outcomes: dict[int, tuple[schemas.FileVersion, bool] | ServiceError] = dict(failed)
        seq = 0
        if puts:
            with write_session(self.engine) as s:
                project = self._project(s, principal, project_id, "write", lock=True)
                before = project.head_seq
                self._record_packed(s, packed)
                recorded = self._record_puts(s, project, principal, [put for _i, put in puts])
                outcomes.update(zip((index for index, _put in puts), recorded, strict=True))
                if project.head_seq != before:
                    seq = project.head_seq
                    self._announce(s, Event("changed", project_id, seq))
        if seq:
            self._publish(Event("changed", project_id, seq))
        results = []
        for index, item in enumerate(items):
            outcome = outcomes[index]
            if isinstance(outcome, ServiceError):
                results.append(_item_error(item.path, outcome))
            else:
                version, created = outcome
                results.append(
                    schemas.BatchItemResult(
                        path=item.path, status=201 if created else 200, version=version
                    )
                )
        return schemas.BatchReply(items=results)

    def _record_puts(
        self, s: Session, project: Project, principal: Principal, puts: list[_Put]
    ) -> list[tuple[schemas.FileVersion, bool] | ServiceError]:
        """Record new revisions of many paths (bytes already stored), in order, with set
        statements rather than a round trip per row. Each put is checked on its own -
        preconditions, then "a path cannot be a file and a folder at once" against the
        database and the puts before it - and a failed one is returned as its error and
        changes nothing. The caller holds the project lock."""
        pid = project.id
        heads = self._heads(s, pid, [put.path for put in puts])
        parents = {parent for put in puts for parent in parent_paths(put.path)}
        live = {path for path, head in self._heads(s, pid, parents).items() if not head.deleted}
        live.update(path for path, head in heads.items() if not head.deleted)
        # folders: those holding live files now, and those the accepted puts make
        folders = self._folders(s, pid, [put.path for put in puts if put.path not in live])
        outcomes: list[tuple[schemas.FileVersion, bool] | ServiceError | None] = []
        accepted: list[tuple[_Put, _HeadRow | None]] = []
        for put in puts:
            head = heads.get(put.path)
            try:
                put.pre.check(head)
                clash = next((p for p in parent_paths(put.path) if p in live), None)
                if clash is not None:
                    raise _is_a_file(clash)
                if put.path not in live and put.path in folders:
                    raise _is_a_folder(put.path)
            except ServiceError as exc:
                outcomes.append(exc)
                continue
            live.add(put.path)
            folders.update(parent_paths(put.path))
            accepted.append((put, head))
            outcomes.append(None)  # filled in below
        if not accepted:
            return [o for o in outcomes if o is not None]
        now = utcnow()
        first = project.head_seq + 1
        rows = [
            {
                "project_id": pid,
                "seq": first + n,
                "path": put.path,
                "op": "put",
                "revision": _new_revision(first + n),
                "deleted": False,
                "sha256": put.sha256,
                "size": put.size,
                "modified_at": now,
                "modified_by": principal.username,
                "mtime_ns": put.mtime_ns,
            }
            for n, (put, _head) in enumerate(accepted)
        ]
        ids = s.scalars(
            insert(FileVersion).returning(FileVersion.id, sort_by_parameter_order=True), rows
        ).all()
        fresh = [
            {
                "project_id": pid,
                "path": r["path"],
                "version_id": vid,
                "revision": r["revision"],
                "deleted": False,
            }
            for r, vid, (_put, head) in zip(rows, ids, accepted, strict=True)
            if head is None
        ]
        if fresh:
            try:
                with s.begin_nested():
                    s.execute(insert(FileHead.__table__), fresh)
            except IntegrityError:
                raise PreconditionFailed("a path was created concurrently") from None
        moved = [
            {
                "b_pid": pid,
                "b_path": r["path"],
                "b_old": head.revision,
                "b_vid": vid,
                "b_rev": r["revision"],
            }
            for r, vid, (_put, head) in zip(rows, ids, accepted, strict=True)
            if head is not None
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
                .values(version_id=bindparam("b_vid"), revision=bindparam("b_rev"), deleted=False),
                moved,
            )
            if result.rowcount not in (-1, len(moved)):  # type: ignore[attr-defined]
                raise PreconditionFailed("a path was changed concurrently")
        project.head_seq = first + len(accepted) - 1
        project.updated_at = now
        for put, head in accepted:
            if head is not None and not head.deleted:
                project.file_count -= 1
                project.size_bytes -= head.size
            project.file_count += 1
            project.size_bytes += put.size
        done = iter(zip(rows, accepted, strict=True))
        result: list[tuple[schemas.FileVersion, bool] | ServiceError] = []
        for outcome in outcomes:
            if outcome is not None:
                result.append(outcome)
                continue
            row, (_put, head) = next(done)
            version = schemas.FileVersion(
                path=row["path"],
                revision=row["revision"],
                sha256=row["sha256"],
                size=row["size"],
                modified_at=now,
                modified_by=principal.username,
                deleted=False,
                mtime_ns=row["mtime_ns"] if row["mtime_ns"] is not None else _ns(now),
            )
            result.append((version, head is None or head.deleted))
        return result

    def _held(self, s: Session, project_id: str, shas: Iterable[str]) -> dict[str, int]:
        """The size of each of these contents that a revision of this project (any path,
        history included) has, and whose bytes the blob store still holds: content a writer
        of the project could read anyway, so reusing it reveals nothing of other projects."""
        found: dict[str, int] = {}
        for chunk in _chunks(shas):
            rows = s.execute(
                select(FileVersion.sha256, FileVersion.size)
                .where(FileVersion.project_id == project_id, FileVersion.sha256.in_(chunk))
                .distinct()
            )
            found.update((str(sha256), int(size)) for sha256, size in rows)
        packed = self._packed(s, found)
        return {
            sha256: size
            for sha256, size in found.items()
            if sha256 in packed or self.blobs.exists(sha256)
        }

    def _packed(self, s: Session, shas: Iterable[str]) -> dict[str, PackEntry]:
        """Where the packed ones among these blobs are."""
        found: dict[str, PackEntry] = {}
        for chunk in _chunks(shas):
            rows = s.execute(
                select(
                    PackedBlob.sha256, PackedBlob.pack, PackedBlob.offset, PackedBlob.size
                ).where(PackedBlob.sha256.in_(chunk))
            )
            for sha256, pack, offset, size in rows:
                found[sha256] = PackEntry(sha256, pack, offset, size)
        return found

    def _record_packed(self, s: Session, entries: list[PackEntry]) -> None:
        """Record where newly packed blobs are; a blob another upload packed meanwhile keeps
        its first location."""
        if not entries:
            return
        dialect = s.get_bind().dialect.name
        dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        s.execute(
            dialect_insert(PackedBlob.__table__).on_conflict_do_nothing(),
            [
                {"sha256": e.sha256, "pack": e.pack, "offset": e.offset, "size": e.size}
                for e in entries
            ],
        )

    def _folders(self, s: Session, project_id: str, paths: list[str]) -> set[str]:
        """Those of ``paths`` that are folders: a live file is below them."""
        return {path for path in paths if self._live_below(s, project_id, path) is not None}

    def _heads(self, s: Session, project_id: str, paths: Iterable[str]) -> dict[str, _HeadRow]:
        """The head rows of ``paths`` (those that have one), with their content size."""
        found: dict[str, _HeadRow] = {}
        for chunk in _chunks(paths):
            rows = s.execute(
                select(FileHead.path, FileHead.revision, FileHead.deleted, FileVersion.size)
                .join(FileVersion, FileVersion.id == FileHead.version_id)
                .where(FileHead.project_id == project_id, FileHead.path.in_(chunk))
            )
            for path, revision, deleted, size in rows:
                found[path] = _HeadRow(revision, deleted, 0 if deleted else size)
        return found

    def delete_file(
        self,
        principal: Principal,
        project_id: str,
        path: str,
        pre: Preconditions,
        *,
        confirmed: bool = False,
    ) -> schemas.FileVersion:
        """Write a tombstone at ``path``; returns it. ``confirmed``: a person confirmed this
        delete past a replica's delete guard (the change says so, so that other replicas
        apply it without asking again)."""
        _check_path(path)
        with write_session(self.engine) as s:
            project = self._project(s, principal, project_id, "write", lock=True)
            head, old = self._head(s, project_id, path)
            if head is None or head.deleted:
                raise NotFound(f"no file {path!r}")
            pre.check(head)
            version = self._write(s, project, principal, path, head, old, None, confirmed=confirmed)
            out, seq = _version_out(version), version.seq
            self._announce(s, Event("changed", project_id, seq))
        self._publish(Event("changed", project_id, seq))
        return out

    def move_file(
        self,
        principal: Principal,
        project_id: str,
        from_path: str,
        to_path: str,
        if_match: str | None = None,
    ) -> schemas.FileVersion:
        """Move a file: one change (op ``move``); a tombstone stays at the old path and the
        new path's history continues the old one."""
        _check_path(from_path)
        _check_path(to_path)
        expected = parse_etags(if_match) if if_match is not None else None
        with write_session(self.engine) as s:
            project = self._project(s, principal, project_id, "write", lock=True)
            src = s.get(FileHead, (project_id, from_path))
            if src is None or src.deleted:
                raise NotFound(f"no file {from_path!r}")
            Preconditions(if_match=expected).check(src)
            if from_path == to_path:  # as rename(2) does: nothing moves, nothing changes
                current = s.get(FileVersion, src.version_id)
                assert current is not None
                return _version_out(current)
            dst = s.get(FileHead, (project_id, to_path))
            if dst is not None and not dst.deleted:
                raise PreconditionFailed(f"a file exists at {to_path!r}", "target_exists")
            self._check_no_path_conflict(s, project_id, to_path, ignore=from_path)
            old = s.get(FileVersion, src.version_id)
            assert old is not None
            seq = self._next_seq(project)
            now = utcnow()
            common = {"project_id": project_id, "seq": seq, "modified_at": now}
            tomb = self._add_version(
                s,
                **common,
                path=from_path,
                op="moved",
                revision=_new_revision(seq),
                deleted=True,
                sha256=None,
                size=0,
                modified_by=principal.username,
                to_path=to_path,
            )
            moved = self._add_version(
                s,
                **common,
                path=to_path,
                op="move",
                revision=_new_revision(seq),
                deleted=False,
                sha256=old.sha256,
                size=old.size,
                modified_by=principal.username,
                from_path=from_path,
                mtime_ns=_mtime_ns(old),  # a move keeps the file's mtime
            )
            self._set_head(s, project_id, from_path, src, tomb)
            self._set_head(s, project_id, to_path, dst, moved)
            out = _version_out(moved)
            self._announce(s, Event("changed", project_id, seq))
        self._publish(Event("changed", project_id, seq))
        return out

    # ----- checkpoints -----

    def create_checkpoint(
        self, principal: Principal, project_id: str, req: schemas.CheckpointCreate
    ) -> schemas.Checkpoint:
        try:
            with write_session(self.engine) as s:
                project = self._project(s, principal, project_id, "write")
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
                return _checkpoint_out(cp)
        except IntegrityError:
            raise Conflict(f"a checkpoint named {req.name!r} exists") from None

    def list_checkpoints(self, principal: Principal, project_id: str) -> schemas.CheckpointList:
        with read_session(self.engine) as s:
            self._project(s, principal, project_id)
            rows = s.scalars(
                select(Checkpoint)
                .where(Checkpoint.project_id == project_id)
                .order_by(Checkpoint.created_at.desc(), Checkpoint.seq.desc(), Checkpoint.id)
            )
            return schemas.CheckpointList(items=[_checkpoint_out(c) for c in rows])

    def _checkpoint(self, s: Session, project_id: str, checkpoint_id: str) -> Checkpoint:
        cp = s.get(Checkpoint, checkpoint_id)
        if cp is None or cp.project_id != project_id:
            raise NotFound(f"no checkpoint {checkpoint_id!r}")
        return cp

    def get_checkpoint(
        self, principal: Principal, project_id: str, checkpoint_id: str
    ) -> schemas.Checkpoint:
        with read_session(self.engine) as s:
            self._project(s, principal, project_id)
            return _checkpoint_out(self._checkpoint(s, project_id, checkpoint_id))

    def delete_checkpoint(self, principal: Principal, project_id: str, checkpoint_id: str) -> None:
        with write_session(self.engine) as s:
            self._project(s, principal, project_id, "write")
            s.delete(self._checkpoint(s, project_id, checkpoint_id))

    def _state_at(self, s: Session, project_id: str, seq: int) -> dict[str, FileVersion]:
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
        self, principal: Principal, project_id: str, checkpoint_id: str
    ) -> schemas.CloudProject:
        """Make the project's files what they were at the checkpoint, by writing new
        revisions (puts and tombstones) for every path that differs. History stays."""
        with write_session(self.engine) as s:
            project = self._project(s, principal, project_id, "write", lock=True)
            cp = self._checkpoint(s, project_id, checkpoint_id)
            target = self._state_at(s, project_id, cp.seq)
            heads: dict[str, tuple[FileHead | None, FileVersion | None]] = {
                h.path: (h, v)
                for h, v in s.execute(
                    select(FileHead, FileVersion)
                    .join(FileVersion, FileHead.version_id == FileVersion.id)
                    .where(FileHead.project_id == project_id)
                ).tuples()
            }
            deletes: list[str] = []
            puts: list[str] = []
            for path in sorted(set(target) | set(heads)):
                want = target.get(path)
                have = heads[path][1] if path in heads else None
                want_live = want is not None and not want.deleted
                have_live = have is not None and not have.deleted
                if want is not None and want_live:
                    if not have_live or (have is not None and have.sha256 != want.sha256):
                        puts.append(path)
                elif have_live:
                    deletes.append(path)
            last_seq = None
            # Deletes first, so that no intermediate state has a path as file and folder.
            for path in deletes + puts:
                head, old = heads.get(path, (None, None))
                want = target.get(path)
                sha256 = want.sha256 if want is not None and path in puts else None
                size = want.size if want is not None else 0
                mtime = _mtime_ns(want) if want is not None and sha256 is not None else None
                version = self._write(
                    s, project, principal, path, head, old, sha256, size, mtime_ns=mtime
                )
                last_seq = version.seq
            s.flush()
            out = self._project_out(s, project)
            if last_seq is not None:
                self._announce(s, Event("changed", project_id, last_seq))
        if last_seq is not None:
            self._publish(Event("changed", project_id, last_seq))
        return out

    # ----- maintenance -----

    def referenced_blobs(self) -> set[str]:
        with read_session(self.engine) as s:
            return set(
                s.scalars(
                    select(FileVersion.sha256).where(FileVersion.sha256.is_not(None)).distinct()
                )
            )

    def visible_project_ids(self, principal: Principal, ids: Iterable[str]) -> dict[str, int]:
        """Of ``ids``, those the user may see, with their head_seq."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        shared = select(Collaborator.project_id).where(Collaborator.user_id == principal.user_id)
        with read_session(self.engine) as s:
            rows = s.execute(
                select(Project.id, Project.head_seq).where(
                    Project.id.in_(wanted),
                    or_(Project.owner_id == principal.user_id, Project.id.in_(shared)),
                )
            ).all()
        return {pid: seq for pid, seq in rows}

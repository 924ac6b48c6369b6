"""Typed SQLAlchemy 2.0 models of the extension's local state.

One file, one obvious place: every table the extension keeps lives here, and the Alembic
migrations in the top-level ``alembic/`` folder must agree with it (a test checks that
autogenerate finds no difference).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..settings import CONFLICT_POLICY

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LocalProjectRow(Base):
    """A cloud project linked to a folder on this Jupyter server."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the cloud project id
    cloud_url: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(1024), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(255), default="")
    # Path of the folder, relative to the Jupyter server's root_dir (POSIX separators).
    local_path: Mapped[str] = mapped_column(String(4096), unique=True)
    # idle | syncing | paused | offline | error
    status: Mapped[str] = mapped_column(String(16), default="idle")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    paused_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # what a conflict becomes: keep-both (a conflict copy) | newer | local | remote
    conflict_policy: Mapped[str] = mapped_column(
        String(16), default=CONFLICT_POLICY, server_default=CONFLICT_POLICY
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SyncedEntry(Base):
    """The synced tree: what local and cloud last agreed on, one row per project path."""

    __tablename__ = "synced_entries"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(4096), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    inode: Mapped[int | None] = mapped_column(BigInteger, default=None)
    revision: Mapped[str] = mapped_column(String(128))  # the cloud revision of that content
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conflict(Base):
    """Both sides changed a path differently; both versions were kept."""

    __tablename__ = "conflicts"
    __table_args__ = (Index("ix_conflicts_project_resolved", "project_id", "resolved"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(4096))
    conflict_path: Mapped[str] = mapped_column(String(4096))
    local_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    remote_revision: Mapped[str | None] = mapped_column(String(128), default=None)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)  # local|remote|both
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # why no merge was clean (overlap | delete_edit | binary | unparsable | too_large; None:
    # none was tried) and the notebook cells that conflicted: [{"id", "index"}]
    reason: Mapped[str | None] = mapped_column(String(16), default=None)
    cells: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")


class Job(Base):
    """A unit of sync work with its progress, kept so the UI and the CLI can show it."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # sync | push | pull | link | ...
    # queued | running | done | failed | cancelled
    state: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    files_total: Mapped[int] = mapped_column(Integer, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    merged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CloudCursor(Base):
    """How far this replica has read a project's cloud change feed."""

    __tablename__ = "cloud_cursors"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LocalIndexEntry(Base):
    """The scanner's index of the local tree: a file whose size, mtime, inode and ctime are
    unchanged since it was hashed is not hashed again."""

    __tablename__ = "local_index"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(4096), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    inode: Mapped[int] = mapped_column(BigInteger)
    # 0 for rows written before migration 0006: they match no file, which is hashed again once
    ctime_ns: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    sha256: Mapped[str] = mapped_column(String(64))


class RemoteEntry(Base):
    """The remote tree as the change feed last described it; advanced together with the
    project's ``CloudCursor`` in one transaction."""

    __tablename__ = "remote_entries"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(4096), primary_key=True)
    revision: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


class ConfirmedDelete(Base):
    """A cloud delete that a person confirmed past another replica's delete guard (its
    change said ``confirmed``), not yet applied here: the guard does not ask again."""

    __tablename__ = "confirmed_deletes"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(4096), primary_key=True)
    deleted_by: Mapped[str] = mapped_column(String(255), default="")
    seq: Mapped[int] = mapped_column(BigInteger)


class CleanScan(Base):
    """A fingerprint of the last scan that found a project in sync: its files' paths, sizes,
    mtimes and inodes, the ignore rules and the cloud cursor it held for. A one-shot sync
    whose stat-only walk gives the same fingerprint has nothing to do
    (:mod:`..sync.quick`). Any write to the project's three trees deletes the row (SQLite
    triggers, migration 0004), so it never outlives the trees it vouches for."""

    __tablename__ = "clean_scans"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    cursor: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))


class PathFailure(Base):
    """A path whose last step failed for a reason of its own (the cloud refused that file, the
    disk refused that name): the rest of the project syncs on, and the path is tried again
    at ``next_attempt_at``, each failure waiting longer (:mod:`..sync.failures`)."""

    __tablename__ = "path_failures"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(4096), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    # what was tried: the local sha256 of an upload, the cloud revision of a download; a
    # path whose step changed since (the user fixed the file) is tried again at once
    tried: Mapped[str] = mapped_column(String(128), default="")
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)

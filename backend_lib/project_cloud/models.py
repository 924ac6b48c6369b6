"""SQLAlchemy 2.0 models of the Projects service's metadata database.

The file contents are not here: ``file_versions.sha256`` names a blob in the
content-addressed store (:mod:`project_cloud.blobs`).

* ``file_versions`` holds one row per revision of a path, tombstones included; rows are
  never updated or deleted (except when the whole project is deleted).
* ``file_heads`` holds one row per path that ever existed: the current revision. Writers
  replace it with a conditional UPDATE (``... WHERE revision = :expected``), which is what
  makes stale writes fail with 412 even across processes.
* ``projects.head_seq`` is the per-project change sequence. Every write transaction starts
  with ``UPDATE projects SET head_seq = head_seq + 1``: that row lock serializes writers of
  one project, and a rolled-back transaction gives its number back, so sequences are
  gap-free and strictly increasing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Paths sort and compare by code point everywhere: "C" collation on PostgreSQL; SQLite's
# default BINARY collation already compares UTF-8 bytes.
PathString = String(4096).with_variant(String(4096, collation="C"), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime, also on SQLite (which stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Token(Base):
    """An API token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_projects_owner_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text)
    metadata_json: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    head_seq: Mapped[int] = mapped_column(BigInteger)
    file_count: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class Collaborator(Base):
    __tablename__ = "collaborators"
    __table_args__ = (CheckConstraint("role IN ('read', 'write')", name="ck_collaborators_role"),)

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(8))


class FileVersion(Base):
    """One revision of one path. ``op`` is ``put``, ``delete``, ``move`` (the new path of a
    move; ``from_path`` set) or ``moved`` (the tombstone a move leaves at its old path;
    ``to_path`` set). A move is one change (one seq) with two rows; the change feed shows
    the ``move`` row only."""

    __tablename__ = "file_versions"
    __table_args__ = (
        UniqueConstraint("project_id", "revision", name="uq_file_versions_revision"),
        Index("ix_file_versions_project_seq", "project_id", "seq"),
        Index("ix_file_versions_project_path_seq", "project_id", "path", "seq"),
        Index("ix_file_versions_project_sha256", "project_id", "sha256"),
        CheckConstraint("op IN ('put', 'delete', 'move', 'moved')", name="ck_file_versions_op"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(PathString)
    op: Mapped[str] = mapped_column(String(8))
    revision: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    modified_by: Mapped[str] = mapped_column(String(64))
    # the file's modification time as the uploading client saw it (ns since the epoch);
    # None: the client sent none (or a deletion), modified_at stands in
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    from_path: Mapped[str | None] = mapped_column(PathString, nullable=True)
    to_path: Mapped[str | None] = mapped_column(PathString, nullable=True)
    # a tombstone a person confirmed past a replica's delete guard (DELETE ?confirmed=true)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FileHead(Base):
    """The current revision of a path (a tombstone if ``deleted``)."""

    __tablename__ = "file_heads"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(PathString, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("file_versions.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean)


class Checkpoint(Base):
    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_checkpoints_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(256))
    seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class PackedBlob(Base):
    """Where a small blob lives when it was stored in a pack (many blobs of one batch upload
    in one file of the blob store, written and flushed once). Blobs not listed here are
    loose, under ``sha256/``. Committed with the revisions that first used the blob."""

    __tablename__ = "packed_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    pack: Mapped[str] = mapped_column(String(64))
    offset: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)


class BlobMark(Base):
    """A blob the garbage collector found unreferenced (``marked_at``), and, once it removed
    the bytes, when (``gone_at``). A writer that refers to a marked blob checks, in its
    transaction, that the bytes are there and removes the mark (see :mod:`project_cloud.gc`).
    """

    __tablename__ = "blob_marks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    marked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    gone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

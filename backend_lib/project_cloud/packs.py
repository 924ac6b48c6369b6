"""Where blobs are, as the metadata DB knows it: small files packed together by a batch
upload (``packed_blobs``), content a project already holds (for uploads by reference), and
every blob a revision refers to (what a garbage collection must keep)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .blobs import BlobStore, PackEntry
from .core import Core, chunks
from .models import FileVersion, PackedBlob


def packed(s: Session, shas: Iterable[str]) -> dict[str, PackEntry]:
    """Where the packed ones among these blobs are."""
    found: dict[str, PackEntry] = {}
    for chunk in chunks(shas):
        rows = s.execute(
            select(PackedBlob.sha256, PackedBlob.pack, PackedBlob.offset, PackedBlob.size).where(
                PackedBlob.sha256.in_(chunk)
            )
        )
        for sha256, pack, offset, size in rows:
            found[sha256] = PackEntry(sha256, pack, offset, size)
    return found


def record_packed(s: Session, entries: list[PackEntry]) -> None:
    """Record where newly packed blobs are; a blob another upload packed meanwhile keeps
    its first location."""
    if not entries:
        return
    dialect = s.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    s.execute(
        dialect_insert(PackedBlob.__table__).on_conflict_do_nothing(),
        [{"sha256": e.sha256, "pack": e.pack, "offset": e.offset, "size": e.size} for e in entries],
    )


def held(s: Session, blobs: BlobStore, project_id: str, shas: Iterable[str]) -> dict[str, int]:
    """The size of each of these contents that a revision of this project (any path,
    history included) has, and whose bytes the blob store still holds: content a writer of
    the project could read anyway, so reusing it reveals nothing of other projects."""
    found: dict[str, int] = {}
    for chunk in chunks(shas):
        rows = s.execute(
            select(FileVersion.sha256, FileVersion.size)
            .where(FileVersion.project_id == project_id, FileVersion.sha256.in_(chunk))
            .distinct()
        )
        found.update((str(sha256), int(size)) for sha256, size in rows)
    where = packed(s, found)
    return {
        sha256: size for sha256, size in found.items() if sha256 in where or blobs.exists(sha256)
    }


def referenced_blobs(core: Core) -> set[str]:
    """Every blob a revision (of any project, history included) refers to."""
    with core.reading() as s:
        return set(
            s.scalars(select(FileVersion.sha256).where(FileVersion.sha256.is_not(None)).distinct())
        )

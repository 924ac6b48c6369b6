"""Retention and garbage collection: thin old revisions (:mod:`.retention`), then remove the
blobs no revision refers to any more.

One run (:func:`collect`) does, with an injectable ``now``:

1. **Retention**, project by project, each in one write transaction holding the project's
   row lock (the lock every writer, restore and checkpoint creation takes): the plan is
   computed from the rows that transaction sees and the dropped revisions' rows are deleted
   (heads and change rows of kept revisions are untouched; see :mod:`.retention` for why the
   change feed stays consistent).
2. **Mark**: every stored blob (loose under ``sha256/``, or packed) that no revision refers
   to gets a row in ``blob_marks`` (``marked_at = now``), unless it has one.
3. **Sweep**: marks at least ``grace`` old (default 60 min) whose blob is still
   unreferenced: the bytes are removed and the mark says ``gone_at``. In chunks, each one
   write transaction that on PostgreSQL first takes ``LOCK TABLE file_versions IN SHARE
   ROW EXCLUSIVE MODE`` (on SQLite a write transaction excludes every other writer anyway),
   re-reads the references inside it, and removes the bytes *before* it commits.
4. Pack files whose every entry was swept are removed, and so is a pack file no
   ``packed_blobs`` row names that is older than a day (a batch that died between writing
   its pack and committing), both under the same exclusion as a sweep; a batch checks,
   after inserting its rows, that its new pack is still there (else it writes it again).
   Packs with some live entries are kept whole (not rewritten).
5. Marks gone for more than ``GONE_MARK_DAYS`` are forgotten.

Why a concurrent upload by reference (or a PUT whose bytes were already stored, or a batch
that skipped bytes already packed) can never commit a revision whose blob is gone: every
writer goes through :func:`.revisions.record`, which, *after* inserting its revision rows
and in the same transaction, calls :func:`claim`: for each of its blobs that has a mark, it
checks that the bytes are there (a ``packed_blobs`` row, or the loose key) and removes the
mark; if they are not, the write is refused (409 ``unknown_content``: send the bytes).

* A sweep transaction G and a writer transaction W exclude each other from W's insert to
  its commit: on PostgreSQL, W's insert holds ROW EXCLUSIVE on ``file_versions``, which
  conflicts with G's SHARE ROW EXCLUSIVE; on SQLite both are write transactions.
* If W commits first, G (whose re-check runs after its lock, a fresh READ COMMITTED
  snapshot) sees W's reference and keeps the blob.
* If G commits first, G removed the bytes before committing and left a gone mark; W's
  claim (after G, by the exclusion) sees the mark, finds no bytes, and refuses.
* G removes nothing that has no mark, and a mark disappears only when a writer claimed it
  having seen the bytes under the exclusion (then W's reference exists before any later
  sweep looks), when a sweep sees the blob referenced, or when it has been gone for
  ``GONE_MARK_DAYS`` (30). That last one is the only assumption: no write request stalls
  for a month between finding its bytes stored and committing (requests live minutes).
* If G fails after removing bytes but before committing, the mark stays (not gone) and the
  bytes are missing: a claim checks the bytes for *any* mark, gone or not, so this too is
  refused, never committed.

The grace period is not what makes this safe; it makes refusals practically impossible: a
blob just uploaded, whose revision is about to commit, is unreferenced for a moment, and is
only swept if still unreferenced an hour after it was marked.

Counting: ``bytes_freed`` is the size of the loose blobs and whole pack files removed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .blobs import SHA256_RE, BlobStore, _mtime
from .core import Core, chunks
from .errors import Conflict
from .models import BlobMark, Checkpoint, FileHead, FileVersion, PackedBlob, Project, utcnow
from .retention import DEFAULT_KEEP_DAYS, Rev, revisions_to_keep

log = logging.getLogger(__name__)

DEFAULT_GRACE = dt.timedelta(minutes=60)
GONE_MARK_DAYS = 30
ORPHAN_PACK_AGE = dt.timedelta(days=1)
SWEEP_CHUNK = 200
DELETE_CHUNK = 500


@dataclass
class GcReport:
    """What one run removed (or, with ``dry_run``, would remove)."""

    dry_run: bool = False
    revisions: int = 0  # revision rows dropped by retention
    blobs: int = 0  # blobs removed (loose ones deleted, packed ones forgotten)
    packs: int = 0  # pack files removed
    bytes_freed: int = 0
    marked: int = 0  # blobs newly found unreferenced (removed by a run after the grace)
    unreferenced: int = 0  # blobs unreferenced after retention

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        text_ = (
            f"{verb} {self.revisions} revisions, {self.blobs} blobs, {self.packs} packs, "
            f"{self.bytes_freed} bytes freed"
        )
        if self.dry_run:
            return text_ + f"; {self.unreferenced} blobs unreferenced"
        return text_ + f"; {self.marked} blobs newly marked unreferenced"


# --- the writers' side ---------------------------------------------------------------------


class BlobGone(Conflict):
    """A write refers to content whose bytes the garbage collector removed: the client must
    send the bytes again (409 ``unknown_content``, as for content the project never held)."""

    def __init__(self, shas: set[str]) -> None:
        super().__init__(
            "the content with that SHA-256 is no longer stored; send the bytes",
            "unknown_content",
        )
        self.shas = shas


def claim(s: Session, blobs: BlobStore, shas: Iterable[str]) -> set[str]:
    """In a writer's transaction, after its revision rows are inserted: of these blobs, the
    marked ones whose bytes are missing (the write must be refused); the marks of the others
    are removed. See the module's docstring for why this is safe."""
    marked: set[str] = set()
    for chunk in chunks(shas):
        marked.update(s.scalars(select(BlobMark.sha256).where(BlobMark.sha256.in_(chunk))))
    if not marked:
        return set()
    where = _packed_shas(s, marked)
    missing = {sha for sha in marked if sha not in where and not blobs.exists(sha)}
    present = marked - missing
    for chunk in chunks(present):
        s.execute(delete(BlobMark).where(BlobMark.sha256.in_(chunk)))
    return missing


def _packed_shas(s: Session, shas: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(shas):
        found.update(s.scalars(select(PackedBlob.sha256).where(PackedBlob.sha256.in_(chunk))))
    return found


# --- retention -------------------------------------------------------------------------------


def _lock_project(s: Session, project_id: str) -> bool:
    return (
        s.scalar(select(Project.id).where(Project.id == project_id).with_for_update()) is not None
    )


def _plan(
    s: Session, project_id: str, now: dt.datetime, keep_days: int
) -> tuple[list[int], set[str]]:
    """The ids to drop and the blobs the kept revisions refer to."""
    rows = s.execute(
        select(
            FileVersion.id,
            FileVersion.path,
            FileVersion.seq,
            FileVersion.modified_at,
            FileVersion.deleted,
            FileVersion.sha256,
        ).where(FileVersion.project_id == project_id)
    ).all()
    revs = [Rev(int(i), p, int(q), at, bool(d)) for i, p, q, at, d, _sha in rows]
    heads = dict(
        s.execute(
            select(FileHead.path, FileHead.version_id).where(FileHead.project_id == project_id)
        ).all()
    )
    cps = s.scalars(select(Checkpoint.seq).where(Checkpoint.project_id == project_id))
    keep = revisions_to_keep(revs, heads, list(cps), now, keep_days)
    drop = [int(i) for i, *_rest in rows if i not in keep]
    kept_shas = {sha for i, _p, _q, _a, _d, sha in rows if i in keep and sha is not None}
    return drop, kept_shas


def apply_retention(
    core: Core, now: dt.datetime, keep_days: int, dry_run: bool = False
) -> tuple[int, set[str]]:
    """Drop the revisions the policy does not keep, project by project. Returns how many
    were (or would be) dropped and the blobs the kept revisions refer to."""
    with core.reading() as s:
        project_ids = list(s.scalars(select(Project.id).order_by(Project.id)))
    dropped = 0
    kept_shas: set[str] = set()
    for project_id in project_ids:
        if dry_run or keep_days <= 0:  # nothing to delete: no write transaction
            with core.reading() as s:
                drop, shas = _plan(s, project_id, now, keep_days)
        else:
            with core.writing() as (s, _events):
                if not _lock_project(s, project_id):
                    continue  # deleted meanwhile
                drop, shas = _plan(s, project_id, now, keep_days)
                for start in range(0, len(drop), DELETE_CHUNK):
                    ids = drop[start : start + DELETE_CHUNK]
                    s.execute(delete(FileVersion).where(FileVersion.id.in_(ids)))
        if drop:
            log.info(
                "retention: %s %d revisions of project %s",
                "would drop" if dry_run else "dropped",
                len(drop),
                project_id,
            )
        dropped += len(drop)
        kept_shas |= shas
    return dropped, kept_shas


# --- the blob store's side -----------------------------------------------------------------


def loose_blobs(blobs: BlobStore) -> dict[str, int]:
    """Every loose blob in the store and its size."""
    try:
        found = blobs.fs.find(f"{blobs.root}/sha256", detail=True)
    except FileNotFoundError:
        return {}
    out: dict[str, int] = {}
    for name, info in found.items():
        parts = str(name).rstrip("/").split("/")
        sha = parts[-2] + parts[-1] if len(parts) >= 2 else ""
        if SHA256_RE.match(sha):
            out[sha] = int(info.get("size") or 0)
    return out


def pack_files(blobs: BlobStore) -> dict[str, tuple[int, float | None]]:
    """Every pack file: its name, size and modification time."""
    try:
        found = blobs.fs.ls(f"{blobs.root}/packs", detail=True)
    except FileNotFoundError:
        return {}
    out: dict[str, tuple[int, float | None]] = {}
    for info in found:
        base = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
        if base.endswith(".pack") and info.get("type") != "directory":
            out[base[: -len(".pack")]] = (int(info.get("size") or 0), _mtime(info))
    return out


def _insert_ignore(s: Session) -> Any:
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def _mark(core: Core, unreferenced: set[str], now: dt.datetime) -> int:
    """Mark these blobs (those not marked yet; a gone mark of a blob stored again is marked
    afresh); returns how many were newly marked."""
    added = 0
    for chunk in chunks(unreferenced):
        with core.writing() as (s, _events):
            have = dict(
                s.execute(
                    select(BlobMark.sha256, BlobMark.gone_at).where(BlobMark.sha256.in_(chunk))
                ).all()
            )
            rows = [{"sha256": sha, "marked_at": now} for sha in chunk if sha not in have]
            if rows:
                s.execute(_insert_ignore(s)(BlobMark.__table__).on_conflict_do_nothing(), rows)
            again = sorted(sha for sha, gone_at in have.items() if gone_at is not None)
            if again:
                s.execute(
                    update(BlobMark)
                    .where(BlobMark.sha256.in_(again))
                    .values(marked_at=now, gone_at=None)
                )
            added += len(rows) + len(again)
    return added


def _exclude_writers(s: Session) -> None:
    """Keep writers out until this transaction ends (see the module's docstring)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("LOCK TABLE file_versions IN SHARE ROW EXCLUSIVE MODE"))


def _sweep(core: Core, now: dt.datetime, grace: dt.timedelta, report: GcReport) -> set[str]:
    """Remove the bytes of marks older than ``grace`` still unreferenced; returns the packs
    that lost entries."""
    blobs = core.blobs
    cutoff = now - grace
    touched_packs: set[str] = set()
    after = ""
    while True:
        with core.writing() as (s, _events):
            _exclude_writers(s)
            due = list(
                s.scalars(
                    select(BlobMark.sha256)
                    .where(
                        BlobMark.gone_at.is_(None),
                        BlobMark.marked_at <= cutoff,
                        BlobMark.sha256 > after,
                    )
                    .order_by(BlobMark.sha256)
                    .limit(SWEEP_CHUNK)
                )
            )
            if not due:
                return touched_packs
            after = due[-1]
            used = set(
                s.scalars(select(FileVersion.sha256).where(FileVersion.sha256.in_(due)).distinct())
            )
            if used:
                s.execute(delete(BlobMark).where(BlobMark.sha256.in_(sorted(used))))
            gone = [sha for sha in due if sha not in used]
            if not gone:
                continue
            packs = dict(
                s.execute(
                    select(PackedBlob.sha256, PackedBlob.pack).where(PackedBlob.sha256.in_(gone))
                ).all()
            )
            for sha in gone:  # the bytes go before the commit (see the module's docstring)
                if blobs.exists(sha):
                    report.bytes_freed += blobs.size(sha)
                    blobs.delete(sha)
                report.blobs += 1
            touched_packs.update(packs.values())
            if packs:
                s.execute(delete(PackedBlob).where(PackedBlob.sha256.in_(sorted(packs))))
            s.execute(update(BlobMark).where(BlobMark.sha256.in_(gone)).values(gone_at=now))


def _drop_packs(core: Core, touched: set[str], report: GcReport) -> None:
    """Remove pack files no ``packed_blobs`` row names: those this run emptied, and orphans
    whose file is older than ``ORPHAN_PACK_AGE`` (by the store's clock: a pack's age is
    real time, whatever ``now`` a run is given). Inside a transaction that excludes writers,
    like a sweep: a batch checks that its new pack still exists after inserting its rows
    (:func:`.writes.put_batch`), so a pack removed here is never left named."""
    files = pack_files(core.blobs)
    old = time.time() - ORPHAN_PACK_AGE.total_seconds()
    candidates = {
        name
        for name, (_size, mtime) in files.items()
        if name in touched or (mtime is not None and mtime <= old)
    }
    if not candidates:
        return
    with core.writing() as (s, _events):
        _exclude_writers(s)
        named = set(
            s.scalars(select(PackedBlob.pack).where(PackedBlob.pack.in_(sorted(candidates))))
        )
        for name in sorted(candidates - named):
            try:
                core.blobs.fs.rm(core.blobs.pack_key(name))
            except (FileNotFoundError, ValueError):
                continue
            report.packs += 1
            report.bytes_freed += files[name][0]


def collect(
    core: Core,
    *,
    now: dt.datetime | None = None,
    keep_days: int = DEFAULT_KEEP_DAYS,
    grace: dt.timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
) -> GcReport:
    """One run of retention and garbage collection (see the module's docstring)."""
    now = now if now is not None else utcnow()
    report = GcReport(dry_run=dry_run)
    report.revisions, kept_shas = apply_retention(core, now, keep_days, dry_run)
    loose = loose_blobs(core.blobs)
    with core.reading() as s:
        packed_rows = dict(s.execute(select(PackedBlob.sha256, PackedBlob.size)).all())
        if not dry_run:
            kept_shas = set(
                s.scalars(
                    select(FileVersion.sha256).where(FileVersion.sha256.is_not(None)).distinct()
                )
            )
    stored = set(loose) | set(packed_rows)
    unreferenced = stored - kept_shas
    report.unreferenced = len(unreferenced)
    if dry_run:
        with core.reading() as s:
            due = set(
                s.scalars(
                    select(BlobMark.sha256).where(
                        BlobMark.gone_at.is_(None), BlobMark.marked_at <= now - grace
                    )
                )
            )
        for sha in unreferenced & due:
            report.blobs += 1
            report.bytes_freed += loose.get(sha, 0)
        log.info("gc (dry run): %s", report.summary())
        return report
    report.marked = _mark(core, unreferenced, now)
    touched = _sweep(core, now, grace, report)
    _drop_packs(core, touched, report)
    with core.writing() as (s, _events):
        s.execute(
            delete(BlobMark).where(
                BlobMark.gone_at.is_not(None),
                BlobMark.gone_at <= now - dt.timedelta(days=GONE_MARK_DAYS),
            )
        )
    log.info("gc: %s", report.summary())
    return report

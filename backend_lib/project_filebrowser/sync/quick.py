"""The no-op check of a one-shot ``project-filebrowser sync``.

Most syncs of a quiet project find nothing to do. This module decides that with the engine's
own scanner and planner, but without starting the sync service: no SQLAlchemy, no HTTP
client, no job queue - the standard library's ``sqlite3`` reads the three trees (with the SQL
of :mod:`..store.raw`, beside the models and tested against them) and ``urllib`` asks the
cloud whether anything changed, with the client's own route and headers
(:mod:`..cloud.routes`, the documented subset of the client the fast path shares). So a
sync with nothing to do returns in a fraction of a second, and any sync with something to
do runs exactly as before.

It only ever answers "nothing to do" (the project's ``last_synced_at`` is then updated, as
a sync would) or "don't know", and every doubt is "don't know": a change on either side, a
file the index cannot vouch for, an engine temp file to clean up, a project that is paused,
failing or being synced by another process, a DB that is not a plain SQLite file at the
head revision, a cloud that does not answer. The full sync then takes over.

A check that finds a project clean records a fingerprint of its scan (``clean_scans``). The
next check that finds the cloud cursor unchanged and the same fingerprint from a stat-only
walk (no index, no trees, no plan) knows the plan would be the same empty one: everything
that plan reads is either in the fingerprint or in the trees, and every write to the trees
deletes the fingerprint (SQLite triggers).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .._version import __version__
from ..cloud import routes
from ..store import raw
from ..store.location import HEAD_REVISION, plain_sqlite_file, sqlite_revision
from .ignore import TEMP_SUFFIX, IgnoreRules
from .lock import ProjectLock, lock_dir_for
from .planner import plan
from .scanner import ScanResult, scan, stat_scan
from .trees import BaseEntry, LocalFile, RemoteFile

REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Linked:
    id: str
    name: str
    folder: Path
    cursor: int


def up_to_date(
    db_url: str, root_dir: Path, cloud_url: str, token: str, ref: str | None
) -> list[str] | None:
    """The names of the projects (``ref``: one, by id or name; None: every linked one) if
    each is certainly in sync with the cloud at ``cloud_url``; None if a full sync must
    decide."""
    db_file = plain_sqlite_file(db_url)
    if db_file is None or sqlite_revision(db_file) != HEAD_REVISION:
        return None
    try:
        with contextlib.closing(sqlite3.connect(db_file, timeout=5, isolation_level=None)) as db:
            projects = _linked(db, root_dir, cloud_url, ref)
            if not projects:
                return None
            for project in projects:
                lock = ProjectLock(lock_dir_for(db_file, root_dir), project.id)
                if not lock.try_acquire():
                    return None  # another process is syncing it: the full sync waits
                try:
                    if not _remote_unchanged(cloud_url, token, project) or not _local_clean(
                        db, project
                    ):
                        return None
                finally:
                    lock.release()
        _record_synced(db_file, [p.id for p in projects])
    except (sqlite3.Error, OSError):
        return None
    return [p.name for p in projects]


def _linked(
    db: sqlite3.Connection, root_dir: Path, cloud_url: str, ref: str | None
) -> list[Linked]:
    rows = raw.linked(db)
    if ref is not None:
        rows = [row for row in rows if ref in (row[0], row[1])]
        if len(rows) != 1:
            return []
    linked = []
    for pid, name, local_path, status, url, cursor in rows:
        if status != "idle" or url.rstrip("/") != cloud_url.rstrip("/") or cursor is None:
            return []
        linked.append(Linked(pid, name, root_dir / local_path, int(cursor)))
    return linked


def _remote_unchanged(cloud_url: str, token: str, project: Linked) -> bool:
    """The cloud has no change after our cursor (one request)."""
    request = urllib.request.Request(
        routes.changes_url(cloud_url, project.id, since=project.cursor, limit=1),
        headers={**routes.auth_headers(token), "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as reply:
            page = json.loads(reply.read())
    except (OSError, ValueError):
        return False
    return page.get("items") == [] and page.get("head_seq") == project.cursor


def _local_clean(db: sqlite3.Connection, project: Linked) -> bool:
    """Nothing to do locally: either a stat-only walk of the folder matches the fingerprint
    of a clean scan recorded at this cursor (no tree written since: the triggers of
    migration 0004 would have deleted it), or a scan and plan exactly as a sync would do
    them find nothing to do, nothing to re-hash and nothing to tidy up (and record one)."""
    if not project.folder.is_dir():
        return False
    rules = IgnoreRules.for_project(project.folder)
    mark = raw.clean_scan(db, project.id)
    if mark is not None:
        walked = stat_scan(project.folder, rules)
        if mark == fingerprint(project.folder, rules, walked):
            return True
    return _scan_and_plan(db, project, rules)


def _scan_and_plan(db: sqlite3.Connection, project: Linked, rules: IgnoreRules) -> bool:
    db.execute("BEGIN")  # one snapshot of the three trees, and the clean scan recorded in it
    try:
        synced = {r[0]: BaseEntry(*r) for r in raw.tree_rows(db, "synced_entries", project.id)}
        remote = {r[0]: RemoteFile(*r) for r in raw.tree_rows(db, "remote_entries", project.id)}
        index = {r[0]: LocalFile(*r) for r in raw.tree_rows(db, "local_index", project.id)}
        cursor = raw.cursor(db, project.id)
        scanned = scan(project.folder, index=index.get, rules=rules)
        clean = (
            cursor == project.cursor
            and not scanned.hashed
            and scanned.tree == index
            and not any(path.endswith(TEMP_SUFFIX) for path in scanned.ignored)
            and not plan(scanned.tree, remote, synced, is_ignored=rules).operations
        )
        if clean:
            # Every entry came from the index because its lstat matched: the fingerprint of
            # this scan is the one a stat-only walk of the same folder gives.
            digest = fingerprint(project.folder, rules, scanned)
            raw.record_clean_scan(db, project.id, project.cursor, digest)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return clean


def fingerprint(folder: Path, rules: IgnoreRules, scanned: ScanResult) -> str:
    """What a plan of the folder depends on besides the trees: every file's path, size, mtime,
    inode and ctime, what was ignored or skipped, the ignore rules, the folder and the
    engine's version (a newer planner may decide differently)."""
    state = (
        __version__,
        str(folder),
        rules.lines,
        sorted((f.path, f.size, f.mtime_ns, f.inode, f.ctime_ns) for f in scanned.tree.values()),
        sorted(scanned.ignored),
        sorted(scanned.skipped),
    )
    return hashlib.sha256(repr(state).encode()).hexdigest()


def _record_synced(db_file: Path, project_ids: list[str]) -> None:
    """What a sync that found nothing to do records: the time (the store's UTC format)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    with contextlib.closing(sqlite3.connect(db_file, timeout=5)) as db, db:
        raw.record_synced(db, project_ids, now)

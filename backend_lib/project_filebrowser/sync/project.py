"""One sync cycle of one project: refresh the remote tree, scan, plan, execute, repeat.

The executor commits each success together with the new synced row, in one transaction.
A stale step (HTTP 412, a local file that changed meanwhile, a file that changed while it
was uploaded) is not forced: the cycle plans again. After a crash nothing needs replaying:
the next cycle plans from the three trees.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from .. import settings as defaults
from ..remotes import (
    BatchFile,
    ChangePage,
    FileVersion,
    NotFound,
    PreconditionFailed,
    Remote,
    RemoteError,
)
from ..store import Store
from ..store.models import Conflict, utcnow
from . import failures, state
from .ignore import TEMP_SUFFIX, IgnoreRules
from .localfs import (
    AtomicDownload,
    LocalChanged,
    being_written,
    conflict_name,
    conflict_original,
    delete_if_unchanged,
)
from .planner import (
    DeleteGuard,
    DeleteLocal,
    DeleteRemote,
    Download,
    ForgetBase,
    MoveRemote,
    Operation,
    Plan,
    RecordBase,
    ResolveConflict,
    Upload,
    plan,
)
from .scanner import ScanResult, identity, scan
from .trees import (
    LocalFile,
    LocalTree,
    RemoteFile,
    RemoteTree,
    SyncedTree,
    folder_marker,
    is_folder_marker,
)

log = logging.getLogger(__name__)

MAX_ROUNDS = 6
CHANGES_PAGE = 1000
# Files up to BATCH_FILE_MAX bytes are uploaded in batches of up to BATCH_MAX_FILES files and
# BATCH_MAX_BYTES bytes (the cloud takes up to 1000 files and 32 MiB per batch).
BATCH_FILE_MAX = 1 << 20
BATCH_MAX_FILES = 500
BATCH_MAX_BYTES = 8 << 20
# Cloud error codes that mean "the bytes changed while they were read": retry later.
STALE_UPLOAD_CODES = frozenset({"checksum_mismatch", "sha256_mismatch", "content_changed"})
# A file sent by reference whose content the cloud does not hold: send its bytes.
UNKNOWN_CONTENT = "unknown_content"


class Stale(Exception):
    """A step found the world changed since planning; the cycle plans again."""


@dataclass
class Progress:
    files_total: int = 0
    files_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0


@dataclass(frozen=True, slots=True)
class FileNews:
    """What a finished step says about a path beside its state: the cloud revision it is
    now at and who made that revision (None where no step told)."""

    revision: str | None = None
    modified_by: str | None = None
    reason: str | None = None  # why a failed path is not synced


NO_NEWS = FileNews()


@dataclass
class CycleResult:
    rounds: int = 0
    operations: int = 0
    # ids of Conflict rows made, adopted or resolved by this cycle (each is announced)
    conflicts: list[int] = field(default_factory=list)
    guard: DeleteGuard | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    pending: int = 0
    # cloud deletes confirmed on another replica and applied here: who -> paths
    confirmed_applied: dict[str, list[str]] = field(default_factory=dict)
    # paths whose last step failed on its own (the rest ran), by path; their steps count in
    # ``pending`` and are tried again after a backoff (:mod:`.failures`)
    failures: list[failures.Failure] = field(default_factory=list)


def _transfer_size(op: Operation) -> int:
    if isinstance(op, Upload | MoveRemote):
        return op.local.size
    if isinstance(op, Download | ResolveConflict):
        return op.remote.size
    return 0


def _batches(ops: list[Operation]) -> tuple[list[Operation], list[list[Upload]]]:
    """Split operations into those run one by one and batches of uploads: small files, and
    files of any size sent by reference (no bytes travel)."""
    singles: list[Operation] = []
    batches: list[list[Upload]] = []
    current: list[Upload] = []
    size = 0
    for op in ops:
        if not isinstance(op, Upload) or (not op.stored and op.local.size > BATCH_FILE_MAX):
            singles.append(op)
            continue
        weight = 0 if op.stored else op.local.size
        if current and (len(current) >= BATCH_MAX_FILES or size + weight > BATCH_MAX_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(op)
        size += weight
    if len(current) == 1 and not current[0].stored:
        singles.extend(current)  # one file: a plain upload
    elif current:
        batches.append(current)
    return singles, batches


def _stale_reply(exc: RemoteError) -> bool:
    """The cloud refused a step because the world moved on (412, gone, or bytes that
    changed while they were read): plan again, never force."""
    return isinstance(exc, PreconditionFailed | NotFound) or exc.code in STALE_UPLOAD_CODES


def _paths(ops: list[Operation]) -> set[str]:
    return {op.path for op in ops}


def _read_at_most(path: Path, limit: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit)


def _phase(op: Operation) -> int:
    """Pulls before pushes: local changes go last, after the remote ones are in."""
    return 0 if isinstance(op, Download | DeleteLocal | ResolveConflict | RecordBase) else 1


def _size(op: Operation) -> int | None:
    """The size the path of ``op`` has once it is done (None: unknown, or gone)."""
    if isinstance(op, Upload | MoveRemote | RecordBase):
        return op.local.size
    if isinstance(op, Download | ResolveConflict):
        return op.remote.size
    return None


def pending_states(operations: list[Operation]) -> list[tuple[str, str, int | None]]:
    """What each path of a plan is until it runs: ``(path, state, size)``."""
    return [(op.path, _pending_state(op), _size(op)) for op in operations]


def _pending_state(op: Operation) -> str:
    """The one table from a planned step to the state its path shows (the file list, the
    websocket and the CLI all use it)."""
    if isinstance(op, RecordBase):  # both sides already hold the same bytes
        return "synced"
    if isinstance(op, ForgetBase):  # gone from both sides: only the record is left
        return "deleted"
    if isinstance(op, ResolveConflict):
        return "conflict"
    if isinstance(op, DeleteRemote):
        return "deleted_locally"
    if isinstance(op, Upload | MoveRemote):
        return "pending_push"
    return "pending_pull"


def _final_states(op: Operation) -> list[tuple[str, str, int | None]]:
    """What each path is once ``op`` succeeded (``deleted``: gone from both sides), with
    its size."""
    if isinstance(op, DeleteRemote | DeleteLocal | ForgetBase):
        return [(op.path, "deleted", None)]
    if isinstance(op, MoveRemote):
        return [(op.from_path, "deleted", None), (op.path, "synced", op.local.size)]
    if isinstance(op, ResolveConflict):
        return [(op.path, "conflict", op.remote.size)]
    return [(op.path, "synced", _size(op))]


class ProjectSync:
    def __init__(
        self,
        *,
        project_id: str,
        root: Path,
        client: Remote,
        store: Store,
        transfers: asyncio.Semaphore,
        max_delete_fraction: float = defaults.MAX_DELETE_FRACTION,
        max_deletes: int | None = None,
        on_progress: Callable[[Progress], None] = lambda _p: None,
        on_file: Callable[[str, str, int | None, FileNews], None] = (
            lambda _path, _state, _size, _news: None
        ),
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.project_id = project_id
        self.root = root
        self.client = client
        self.store = store
        self.transfers = transfers
        self.max_delete_fraction = max_delete_fraction
        self.max_deletes = max_deletes
        self.on_progress = on_progress
        self.on_file = on_file
        self.now = now
        self.progress = Progress()
        self._emptied: set[Path] = set()
        self._confirmed: dict[str, str] = {}  # cloud deletes confirmed elsewhere: path -> who
        self._confirmed_by_user = False  # this run's deletes passed the guard by a person
        self._policy = (
            defaults.CONFLICT_POLICY
        )  # the project's conflict policy, read with the trees
        # bytes of each running transfer counted so far, and the size it may reach
        self._partial: dict[str, int] = {}
        self._expected: dict[str, int] = {}
        self._news: dict[str, FileNews] = {}  # what the steps done learnt, until announced
        self._failures: dict[str, failures.Failure] = {}  # as stored, read with the trees
        self._failed_now: set[str] = set()  # paths that failed in this run: not again in it
        self._retry_failed = False  # a person asked: paths in backoff are tried again now

    # -- the cycle --------------------------------------------------------------------------

    async def run(
        self,
        *,
        allow_mass_delete: bool = False,
        restore_deletes: bool = False,
        retry_failed: bool = False,
    ) -> CycleResult:
        """Sync until the trees agree. ``allow_mass_delete``: the user confirmed what the
        delete guard paused; ``restore_deletes``: download files deleted here (and unchanged
        in the cloud) again instead of deleting them in the cloud; ``retry_failed``: paths
        that failed before are tried now, whatever their backoff (a person asked)."""
        result = CycleResult()
        self._retry_failed, self._failed_now = retry_failed, set()
        current: Plan | None = None
        for round_number in range(MAX_ROUNDS):
            result.rounds += 1
            await self.refresh_remote()
            current, scanned = await self.plan(restore_deletes=restore_deletes)
            if round_number == 0:
                self._remove_orphan_temp_files(scanned.ignored)
            result.skipped, result.ignored = scanned.skipped, current.ignored
            if current.guard is not None and (
                not allow_mass_delete or not current.guard.confirmable
            ):
                result.guard = current.guard
                result.pending = len(current.operations)
                # say what waits: deleted here, not yet there
                for path, state_name, size in pending_states(current.operations):
                    self.on_file(path, state_name, size, NO_NEWS)
                return result
            if current.guard is not None and current.guard.side == "remote":
                self._confirmed_by_user = True  # the cloud hears that a person confirmed
            runnable = [op for op in current.operations if not self._held(op)]
            if not runnable:
                break
            stale = await self.execute(runnable, result)
            result.operations += len(runnable) - stale - len(self._failed_now & _paths(runnable))
            # with no stale step, one more round confirms the trees agree (and picks up what
            # arrived meanwhile)
        else:
            current, _ = await self.plan(restore_deletes=restore_deletes)
        self._settle_failures(current, result)
        return result

    def _held(self, op: Operation) -> bool:
        """A step of a path that failed: not again in this run; before its backoff is over
        only when a person asks (or the step changed since)."""
        paths = failures.paths_of(op)
        if self._failed_now.intersection(paths):
            return True
        return not self._retry_failed and failures.held(op, self._failures, self.now())

    def _settle_failures(self, final: Plan | None, result: CycleResult) -> None:
        """Forget the failures of paths with nothing left to do (done, or fixed by other
        means); what still fails is in ``result.failures`` and announced as ``failed``."""
        if final is None:
            return
        result.pending = len(final.operations)
        waiting = {path for op in final.operations for path in failures.paths_of(op)}
        with self.store.write() as session:
            stored = failures.load(session, self.project_id)
            failures.clear(session, self.project_id, set(stored) - waiting)
        result.failures = [stored[path] for path in sorted(stored.keys() & waiting)]
        for failure in result.failures:
            if failure.path not in self._failed_now:  # held: still failing, say so again
                news = FileNews(reason=failures.reason(failure))
                self.on_file(failure.path, "failed", None, news)

    async def plan(
        self, *, restore_deletes: bool = False, save_index: bool = True
    ) -> tuple[Plan, ScanResult]:
        """Scan and plan. ``save_index=False`` is a pure look (a file list, a status): it
        writes nothing, so it may run outside the project lock."""
        with self.store.read() as session:
            synced = state.load_synced(session, self.project_id)
            remote = state.load_remote(session, self.project_id)
            index = state.load_index(session, self.project_id)
            self._confirmed = state.load_confirmed(session, self.project_id)
            self._policy = state.load_conflict_policy(session, self.project_id)
            self._failures = failures.load(session, self.project_id)
        rules = IgnoreRules.for_project(self.root)
        scanned, present = await self._scan(index, rules)
        if save_index and present and scanned.tree != index:
            with self.store.write() as session:
                state.save_index(session, self.project_id, index, scanned.tree)
        return self._plan(scanned, present, remote, synced, rules, restore_deletes), scanned

    async def _scan(self, index: LocalTree, rules: IgnoreRules) -> tuple[ScanResult, bool]:
        """The local tree, and whether the project folder itself is there (a folder that
        went away during the scan gave a partial tree: missing too)."""
        present = self.root.is_dir()
        scanned = await asyncio.to_thread(scan, self.root, index=index.get, rules=rules)
        return scanned, present and self.root.is_dir()

    def _plan(
        self,
        scanned: ScanResult,
        present: bool,
        remote: RemoteTree,
        synced: SyncedTree,
        rules: IgnoreRules,
        restore_deletes: bool = False,
    ) -> Plan:
        return plan(
            scanned.tree,
            remote,
            synced,
            is_ignored=rules,
            max_delete_fraction=self.max_delete_fraction,
            max_deletes=self.max_deletes,
            confirmed_deletes=self._confirmed,
            conflict_policy=self._policy,
            restore_local_deletes=restore_deletes,
            root_present=present,
        )

    async def preview(self) -> tuple[Plan, SyncedTree]:
        """What a sync would do now, changing nothing: neither the files, nor the stored
        trees, index or cursor, nor the cloud (the change feed is read into memory)."""
        with self.store.read() as session:
            synced = state.load_synced(session, self.project_id)
            remote = state.load_remote(session, self.project_id)
            index = state.load_index(session, self.project_id)
            cursor = state.load_cursor(session, self.project_id)
            self._confirmed = state.load_confirmed(session, self.project_id)
            self._policy = state.load_conflict_policy(session, self.project_id)
        if cursor is None:
            cursor, versions = await self._listing()
            remote, self._confirmed = state.live_files(versions), {}
        async for page in self._pages(cursor):
            state.fold_changes(remote, self._confirmed, page.items)
        rules = IgnoreRules.for_project(self.root)
        scanned, present = await self._scan(index, rules)
        return self._plan(scanned, present, remote, synced, rules), synced

    async def refresh_remote(self) -> None:
        """Bring the remote tree up to the cloud's head: a full listing the first time, then
        the change feed from the stored cursor."""
        with self.store.read() as session:
            cursor = state.load_cursor(session, self.project_id)
        if cursor is None:
            cursor, versions = await self._listing()
            with self.store.write() as session:
                state.replace_remote(session, self.project_id, versions, cursor)
        async for page in self._pages(cursor):
            with self.store.write() as session:
                state.apply_changes(session, self.project_id, page.items)
                state.set_cursor(session, self.project_id, page.next_since)

    async def _listing(self) -> tuple[int, list[FileVersion]]:
        """The cloud's head seq and every file as of (at least) it."""
        head = (await self.client.project(self.project_id)).head_seq
        return head, await self.client.files(self.project_id)

    async def _pages(self, cursor: int) -> AsyncIterator[ChangePage]:
        """The change feed's pages after ``cursor`` that hold changes, up to its head."""
        while True:
            page = await self.client.changes(self.project_id, since=cursor, limit=CHANGES_PAGE)
            if page.items:
                yield page
            cursor = max(cursor, page.next_since)
            if not page.has_more:
                return

    # -- the executor -----------------------------------------------------------------------

    async def execute(self, operations: list[Operation], result: CycleResult) -> int:
        """Run the operations (pulls first, bounded parallel transfers); returns how many
        were stale."""
        for path, state_name, size in pending_states(operations):
            self.on_file(path, state_name, size, NO_NEWS)
        self.progress.files_total += len(operations)  # a job's rounds add up
        self.progress.bytes_total += sum(map(_transfer_size, operations))
        self._expected = {op.path: _transfer_size(op) for op in operations}
        self.on_progress(self.progress)
        stale = 0
        for phase in (0, 1):
            ops = [op for op in operations if _phase(op) == phase]
            singles, batches = _batches(ops)
            outcomes = await asyncio.gather(
                *(self._run_one(op, result) for op in singles),
                *(self._run_batch(batch, result) for batch in batches),
                return_exceptions=True,
            )
            stale += sum(isinstance(outcome, Stale) for outcome in outcomes)
            stale += sum(outcome for outcome in outcomes if isinstance(outcome, int))
            # folders emptied by deletes go only now: a download may be filling them meanwhile
            if self._emptied:
                with self.store.read() as session:
                    kept = {
                        self.root / PurePosixPath(path).parent
                        for path in state.load_synced(session, self.project_id)
                        if is_folder_marker(path)
                    }
                for folder in sorted(self._emptied, key=lambda f: len(f.parts), reverse=True):
                    self._prune_empty_parents(folder, kept)
                self._emptied.clear()
            for outcome in outcomes:
                if isinstance(outcome, BaseException) and not isinstance(outcome, Stale):
                    raise outcome
        self._news.clear()
        return stale

    async def _run_one(self, op: Operation, result: CycleResult) -> None:
        async with self.transfers:
            self._partial.pop(op.path, None)  # a retry counts its bytes afresh
            try:
                await self._apply(op, result)
            except (LocalChanged, FileNotFoundError) as exc:
                log.info("project-filebrowser: %s is stale (%s); planning again", op.path, exc)
                if isinstance(exc, LocalChanged):
                    with self.store.write() as session:  # hash it afresh next time
                        state.drop_index(session, self.project_id, op.path)
                raise Stale(op.path) from exc
            except RemoteError as exc:
                if _stale_reply(exc):
                    log.info("project-filebrowser: %s is stale (%s); planning again", op.path, exc)
                    raise Stale(op.path) from exc
                if not self._failed(op, exc):
                    raise
                return
            except Exception as exc:
                if not self._failed(op, exc):
                    raise
                return
        self._finished([op])

    def _failed(self, op: Operation, exc: BaseException) -> bool:
        """Record ``exc`` as the failure of ``op``'s path alone, if it is one: the rest of
        the plan runs, and the path is tried again after a backoff. False: it concerns the
        whole project."""
        error = failures.path_error(exc)
        if error is None:
            return False
        with self.store.write() as session:
            failure = failures.record(session, self.project_id, op, *error, self.now())
        self._failed_now.add(op.path)
        wait = failure.next_attempt_at - self.now()
        log.warning(
            "project-filebrowser: %s could not be synced (%s: %s, attempt %d); the rest syncs "
            "on, it is tried again in %d s",
            op.path,
            failure.code,
            failure.message,
            failure.attempts,
            max(wait.total_seconds(), 0),
        )
        self.progress.files_done += 1
        self.progress.bytes_done += _transfer_size(op) - self._partial.pop(op.path, 0)
        self.on_progress(self.progress)
        self.on_file(op.path, "failed", _size(op), FileNews(reason=failures.reason(failure)))
        return True

    async def _run_batch(self, ops: list[Upload], result: CycleResult) -> int:
        """Upload small files together: one request, one cloud transaction, one local
        transaction. Each file still succeeds or goes stale on its own; a file sent by
        reference whose content the cloud turns out not to hold is sent again with its
        bytes. Returns how many went stale."""
        async with self.transfers:
            files, changed, unreadable = await asyncio.to_thread(self._read_batch, ops)
            sent = [op for op in ops if op.path in files]
            try:
                outcomes: list[FileVersion | RemoteError] = (
                    await self.client.upload_batch(self.project_id, list(files.values()))
                    if files
                    else []
                )
            except RemoteError as exc:
                if failures.path_error(exc) is None:
                    raise
                # refused as a whole for a reason of its own: one by one, each fails alone
                log.info("project-filebrowser: a batch was refused (%s); sending one by one", exc)
                outcomes, one_by_one, sent = [], sent, []
            else:
                one_by_one = []
        for op, exc in unreadable:
            self._failed(op, exc)
        done: list[tuple[Upload, FileVersion]] = []
        stale: list[str] = list(changed)
        resend: list[Upload] = list(one_by_one)
        failure: RemoteError | None = None
        for op, outcome in zip(sent, outcomes, strict=True):
            if isinstance(outcome, FileVersion):
                done.append((op, outcome))
            elif op.stored and outcome.code == UNKNOWN_CONTENT:
                resend.append(op)
            elif _stale_reply(outcome):
                stale.append(op.path)
            elif not self._failed(op, outcome):
                failure = failure or outcome
        with self.store.write() as session:
            state.set_remote_many(session, self.project_id, (v for _op, v in done))
            state.set_synced_many(
                session, self.project_id, ((op.local, v.revision) for op, v in done)
            )
            for path in changed:  # hash it afresh next time
                state.drop_index(session, self.project_id, path)
        for _op, version in done:
            self._news[version.path] = FileNews(version.revision, version.modified_by)
        for path in stale:
            log.info("project-filebrowser: %s is stale; planning again", path)
        if done:
            self._finished([op for op, _version in done])
        for op in resend:  # a plain upload streams the file, whatever its size
            try:
                await self._run_one(op, result)
            except Stale:
                stale.append(op.path)
        if failure is not None:
            raise failure
        return len(stale)

    def _finished(self, ops: list[Operation]) -> None:
        """Count operations done and say what their paths are now."""
        self.progress.files_done += len(ops)
        self.progress.bytes_done += sum(
            _transfer_size(op) - self._partial.pop(op.path, 0) for op in ops
        )
        self.on_progress(self.progress)
        for op in ops:
            for path, state_name, size in _final_states(op):
                news = NO_NEWS if state_name == "deleted" else self._news.pop(path, NO_NEWS)
                self.on_file(path, state_name, size, news)

    def _moved(self, path: str, count: int) -> None:
        """``count`` more bytes of the transfer of ``path`` went: progress inside a file."""
        expected = self._expected.get(path, 0)
        done = self._partial.get(path, 0)
        step = min(count, expected - done)
        if step <= 0:
            return
        self._partial[path] = done + step
        self.progress.bytes_done += step
        self.on_progress(self.progress)

    def _read_batch(
        self, ops: list[Upload]
    ) -> tuple[dict[str, BatchFile], list[str], list[tuple[Upload, OSError]]]:
        """The bytes of each file as the scan saw it; files changed since are left out, and
        so are files that cannot be read (with why)."""
        files: dict[str, BatchFile] = {}
        changed: list[str] = []
        unreadable: list[tuple[Upload, OSError]] = []
        for op in ops:
            local = op.local
            # By reference, no bytes are read: an unchanged lstat vouches for the scan's hash,
            # as it does for the index (a file too fresh to trust is hashed again next scan).
            data: bytes | None = None
            try:
                self._check_local(local)
                if is_folder_marker(op.path):
                    data = b""
                elif not op.stored:
                    data = _read_at_most(self.root / op.path, local.size + 1)
            except (LocalChanged, FileNotFoundError):
                changed.append(op.path)
                continue
            except OSError as exc:
                unreadable.append((op, exc))
                continue
            if data is not None and len(data) != local.size:
                changed.append(op.path)
                continue
            mtime = None if is_folder_marker(op.path) else local.mtime_ns
            files[op.path] = BatchFile(op.path, data, local.sha256, local.size, op.if_match, mtime)
        return files, changed, unreadable

    async def _apply(self, op: Operation, result: CycleResult) -> None:
        pid = self.project_id
        if isinstance(op, Upload):
            await self._upload(op.local, op.if_match)
        elif isinstance(op, Download):
            await self._download(op.remote, op.expect_sha256)
            result.conflicts.extend(self._adopt_conflict_copy(op.path))
        elif isinstance(op, DeleteRemote):
            await self.client.delete(
                pid, op.path, if_match=op.if_match, confirmed=self._confirmed_by_user
            )
            with self.store.write() as session:
                state.drop_synced(session, pid, op.path)
                state.drop_remote(session, pid, op.path)
            result.conflicts.extend(self._conflict_copy_gone(op.path))
        elif isinstance(op, MoveRemote):
            self._check_local(op.local)
            version = await self.client.move(pid, op.from_path, op.path, if_match=op.if_match)
            with self.store.write() as session:
                state.drop_synced(session, pid, op.from_path)
                state.drop_remote(session, pid, op.from_path)
                state.set_remote(session, pid, version)
                state.set_synced(session, pid, op.local, version.revision)
            self._news[op.path] = FileNews(version.revision, version.modified_by)
        elif isinstance(op, DeleteLocal):
            target = self.root / op.path
            if not is_folder_marker(op.path):
                await asyncio.to_thread(delete_if_unchanged, target, op.expect_sha256)
            self._emptied.add(target.parent)
            by = self._confirmed.get(op.path)
            with self.store.write() as session:
                state.drop_synced(session, pid, op.path)
                state.drop_index(session, pid, op.path)
                if by is not None:
                    state.drop_confirmed(session, pid, op.path)
            if by is not None and not is_folder_marker(op.path):
                result.confirmed_applied.setdefault(by, []).append(op.path)
            result.conflicts.extend(self._conflict_copy_gone(op.path))
        elif isinstance(op, RecordBase):
            with self.store.write() as session:
                state.set_synced(session, pid, op.local, op.remote.revision)
            self._news[op.path] = FileNews(op.remote.revision)
        elif isinstance(op, ForgetBase):
            with self.store.write() as session:
                state.drop_synced(session, pid, op.path)
        elif isinstance(op, ResolveConflict):
            result.conflicts.extend(await self._resolve_conflict(op))

    def _check_local(self, local: LocalFile) -> None:
        if is_folder_marker(local.path):
            folder = (self.root / local.path).parent
            if not folder.is_dir() or any(folder.iterdir()):
                raise LocalChanged(local.path)
            return
        try:
            st = os.stat(self.root / local.path, follow_symlinks=False)
        except FileNotFoundError as exc:
            raise LocalChanged(local.path) from exc
        if identity(st) != (local.size, local.mtime_ns, local.inode, local.ctime_ns):
            raise LocalChanged(local.path)

    async def _upload(self, local: LocalFile, if_match: str | None) -> FileVersion:
        """Upload what the scan saw; the cloud checks the bytes against the scan's hash, so a
        file that changed while it was read is refused and retried later."""
        self._check_local(local)
        version = await self.client.upload(
            self.project_id,
            local.path,
            b"" if is_folder_marker(local.path) else self.root / local.path,
            if_match=if_match,
            sha256=local.sha256,
            on_bytes=lambda count: self._moved(local.path, count),
        )
        with self.store.write() as session:
            state.set_remote(session, self.project_id, version)
            state.set_synced(session, self.project_id, local, version.revision)
        self._news[local.path] = FileNews(version.revision, version.modified_by)
        return version

    async def _download(self, remote: RemoteFile, expect_sha256: str | None) -> LocalFile:
        target = self.root / remote.path
        if not self.root.is_dir():  # never recreate a vanished project folder: plan again
            raise LocalChanged(str(self.root))
        if is_folder_marker(remote.path):
            target.parent.mkdir(parents=True, exist_ok=True)
            local = folder_marker(PurePosixPath(remote.path).parent.as_posix())
            with self.store.write() as session:
                state.set_synced(session, self.project_id, local, remote.revision)
            return local
        digest = hashlib.sha256()
        with AtomicDownload(target) as download:

            def write(chunk: bytes) -> None:
                digest.update(chunk)
                download.write(chunk)
                self._moved(remote.path, len(chunk))

            downloaded = await self.client.download(
                self.project_id, remote.path, write, revision=remote.revision
            )
            if digest.hexdigest() != remote.sha256:
                raise RemoteError(
                    0, "checksum_mismatch", f"downloaded bytes of {remote.path} do not match"
                )
            st = await asyncio.to_thread(
                download.commit, expect_sha256, mtime_ns=downloaded.mtime_ns
            )
        local = LocalFile(
            remote.path, remote.sha256, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns
        )
        with self.store.write() as session:
            state.set_index(session, self.project_id, local)
            state.set_synced(session, self.project_id, local, remote.revision)
        self._news[remote.path] = FileNews(remote.revision, downloaded.modified_by)
        return local

    async def _resolve_conflict(self, op: ResolveConflict) -> list[int]:
        """Apply the project's conflict policy (see :class:`ResolveConflict`); the losing
        version always stays in the cloud. Returns the ids of conflicts left to the user."""
        keep = op.keep
        if keep == "newer":
            revisions = await self.client.revisions(self.project_id, op.path)
            written = next(
                (v.modified_at for v in revisions if v.revision == op.remote.revision), None
            )
            # when the cloud's revision was written (its upload), against the local mtime
            remote_ns = (
                int(datetime.fromisoformat(written.replace("Z", "+00:00")).timestamp() * 1e9)
                if written
                else 0
            )
            keep = "local" if op.local.mtime_ns > remote_ns else "remote"
        if keep == "local":  # over the cloud's revision, which its history keeps
            await self._upload(op.local, if_match=op.remote.revision)
            return []
        conflict_id, copy_local, copy_version = await self._keep_both(op)
        if keep == "both":
            return [conflict_id]
        # remote: the local version is in the cloud now (the copy's history); drop the copy
        await self.client.delete(self.project_id, copy_local.path, if_match=copy_version.revision)
        await asyncio.to_thread(delete_if_unchanged, self.root / copy_local.path, copy_local.sha256)
        with self.store.write() as session:
            for drop in (state.drop_synced, state.drop_remote, state.drop_index):
                drop(session, self.project_id, copy_local.path)
            row = session.get(Conflict, conflict_id)
            if row is not None:
                row.resolved, row.resolution, row.resolved_at = True, "remote", utcnow()
        return []

    async def _keep_both(self, op: ResolveConflict) -> tuple[int, LocalFile, FileVersion]:
        """The cloud version takes the path; the local version becomes a conflict copy,
        pushed as a new file. Both are kept; nothing is overwritten. Returns the conflict's
        id, the copy and its cloud version."""
        copy_path = self.conflict_copy_name(op.path)
        source, copy = self.root / op.path, self.root / copy_path
        self._check_local(op.local)
        # A hard link keeps the local bytes under the new name before the path is replaced.
        await asyncio.to_thread(os.link, source, copy)
        try:
            await self._download(op.remote, expect_sha256=op.local.sha256)
        except BaseException:
            copy.unlink(missing_ok=True)  # the original is untouched: undo the extra name
            raise
        # stat the copy only now: each link added or replaced moves the inode's ctime
        copy_stat = os.stat(copy)
        copy_local = LocalFile(
            copy_path,
            op.local.sha256,
            op.local.size,
            copy_stat.st_mtime_ns,
            copy_stat.st_ino,
            copy_stat.st_ctime_ns,
        )
        copy_version = await self._upload(copy_local, if_match=None)
        with self.store.write() as session:
            state.set_index(session, self.project_id, copy_local)
            conflict_id = state.add_conflict(
                session,
                self.project_id,
                op.path,
                copy_path,
                local_sha256=op.local.sha256,
                remote_revision=op.remote.revision,
            )
        return conflict_id, copy_local, copy_version

    def conflict_copy_name(self, path: str) -> str:
        """A conflict-copy name for ``path`` taken neither in the cloud nor on disk."""
        with self.store.read() as session:
            remote_paths = set(state.load_remote(session, self.project_id))

        def taken(candidate: str) -> bool:
            return candidate in remote_paths or os.path.lexists(self.root / candidate)

        return conflict_name(path, self.now(), taken)

    def _adopt_conflict_copy(self, path: str) -> list[int]:
        """A conflict copy another machine made arrived: the same conflict, known here too
        (``local_sha256`` None: the copy was made elsewhere). Returns the new row's id."""
        original = conflict_original(path)
        if original is None:
            return []
        with self.store.write() as session:
            if original not in state.load_remote(session, self.project_id):
                return []  # only named like a copy: the file it would be a copy of is not there
            known = session.scalar(
                select(Conflict.id).where(
                    Conflict.project_id == self.project_id, Conflict.conflict_path == path
                )
            )
            if known is not None:
                return []
            row = Conflict(project_id=self.project_id, path=original, conflict_path=path)
            session.add(row)
            session.flush()
            return [row.id]

    def _conflict_copy_gone(self, path: str) -> list[int]:
        """A conflict copy was deleted, here or on another machine (a resolution there
        deletes it): its conflict is over on this machine too. Returns the rows resolved."""
        with self.store.write() as session:
            rows = list(
                session.scalars(
                    select(Conflict).where(
                        Conflict.project_id == self.project_id,
                        Conflict.conflict_path == path,
                        Conflict.resolved.is_(False),
                    )
                )
            )
            for row in rows:
                row.resolved, row.resolution, row.resolved_at = True, "copy_deleted", utcnow()
            return [row.id for row in rows]

    def _remove_orphan_temp_files(self, ignored: list[str]) -> None:
        """Temp files of downloads a crash interrupted (the project lock says no other
        process is downloading into this folder now; this process says which it writes)."""
        for path in ignored:
            if path.endswith(TEMP_SUFFIX) and not being_written(self.root / path):
                (self.root / path).unlink(missing_ok=True)

    def _prune_empty_parents(self, folder: Path, kept: set[Path]) -> None:
        """Remove folders left empty, up to the project root, except empty folders that are
        synced as such (their marker is in the synced tree)."""
        while folder != self.root and self.root in folder.parents and folder not in kept:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

"""The executor: runs a plan's operations against the remote and the folder.

Pulls first, then pushes; small uploads in batches; bounded parallel transfers. Each success
is committed together with its new synced row, in one transaction. A stale step (HTTP 412, a
local file that changed meanwhile, a file that changed while it was uploaded) raises
:class:`~.steps.Stale` and the cycle (:mod:`.project`) plans again; a step that fails on its
own is recorded (:mod:`.failures`) and the rest runs. Conflicts are resolved here too (a
clean three-way merge, :mod:`.merging`; else a conflict copy, or the policy's winner), as
steps like the others.

About 640 lines, over the house's ~400: the steps share the per-run state set up in
``__init__`` (progress, partial byte counts, the news of finished steps, failures), and
splitting them across classes would spread that state out.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from .. import settings as defaults
from ..remotes import (
    BatchFile,
    FileVersion,
    Remote,
    RemoteError,
)
from ..store import Store
from ..store.models import Conflict, utcnow
from . import failures, state
from .ignore import TEMP_SUFFIX
from .localfs import (
    AtomicDownload,
    LocalChanged,
    being_written,
    conflict_name,
    conflict_original,
    delete_if_unchanged,
)
from .merging import Attempt, Merger
from .planner import (
    DeleteLocal,
    DeleteRemote,
    Download,
    ForgetBase,
    MoveRemote,
    Operation,
    RecordBase,
    ResolveConflict,
    Upload,
)
from .scanner import identity
from .steps import (
    NO_NEWS,
    UNKNOWN_CONTENT,
    CycleResult,
    FileNews,
    Progress,
    Stale,
    final_states,
    group_batches,
    pending_states,
    phase_of,
    read_at_most,
    size_of,
    stale_reply,
    transfer_size,
)
from .trees import (
    LocalFile,
    RemoteFile,
    folder_marker,
    is_folder_marker,
)

log = logging.getLogger(__name__)


class Executor:
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
        merge_notebooks: bool = defaults.MERGE_NOTEBOOKS,
        merge_text: bool = defaults.MERGE_TEXT,
        on_progress: Callable[[Progress], None] = lambda _p: None,
        on_file: Callable[[str, str, int | None, FileNews], None] = (
            lambda _path, _state, _size, _news: None
        ),
        on_merged: Callable[[str, str, str | None], None] = lambda _path, _rev, _by: None,
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
        self.on_merged = on_merged
        self.merger = Merger(
            client=client,
            project_id=project_id,
            root=root,
            notebooks=merge_notebooks,
            text=merge_text,
        )
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
        self._merged: dict[str, int] = {}  # conflicts merged cleanly: path -> merged size

    # -- the executor -----------------------------------------------------------------------

    async def execute(self, operations: list[Operation], result: CycleResult) -> int:
        """Run the operations (pulls first, bounded parallel transfers); returns how many
        were stale."""
        for path, state_name, size in pending_states(operations):
            self.on_file(path, state_name, size, NO_NEWS)
        self.progress.files_total += len(operations)  # a job's rounds add up
        self.progress.bytes_total += sum(map(transfer_size, operations))
        self._expected = {op.path: transfer_size(op) for op in operations}
        self.on_progress(self.progress)
        stale = 0
        for phase in (0, 1):
            ops = [op for op in operations if phase_of(op) == phase]
            singles, batches = group_batches(ops)
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
                if stale_reply(exc):
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
        self.progress.bytes_done += transfer_size(op) - self._partial.pop(op.path, 0)
        self.on_progress(self.progress)
        self.on_file(op.path, "failed", size_of(op), FileNews(reason=failures.reason(failure)))
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
            elif stale_reply(outcome):
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
            transfer_size(op) - self._partial.pop(op.path, 0) for op in ops
        )
        self.on_progress(self.progress)
        for op in ops:
            merged = self._merged.pop(op.path, None) if isinstance(op, ResolveConflict) else None
            for path, state_name, size in final_states(op, merged_size=merged):
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
                    data = read_at_most(self.root / op.path, local.size + 1)
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
            if op.path in self._merged:
                result.merged.append(op.path)

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
        """Merge three-way where that is clean (:mod:`.merging`); else apply the project's
        conflict policy (see :class:`ResolveConflict`); the losing version always stays in
        the cloud. Returns the ids of conflicts left to the user."""
        attempt = await self.merger.attempt(op) if self.merger.wants(op) else None
        if attempt is not None and attempt.result.content is not None:
            await self._write_merge(op, attempt.result.content, attempt.remote_by)
            return []
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
        conflict_id, copy_local, copy_version = await self._keep_both(op, attempt)
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

    async def _write_merge(
        self, op: ResolveConflict, content: bytes, remote_by: str | None
    ) -> None:
        """A clean merge takes the path: written here (atomically, only over the local
        content the plan saw), then pushed over the cloud's revision the plan saw
        (``If-Match``: a 412 plans again, and the next merge starts from this one). Both
        parents stay in the cloud's history."""
        pid = self.project_id
        sha256 = hashlib.sha256(content).hexdigest()
        local = op.local
        if sha256 != op.local.sha256:  # the local file does not hold the merge yet

            def write() -> os.stat_result:
                with AtomicDownload(self.root / op.path) as download:
                    download.write(content)
                    return download.commit(op.local.sha256)

            st = await asyncio.to_thread(write)
            local = LocalFile(
                op.path, sha256, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns
            )
            with self.store.write() as session:
                state.set_index(session, pid, local)
        if sha256 == op.remote.sha256:  # the cloud's version holds both already
            revision = op.remote.revision
            with self.store.write() as session:
                state.set_synced(session, pid, local, revision)
            self._news[op.path] = FileNews(revision, remote_by)
        else:
            revision = (await self._upload(local, if_match=op.remote.revision)).revision
        self._merged[op.path] = len(content)
        log.info("project-filebrowser: merged the edits to %s (revision %s)", op.path, revision)
        self.on_merged(op.path, revision, remote_by)

    async def _keep_both(
        self, op: ResolveConflict, attempt: Attempt | None = None
    ) -> tuple[int, LocalFile, FileVersion]:
        """The cloud version takes the path; the local version becomes a conflict copy,
        pushed as a new file. Both are kept; nothing is overwritten. The conflict says why
        the merge ``attempt`` was not clean (and which notebook cells). Returns the
        conflict's id, the copy and its cloud version."""
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
                reason=attempt.result.reason if attempt else None,
                cells=[{"id": c.id, "index": c.index} for c in attempt.result.cells]
                if attempt
                else [],
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

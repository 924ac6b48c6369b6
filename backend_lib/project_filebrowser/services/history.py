"""History: a file's revisions, the bytes of one, two compared, one restored as the new head;
the deleted files; checkpoints of a project (list, create, restore with an undo).

Everything the cloud keeps is read from it (the ``Remote``); what changes a file here does
so under the project's lock, atomically, and never loses a version (see :meth:`restore`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from project_cloud.errors import ServiceError  # one error vocabulary for both servers

from ..remotes import BatchFile, NotFound, PreconditionFailed, RemoteError, SourceChanged
from ..schemas import (
    Checkpoint,
    CheckpointRestored,
    DiffReply,
    FileStatusEvent,
    FileVersion,
    HistoryPage,
)
from ..store.models import SyncedEntry
from ..sync import state
from ..sync.ignore import IgnoreRules
from ..sync.localfs import AtomicDownload, LocalChanged
from ..sync.project import ProjectSync
from ..sync.scanner import hash_file
from ..sync.trees import LocalFile, is_folder_marker, is_safe_path
from .compare import SNIFF_BYTES, compare, media_type, page_of, too_large
from .runtime import Runtime, from_cloud, not_found

# How long a checkpoint restore waits for each of its syncs.
SYNC_TIMEOUT = 600.0


def _local_sha256(target: Path) -> str | None:
    """What the disk holds at ``target``: its SHA-256, None if there is nothing; a folder, a
    symlink or a special file there is refused."""
    if not os.path.lexists(target):
        return None
    if target.is_symlink() or not target.is_file():
        raise ServiceError(409, "path_conflict", f"{target.name} here is not a regular file")
    return hash_file(target)[0]


class History(Runtime):
    # -- checks -----------------------------------------------------------------------------

    def _file_of(self, project_id: str, path: str, *, writing: bool = False) -> ProjectSync:
        """The engine of the linked project holding ``path`` (a file path inside it); for a
        change here, the path must be synced (no ignore rule) and the folder present."""
        syncer = self._syncer(project_id)
        if not is_safe_path(path) or is_folder_marker(path):
            raise ServiceError(400, "invalid_path", f"{path!r} is not a file path in a project")
        if writing:
            if IgnoreRules.for_project(syncer.root)(path):
                raise ServiceError(
                    400, "ignored_path", f"{path} is not synced (an ignore rule matches it)"
                )
            self._folder_present(syncer)
        return syncer

    @staticmethod
    def _folder_present(syncer: ProjectSync) -> None:
        if not syncer.root.is_dir():
            raise ServiceError(
                409,
                "folder_missing",
                f"the project's folder {syncer.root} is missing: restore it, or unlink the project",
            )

    async def _revisions(self, project_id: str, path: str) -> list[FileVersion]:
        """The path's history, newest first ([] when the cloud has none)."""
        _, client = self.require_manager()
        try:
            return await client.revisions(project_id, path)
        except NotFound:
            return []
        except RemoteError as exc:
            raise from_cloud(exc) from exc

    async def _revision(self, project_id: str, path: str, revision: str) -> FileVersion:
        """One live revision of this path; any other (another file's, a deletion, unknown)
        is refused."""
        for version in await self._revisions(project_id, path):
            if version.revision == revision:
                if version.deleted:
                    raise ServiceError(
                        404, "revision_not_found", f"revision {revision} of {path} is a deletion"
                    )
                return version
        raise ServiceError(
            404, "revision_not_found", f"the cloud has no revision {revision!r} of {path}"
        )

    async def _download(
        self, project_id: str, version: FileVersion, out: Callable[[bytes], object]
    ) -> None:
        """The bytes of ``version`` into ``out``, checked against its SHA-256."""
        _, client = self.require_manager()
        digest = hashlib.sha256()

        def write(chunk: bytes) -> None:
            digest.update(chunk)
            out(chunk)

        try:
            await client.download(project_id, version.path, write, revision=version.revision)
        except NotFound as exc:
            raise ServiceError(404, "revision_not_found", exc.message) from exc
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        if digest.hexdigest() != version.sha256:
            raise ServiceError(
                502, "checksum_mismatch", f"the cloud's bytes of {version.path} do not match"
            )

    # -- reads ------------------------------------------------------------------------------

    async def history(
        self, project_id: str, path: str, *, limit: int | None = None, page_token: str | None = None
    ) -> HistoryPage:
        """The path's revisions, newest first, deletions included."""
        self._file_of(project_id, path)
        versions = await self._revisions(project_id, path)
        if not versions:
            raise not_found(f"a history of {path!r} in the cloud")
        items, token = page_of(versions, limit, page_token)
        return HistoryPage(items=items, next_page_token=token)

    async def revision_content(
        self, project_id: str, path: str, revision: str
    ) -> tuple[FileVersion, IO[bytes], str]:
        """The bytes of a revision of ``path``, in a temporary file at its start (the caller
        closes it), and their media type."""
        self._file_of(project_id, path)
        version = await self._revision(project_id, path, revision)
        out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
        try:
            await self._download(project_id, version, out.write)
            out.seek(0)
            head = out.read(SNIFF_BYTES)
            out.seek(0)
        except BaseException:
            out.close()
            raise
        return version, out, media_type(path, head)

    async def _bytes(self, project_id: str, version: FileVersion) -> bytes:
        too_large(version.path, version.size)
        data = bytearray()
        await self._download(project_id, version, data.extend)
        return bytes(data)

    async def diff(
        self, project_id: str, path: str, from_revision: str, to_revision: str | None = None
    ) -> DiffReply:
        """Revision ``from_revision`` against ``to_revision``, or against the file here."""
        syncer = self._file_of(project_id, path)
        old = await self._revision(project_id, path, from_revision)
        too_large(path, old.size)
        if to_revision is not None:
            new = await self._revision(project_id, path, to_revision)
            new_bytes = await self._bytes(project_id, new)
        else:
            target = syncer.root / path
            if target.is_symlink() or not target.is_file():
                raise not_found(f"{path!r} on this machine")
            too_large(path, target.stat().st_size)
            new_bytes = await asyncio.to_thread(target.read_bytes)
        old_bytes = await self._bytes(project_id, old)
        return await asyncio.to_thread(
            compare, path, old_bytes, new_bytes, from_revision, to_revision or "local"
        )

    async def deleted(
        self, project_id: str, *, limit: int | None = None, page_token: str | None = None
    ) -> HistoryPage:
        """The last live revision of each path whose head is a deletion, newest deletion
        first."""
        _, client = self.require_manager()
        self._local_project(project_id)
        try:
            heads = await client.files(project_id, include_deleted=True)
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        gone = sorted(
            (v for v in heads if v.deleted and not is_folder_marker(v.path)),
            key=lambda v: (v.modified_at or "", v.path),
            reverse=True,
        )
        page, token = page_of(gone, limit, page_token)
        items: list[FileVersion] = []
        for deletion in page:
            live = next(
                (v for v in await self._revisions(project_id, deletion.path) if not v.deleted), None
            )
            if live is not None:
                items.append(live)
        return HistoryPage(items=items, next_page_token=token)

    # -- restore ----------------------------------------------------------------------------

    async def restore(self, project_id: str, path: str, revision: str | None = None) -> FileVersion:
        """Make ``revision`` of ``path`` (default: its newest live one, so a deleted file
        comes back) the new head, here and in the cloud. Nothing is lost: the history keeps
        every revision, and local edits not synced yet are first pushed as a revision of
        their own (the one before the restored head). Under the project's lock: the bytes
        are fetched beside the file, pushed over the cloud's head (``If-Match``; by
        reference, the project holds them), then put in place atomically if the file still
        holds what was read, and recorded as synced. A 412 (someone wrote meanwhile) is 409
        ``stale``: nothing more changed."""
        manager, _ = self.require_manager()
        syncer = self._file_of(project_id, path, writing=True)
        async with manager.project_lock(project_id):
            self._folder_present(syncer)
            version = await self._restore_locked(syncer, path, revision)
        self.bus.publish(
            FileStatusEvent(
                project_id=project_id,
                path=path,
                state="synced",
                size=version.size,
                revision=version.revision,
                modified_by=version.modified_by,
            )
        )
        manager.request_sync(project_id, user=True)
        return version

    async def _restore_locked(
        self, syncer: ProjectSync, path: str, revision: str | None
    ) -> FileVersion:
        _, client = self.require_manager()
        pid = syncer.project_id
        history = await self._revisions(pid, path)
        if revision is None:
            chosen = next((v for v in history if not v.deleted), None)
            if chosen is None:
                raise ServiceError(
                    404, "revision_not_found", f"the cloud has no revision of {path} to restore"
                )
        else:
            chosen = await self._revision(pid, path, revision)
        head = history[0]
        target = syncer.root / path
        local_sha = await asyncio.to_thread(_local_sha256, target)
        with self.require_store().read() as session:
            synced = session.get(SyncedEntry, (pid, path))
            synced_sha = synced.sha256 if synced is not None else None
        head_sha = None if head.deleted else head.sha256
        if local_sha is not None and local_sha not in (synced_sha, head_sha):
            head = await self._push_local_edits(pid, path, target, local_sha, head)
        if_match = None if head.deleted else head.revision
        assert chosen.sha256 is not None
        now = time.time_ns()  # the restored file is new here: editors see it changed
        try:
            download = AtomicDownload(target)
        except OSError as exc:  # a file where the path needs a folder
            raise ServiceError(
                409, "path_conflict", f"{path} cannot be written here: {exc}"
            ) from exc
        with download:
            await self._download(pid, chosen, download.write)
            item = BatchFile(path, None, chosen.sha256, chosen.size, if_match, now)
            try:
                [result] = await client.upload_batch(pid, [item])
            except RemoteError as exc:
                raise from_cloud(exc) from exc
            if isinstance(result, PreconditionFailed):
                raise ServiceError(
                    409, "stale", f"{path} changed in the cloud meanwhile; look again and retry"
                )
            if isinstance(result, RemoteError):
                raise from_cloud(result)
            try:
                st = await asyncio.to_thread(download.commit, local_sha, mtime_ns=now)
            except LocalChanged as exc:
                raise ServiceError(
                    409,
                    "local_changed",
                    f"{path} changed here while it was restored: the cloud's head is the "
                    f"restored revision {result.revision}, your new edit syncs as a conflict",
                ) from exc
        local = LocalFile(
            path, chosen.sha256, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns
        )
        with self.require_store().write() as session:
            state.set_index(session, pid, local)
            state.set_remote(session, pid, result)
            state.set_synced(session, pid, local, result.revision)
        return result

    async def _push_local_edits(
        self, project_id: str, path: str, target: Path, sha256: str, head: FileVersion
    ) -> FileVersion:
        """Local edits not synced yet become a revision of their own, over the cloud's head,
        so that the restore that follows keeps them in the history."""
        _, client = self.require_manager()
        try:
            return await client.upload(
                project_id,
                path,
                target,
                if_match=None if head.deleted else head.revision,
                sha256=sha256,
            )
        except PreconditionFailed as exc:
            raise ServiceError(
                409, "stale", f"{path} changed in the cloud meanwhile; look again and retry"
            ) from exc
        except RemoteError as exc:
            # the file changed while it was read (here, or as the cloud checked its bytes)
            if isinstance(exc, SourceChanged) or exc.code == "checksum_mismatch":
                raise ServiceError(
                    409, "local_changed", f"{path} is being written here; try again"
                ) from exc
            raise from_cloud(exc) from exc

    # -- checkpoints ------------------------------------------------------------------------

    async def checkpoints(self, project_id: str) -> list[Checkpoint]:
        _, client = self.require_manager()
        self._local_project(project_id)
        try:
            return await client.checkpoints(project_id)
        except RemoteError as exc:
            raise from_cloud(exc) from exc

    async def create_checkpoint(self, project_id: str, name: str) -> Checkpoint:
        """A checkpoint of the project as the cloud holds it now (sync first for the files
        here to be in it)."""
        _, client = self.require_manager()
        self._local_project(project_id)
        if not name.strip() or "\x00" in name or len(name) > 256:
            raise ServiceError(
                400, "invalid_name", "a checkpoint name is 1 to 256 characters, not all spaces"
            )
        try:
            return await client.create_checkpoint(project_id, name)
        except RemoteError as exc:
            if exc.code == "conflict":
                raise ServiceError(
                    409, "name_taken", f"the project has a checkpoint named {name!r}"
                ) from exc
            raise from_cloud(exc) from exc

    async def restore_checkpoint(self, project_id: str, checkpoint_id: str) -> CheckpointRestored:
        """Make the project what it was at a checkpoint, here and in the cloud. First a sync
        (edits here reach the cloud), then a checkpoint of that state named "before restore
        of <name>" (the undo), then the cloud's restore (new revisions: history stays), then
        a sync that brings the folder to the checkpoint's state; the reply comes after it."""
        _, client = self.require_manager()
        syncer = self._syncer(project_id)
        self._folder_present(syncer)
        try:
            listed = await client.checkpoints(project_id)
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        checkpoint = next((c for c in listed if c.id == checkpoint_id), None)
        if checkpoint is None:
            raise not_found(f"checkpoint {checkpoint_id!r} of this project")
        await self._sync_and_wait(project_id)
        if self._local_project(project_id).status == "paused":
            raise ServiceError(
                409,
                "project_paused",
                "the project's sync is paused (see its status): settle that before a restore",
            )
        undo = await self._undo_checkpoint(project_id, checkpoint.name, {c.name for c in listed})
        try:
            await client.restore_checkpoint(project_id, checkpoint_id)
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        # the restore was asked for: what it removes here is in the cloud's history (and in
        # the undo checkpoint), so the delete guard does not hold it back
        await self._sync_and_wait(project_id, allow_mass_delete=True)
        return CheckpointRestored(checkpoint=checkpoint, undo=undo)

    async def _undo_checkpoint(self, project_id: str, name: str, taken: set[str]) -> Checkpoint:
        """The automatic checkpoint made before a restore; a name already taken gets the
        time (and a number) added."""
        _, client = self.require_manager()
        base = f"before restore of {name}"[:200]
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H%M%S")
        candidates = [base, f"{base} ({stamp})", *(f"{base} ({stamp} {n})" for n in range(2, 10))]
        for candidate in candidates:
            if candidate in taken:
                continue
            try:
                return await client.create_checkpoint(project_id, candidate)
            except RemoteError as exc:
                if exc.code != "conflict":
                    raise from_cloud(exc) from exc
        raise ServiceError(409, "name_taken", f"no free name for the checkpoint {base!r}")

    async def _sync_and_wait(self, project_id: str, *, allow_mass_delete: bool = False) -> None:
        manager, _ = self.require_manager()
        job = manager.request_sync(project_id, user=True, allow_mass_delete=allow_mass_delete)
        try:
            done = await asyncio.wait_for(manager.wait(job.id), SYNC_TIMEOUT)
        except asyncio.TimeoutError:
            raise ServiceError(
                504, "sync_pending", f"the sync of the project is still running (job {job.id})"
            ) from None
        if done.state != "done":
            raise ServiceError(
                409, "sync_failed", f"the project's sync did not finish: {done.error or done.state}"
            )

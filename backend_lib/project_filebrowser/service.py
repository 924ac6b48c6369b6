"""The service layer: everything the handlers and the CLI ask of the extension.

Handlers stay thin: they parse, authorize, call a method here and shape the reply. Errors
are ``ServiceError``s carrying the HTTP status, a snake_case code and a human sentence.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import getpass
import hashlib
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from project_cloud.errors import ServiceError  # one error vocabulary for both servers
from project_cloud.schemas import project_name_problem

from ._version import __version__
from .cloud.stream import ChangeStream
from .events import EventBus
from .memory import limit_heap_growth
from .remotes import NotFound, Remote, RemoteError, open_remote
from .schemas import (
    CloudProject,
    CloudStatus,
    ConflictEvent,
    ConflictModel,
    ConflictPolicy,
    DbStatus,
    DeleteGuardModel,
    FileEntry,
    FileStatusEvent,
    JobModel,
    LocalProject,
    PlannedStep,
    PlanTotals,
    ProjectRemovedEvent,
    Status,
    SyncPlan,
    WatcherStatus,
)
from .settings import Settings
from .store import Store
from .store.engine import redact_url, sqlite_path
from .store.migrate import DatabaseTooNewError, MigrationError, head_revision, upgrade
from .store.models import Conflict, LocalProjectRow, utcnow
from .sync import failures, state
from .sync.ignore import IgnoreRules
from .sync.localfs import AtomicDownload, LocalChanged
from .sync.lock import lock_dir_for
from .sync.manager import SyncManager
from .sync.planner import (
    DeleteLocal,
    DeleteRemote,
    Download,
    MoveRemote,
    Plan,
    ResolveConflict,
    Upload,
)
from .sync.project import ProjectSync
from .sync.scanner import skip_reason
from .sync.steps import pending_states
from .sync.trees import SyncedTree, is_folder_marker, is_safe_path, shown


def _not_found(what: str) -> ServiceError:
    return ServiceError(404, "not_found", f"{what} does not exist")


def _count_files(folder: Path) -> int:
    """How many files a folder holds, at any depth (0 for a missing folder)."""
    return sum(len(files) for _dir, _dirs, files in os.walk(folder))


def _from_cloud(exc: RemoteError) -> ServiceError:
    if exc.code == "unreachable":
        return ServiceError(503, "cloud_unreachable", exc.message)
    status = exc.status if 400 <= exc.status < 500 else 502
    return ServiceError(status, exc.code, exc.message)


class ProjectFileBrowserService:
    def __init__(self, settings: Settings, log: logging.Logger | None = None) -> None:
        self.settings = settings
        self.log = log or logging.getLogger(__name__)
        self.bus = EventBus()
        self.store: Store | None = None
        self.db_revision: str | None = None
        self.db_error: ServiceError | None = None
        self.cloud_url = settings.cloud_url
        self.cloud_user: str | None = None
        self.cloud_error: str | None = None
        self.client: Remote | None = None
        self.manager: SyncManager | None = None
        self._embedded: object | None = None  # project_cloud.server.CloudServer
        self._user_check: asyncio.Task[None] | None = None
        self._user_recheck: asyncio.Task[None] | None = None

    # -- life cycle -------------------------------------------------------------------------

    def open_store(self) -> None:
        """Migrate the state DB to head and open it; on failure record a clear error and
        leave the DB untouched, so the server keeps running and says what is wrong."""
        try:
            result = upgrade(self.settings.db_url, backup=self.settings.db_backup_before_upgrade)
        except MigrationError as exc:
            code = "database_too_new" if isinstance(exc, DatabaseTooNewError) else "database_error"
            self.db_error = ServiceError(503, code, str(exc))
            self.log.error("project-filebrowser: %s", exc)
            return
        self.db_revision = result.to_revision
        self.store = Store(self.settings.db_url, journal_mode=self.settings.db_journal_mode)

    @property
    def lock_dir(self) -> Path:
        return lock_dir_for(sqlite_path(self.settings.db_url), Path(self.settings.root_dir))

    async def start(self, *, background: bool = True) -> None:
        """Start the embedded cloud if no cloud is configured, connect, start syncing
        (``background=False``: only run the jobs asked for, as the one-shot CLI does)."""
        if self.store is None:
            return
        if background:  # a long-running process: keep its resident memory to what it uses
            limit_heap_growth()
        token = self.settings.cloud_token
        if not self.cloud_url:
            try:
                token = await self._start_embedded_cloud()
            except Exception as exc:  # say why in /status and in every reply; keep serving
                self.cloud_error = f"the embedded cloud could not start: {exc}"
                self.log.exception("project-filebrowser: %s", self.cloud_error)
                return
        self.client = open_remote(self.cloud_url, token, max_retries=3)
        if background:
            await self._check_cloud_user()
        else:  # the one-shot CLI: the first job's requests need not wait for this one
            self._user_check = asyncio.create_task(self._check_cloud_user())
        cloud_url = self.cloud_url

        def stream(**kwargs: object) -> ChangeStream:
            return ChangeStream(cloud_url, token, **kwargs)  # type: ignore[arg-type]

        self.manager = SyncManager(
            store=self.store,
            client=self.client,
            root_dir=Path(self.settings.root_dir),
            lock_dir=self.lock_dir,
            bus=self.bus,
            max_concurrent_transfers=self.settings.max_concurrent_transfers,
            max_delete_fraction=self.settings.max_delete_fraction,
            debounce_seconds=self.settings.debounce_seconds,
            full_rescan_seconds=self.settings.full_rescan_seconds,
            stream=stream,
            watch=self.settings.watch,
            on_stream_state=self._on_stream_state,
        )
        await self.manager.start(background=background)

    async def _check_cloud_user(self) -> None:
        assert self.client is not None
        try:
            self.cloud_user = await self.client.user()
        except RemoteError as exc:
            self.cloud_error = str(exc)
            self.log.warning("project-filebrowser: cloud %s: %s", self.cloud_url, exc)
        else:
            self.cloud_error = None  # the cause is gone: so is its error

    def _on_stream_state(self, connected: bool) -> None:
        """The cloud's change stream is up again: whatever the cloud failed before (the
        user check at start-up included) is asked again, so old errors clear."""
        if connected and (self.cloud_user is None or self.cloud_error):
            self._user_recheck = asyncio.get_running_loop().create_task(self._check_cloud_user())

    async def _start_embedded_cloud(self) -> str:
        from project_cloud.server import CloudServer, default_cloud_dir

        folder = default_cloud_dir()
        server = CloudServer(f"sqlite:///{folder / 'cloud.db'}", str(folder / "blobs"))
        port = await server.start("127.0.0.1", 0)
        self._embedded = server
        self.cloud_url = f"http://127.0.0.1:{port}"
        return await server.ensure_user(_local_username(), token_file=folder / "local-token")

    async def stop(self) -> None:
        for check in (self._user_check, self._user_recheck):
            if check is not None:
                await check  # it catches its own errors
        self._user_check = self._user_recheck = None
        if self.manager is not None:
            await self.manager.stop()
            self.manager = None
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self._embedded is not None:
            await self._embedded.stop()  # type: ignore[attr-defined]
            self._embedded = None
        if self.store is not None:
            self.store.dispose()
            self.store = None

    def require_store(self) -> Store:
        if self.store is None:
            raise self.db_error or ServiceError(503, "database_closed", "the state DB is closed")
        return self.store

    def require_manager(self) -> tuple[SyncManager, Remote]:
        self.require_store()
        if self.manager is None or self.client is None:
            if self.cloud_error:
                raise ServiceError(503, "cloud_unavailable", self.cloud_error)
            raise ServiceError(503, "not_started", "the sync service is still starting")
        return self.manager, self.client

    # -- status -----------------------------------------------------------------------------

    def status(self) -> Status:
        watcher = self.manager.watcher if self.manager is not None else None
        stream = self.manager.stream if self.manager is not None else None
        return Status(
            version=__version__,
            projects_dir=self.settings.projects_dir,
            db_revision=self.db_revision,
            db=DbStatus(
                url=redact_url(self.settings.db_url),
                revision=self.db_revision,
                head=head_revision(),
                journal_mode=self.settings.db_journal_mode,
                error=self.db_error.message if self.db_error else None,
            ),
            cloud=CloudStatus(
                url=self.cloud_url,
                embedded=not self.settings.cloud_url,
                # reachable at start-up, and its change stream not lost since it was up
                connected=self.cloud_user is not None
                and (stream is None or stream.connected or not stream.ever_connected),
                stream=bool(stream and stream.connected),
                user=self.cloud_user,
                error=self.cloud_error,
            ),
            watcher=WatcherStatus(
                running=bool(watcher and watcher.running),
                observer=watcher.observer_kind if watcher else None,
            ),
        )

    # -- projects ---------------------------------------------------------------------------

    def _local_project(self, project_id: str) -> LocalProject:
        manager, _ = self.require_manager()
        project = manager.describe(project_id)
        if project is None:
            raise _not_found(f"linked project {project_id!r}")
        return project

    async def list_projects(
        self, scope: Literal["local", "cloud"]
    ) -> list[LocalProject] | list[CloudProject]:
        manager, client = self.require_manager()
        if scope == "cloud":
            try:
                return await client.projects()
            except RemoteError as exc:
                raise _from_cloud(exc) from exc
        with self.require_store().read() as session:
            ids = list(session.scalars(select(LocalProjectRow.id).order_by(LocalProjectRow.name)))
        return [p for p in map(manager.describe, ids) if p is not None]

    def get_project(self, project_id: str) -> LocalProject:
        return self._local_project(project_id)

    def _folder(self, local_path: str | None, name: str) -> str:
        """A project folder relative to root_dir; refuses paths that leave it."""
        rel = local_path if local_path is not None else f"{self.settings.projects_dir}/{name}"
        if not is_safe_path(rel.rstrip("/")):  # the same rule the engine applies to cloud paths
            raise ServiceError(
                400,
                "invalid_path",
                f"{rel!r} is not a folder inside the server's root directory",
            )
        return rel.rstrip("/")

    async def create_project(
        self, name: str, title: str = "", description: str = "", *, adopt: bool = False
    ) -> LocalProject:
        """Create a cloud project and link it at projects_dir/NAME. A folder there that
        already holds files is refused (409 folder_not_empty) unless ``adopt``: then its
        files are uploaded into the new project."""
        _, client = self.require_manager()
        problem = project_name_problem(name)
        if problem is not None:
            raise ServiceError(400, "invalid_name", problem)
        folder = self._folder(None, name)
        self._check_folder_free(folder)
        files = _count_files(Path(self.settings.root_dir) / folder)
        if files and not adopt:
            raise ServiceError(
                409,
                "folder_not_empty",
                f"the folder {folder} exists and holds {files} file{'s' if files != 1 else ''}; "
                "create the project with adopt to upload them into it",
                {"folder": folder, "files": files},
            )
        try:
            cloud = await client.create_project(name, title, description)
        except RemoteError as exc:
            if exc.status == 409:  # the cloud's generic "conflict" is no sync conflict
                raise ServiceError(409, "name_taken", exc.message) from exc
            raise _from_cloud(exc) from exc
        return self._link(cloud, folder)

    async def link(self, project_id: str, local_path: str | None = None) -> LocalProject:
        _, client = self.require_manager()
        with self.require_store().read() as session:
            if session.get(LocalProjectRow, project_id) is not None:
                raise ServiceError(409, "already_linked", f"project {project_id} is already linked")
        try:
            cloud = await client.project(project_id)
        except RemoteError as exc:
            raise _from_cloud(exc) from exc
        folder = self._folder(local_path, cloud.name)
        self._check_folder_free(folder)
        return self._link(cloud, folder)

    def _check_folder_free(self, folder: str) -> None:
        with self.require_store().read() as session:
            taken = session.scalar(
                select(LocalProjectRow.id).where(LocalProjectRow.local_path == folder)
            )
        if taken is not None:
            raise ServiceError(
                409, "folder_in_use", f"the folder {folder!r} is already linked to {taken}"
            )
        if (Path(self.settings.root_dir) / folder).is_file():
            raise ServiceError(409, "folder_in_use", f"{folder!r} is a file")

    def _link(self, cloud: CloudProject, folder: str) -> LocalProject:
        manager, client = self.require_manager()
        (Path(self.settings.root_dir) / folder).mkdir(parents=True, exist_ok=True)
        with self.require_store().write() as session:
            session.add(
                LocalProjectRow(
                    id=cloud.id,
                    cloud_url=client.base_url,
                    name=cloud.name,
                    title=cloud.title,
                    description=cloud.description,
                    owner=cloud.owner,
                    local_path=folder,
                )
            )
        manager.watch_project(cloud.id)
        manager.request_sync(cloud.id, user=True)
        return self._local_project(cloud.id)

    async def delete_project(self, project_id: str) -> None:
        """Delete a project from the cloud, for everyone (the cloud lets only its owner);
        unlink it here first if it is linked. Local files stay. Nothing changes when the
        cloud refuses."""
        _, client = self.require_manager()
        try:
            await client.project(project_id)  # 404 before anything changes
        except RemoteError as exc:
            raise _from_cloud(exc) from exc
        with self.require_store().read() as session:
            linked = session.get(LocalProjectRow, project_id) is not None
        try:
            await client.delete_project(project_id)
        except RemoteError as exc:
            raise _from_cloud(exc) from exc
        if linked:
            self.unlink(project_id)

    def unlink(self, project_id: str) -> None:
        manager, _ = self.require_manager()
        self._local_project(project_id)
        manager.unwatch_project(project_id)
        with self.require_store().write() as session:
            row = session.get(LocalProjectRow, project_id)
            if row is not None:
                session.delete(row)  # synced tree, cursor, conflicts, jobs go with it
        self.bus.publish(ProjectRemovedEvent(project_id=project_id))

    def sync(
        self,
        project_id: str,
        *,
        confirm_deletes: bool = False,
        restore_deletes: bool = False,
        max_delete_fraction: float | None = None,
        max_deletes: int | None = None,
    ) -> JobModel:
        """Queue a sync. ``confirm_deletes``: the user confirmed the deletes the guard paused;
        ``restore_deletes``: download the files deleted here again instead of deleting them
        in the cloud; ``max_delete_fraction`` / ``max_deletes``: this run's delete guard
        (a share of the project, or a count), instead of the setting."""
        manager, _ = self.require_manager()
        self._local_project(project_id)
        if confirm_deletes and restore_deletes:
            raise ServiceError(
                400,
                "invalid_body",
                "confirm_deletes and restore_deletes contradict each other: choose one",
            )
        return manager.request_sync(
            project_id,
            user=True,
            allow_mass_delete=confirm_deletes,
            restore_deletes=restore_deletes,
            max_delete_fraction=max_delete_fraction,
            max_deletes=max_deletes,
        )

    async def preview(
        self,
        project_id: str,
        *,
        max_delete_fraction: float | None = None,
        max_deletes: int | None = None,
    ) -> SyncPlan:
        """A dry run: what a sync would do now, with sizes; nothing changes anywhere."""
        syncer = self._syncer(
            project_id,
            max_delete_fraction=(
                self.settings.max_delete_fraction
                if max_delete_fraction is None
                else max_delete_fraction
            ),
            max_deletes=max_deletes,
        )
        try:
            plan, synced = await syncer.preview()
        except RemoteError as exc:
            raise _from_cloud(exc) from exc
        return _plan_model(project_id, plan, synced)

    def _syncer(self, project_id: str, **options: Any) -> ProjectSync:
        """The engine of one linked project, to plan with outside a job."""
        manager, client = self.require_manager()
        project = self._local_project(project_id)
        return ProjectSync(
            project_id=project_id,
            root=Path(self.settings.root_dir) / project.local_path,
            client=client,
            store=self.require_store(),
            transfers=manager.transfers,
            **options,
        )

    async def files(self, project_id: str) -> list[FileEntry]:
        """Every path of the project and its state, by the engine's own table; a look that
        writes nothing (not even the scan's index: that is the engine's, under its lock)."""
        plan, scanned = await self._syncer(project_id).plan(save_index=False)
        with self.require_store().read() as session:
            conflicted = {
                path
                for row in session.scalars(
                    select(Conflict).where(
                        Conflict.project_id == project_id, Conflict.resolved.is_(False)
                    )
                )
                for path in (row.path, row.conflict_path)
            }
        with self.require_store().read() as session:
            remote = state.load_remote(session, project_id)
            failed = failures.load(session, project_id)
        entries: dict[str, FileEntry] = {}
        for path, local in scanned.tree.items():
            entries[path] = FileEntry(path=path, size=local.size, state="synced")
        for path, remote_file in remote.items():
            entries.setdefault(path, FileEntry(path=path, size=remote_file.size, state="synced"))
        for path, state_name, size in pending_states(plan.operations):
            if state_name == "deleted":
                entries.pop(path, None)
                continue
            known = entries[path].size if path in entries else 0
            entries[path] = FileEntry(
                path=path,
                size=known if size is None else size,
                state=state_name,  # type: ignore[arg-type]
            )
        for path in conflicted & entries.keys():
            entries[path] = entries[path].model_copy(update={"state": "conflict"})
        waiting = {path for op in plan.operations for path in failures.paths_of(op)}
        for path in failed.keys() & waiting & entries.keys():  # failed alone, tried again
            entries[path] = entries[path].model_copy(
                update={"state": "failed", "reason": failures.reason(failed[path])}
            )
        for path in plan.ignored:
            if path in scanned.tree:
                entries[path] = FileEntry(path=path, size=scanned.tree[path].size, state="ignored")
        for path, reason in scanned.skipped:  # symlinks, special files, names: never synced
            entries[path] = FileEntry(
                path=shown(path), size=0, state="skipped", reason=skip_reason(path, reason)
            )
        return sorted(
            (e for e in entries.values() if not is_folder_marker(e.path)), key=lambda e: e.path
        )

    def set_conflict_policy(self, project_id: str, policy: ConflictPolicy) -> LocalProject:
        """What this project's conflicts become from now on (stored in the local DB)."""
        self._local_project(project_id)
        with self.require_store().write() as session:
            row = session.get(LocalProjectRow, project_id)
            assert row is not None
            row.conflict_policy = policy
        return self._local_project(project_id)

    # -- conflicts and jobs -----------------------------------------------------------------

    def conflicts(self, project_id: str | None = None) -> list[ConflictModel]:
        query = select(Conflict).order_by(Conflict.detected_at.desc())
        if project_id:
            query = query.where(Conflict.project_id == project_id)
        with self.require_store().read() as session:
            return [ConflictModel.model_validate(row) for row in session.scalars(query)]

    async def resolve_conflict(
        self, conflict_id: int, keep: Literal["local", "remote", "both"]
    ) -> ConflictModel:
        manager, _ = self.require_manager()
        with self.require_store().read() as session:
            row = session.get(Conflict, conflict_id)
            if row is None:
                raise _not_found(f"conflict {conflict_id}")
            project_id = row.project_id
        # under the project's lock: no sync of it runs while its files change here
        async with manager.project_lock(project_id):
            model = await self._resolve_locked(conflict_id, keep)
        manager.request_sync(project_id, user=True)
        return model

    async def _resolve_locked(
        self, conflict_id: int, keep: Literal["local", "remote", "both"]
    ) -> ConflictModel:
        with self.require_store().read() as session:
            row = session.get(Conflict, conflict_id)
            if row is None:
                raise _not_found(f"conflict {conflict_id}")
            if row.resolved:
                raise ServiceError(409, "already_resolved", f"conflict {conflict_id} is resolved")
            project = self._local_project(row.project_id)
            path, copy_path = row.path, row.conflict_path
        root = Path(self.settings.root_dir) / project.local_path
        target, copy = root / path, root / copy_path
        if keep == "local":
            if not copy.is_file():
                raise ServiceError(
                    409, "conflict_copy_missing", f"{copy_path} is gone; keep remote or both"
                )
            await asyncio.to_thread(_replace_with, copy, target)
            # an open editor of the path learns at once that its file was replaced
            self.bus.publish(
                FileStatusEvent(project_id=row.project_id, path=path, state="pending_push")
            )
        elif keep == "remote":
            copy.unlink(missing_ok=True)
        with self.require_store().write() as session:
            conflict = session.get(Conflict, conflict_id)
            assert conflict is not None
            conflict.resolved, conflict.resolution, conflict.resolved_at = True, keep, utcnow()
            return ConflictModel.model_validate(conflict)

    async def keep_copy(
        self,
        project_id: str,
        path: str,
        *,
        revision: str | None = None,
        content: bytes | None = None,
    ) -> ConflictModel:
        """Keep another version of ``path`` beside it as a conflict copy, as the engine keeps
        its own conflicts: the cloud's ``revision`` of it, or ``content`` (an editor's
        buffer). The copy is written atomically under a fresh conflict name, a Conflict is
        recorded and announced, and a sync pushes the copy. The path itself is not touched."""
        manager, client = self.require_manager()
        self._local_project(project_id)
        if (revision is None) == (content is None):
            raise ServiceError(400, "invalid_body", "give either a revision or the content")
        if not is_safe_path(path) or is_folder_marker(path):
            raise ServiceError(400, "invalid_path", f"{path!r} is not a file path in a project")
        syncer = self._syncer(project_id)
        if IgnoreRules.for_project(syncer.root)(path):
            raise ServiceError(
                400, "ignored_path", f"{path} is not synced (an ignore rule matches it)"
            )
        copy_path = syncer.conflict_copy_name(path)
        digest = hashlib.sha256()
        with AtomicDownload(syncer.root / copy_path) as copy:

            def write(chunk: bytes) -> None:
                digest.update(chunk)
                copy.write(chunk)

            if content is not None:
                write(content)
            else:
                try:
                    await client.download(project_id, path, write, revision=revision)
                except NotFound as exc:
                    raise ServiceError(
                        404,
                        "revision_not_found",
                        f"the cloud has no revision {revision!r} of {path}: {exc.message}",
                    ) from exc
                except RemoteError as exc:
                    raise _from_cloud(exc) from exc
            try:
                await asyncio.to_thread(copy.commit, None)  # the name must still be free
            except LocalChanged as exc:
                raise ServiceError(
                    409, "copy_name_taken", f"{copy_path} appeared meanwhile; try again"
                ) from exc
        with self.require_store().write() as session:
            conflict_id = state.add_conflict(
                session,
                project_id,
                path,
                copy_path,
                local_sha256=digest.hexdigest(),
                remote_revision=revision,
            )
            model = ConflictModel.model_validate(session.get(Conflict, conflict_id))
        self.bus.publish(ConflictEvent(conflict=model))
        manager.request_sync(project_id, user=True)
        return model

    def jobs(self) -> list[JobModel]:
        manager, _ = self.require_manager()
        return manager.jobs()

    async def cancel_job_and_wait(self, job_id: str, timeout: float) -> JobModel:
        """Cancel a job and return it once it has stopped."""
        self.cancel_job(job_id)
        manager, _ = self.require_manager()
        try:
            return await asyncio.wait_for(manager.wait(job_id), timeout)
        except asyncio.TimeoutError:
            raise ServiceError(
                504, "cancel_pending", f"job {job_id} is still stopping; watch for job_finished"
            ) from None

    def cancel_job(self, job_id: str) -> None:
        manager, _ = self.require_manager()
        if manager.job(job_id) is None:
            raise _not_found(f"job {job_id!r}")
        if not manager.cancel(job_id):
            raise ServiceError(409, "job_finished", f"job {job_id} has already finished")


def _plan_model(project_id: str, plan: Plan, synced: SyncedTree) -> SyncPlan:
    """The plan as the CLI and the UI show it: the steps that touch files, with sizes and
    totals (bookkeeping steps, which only record what both sides agree on, are left out)."""
    steps: list[PlannedStep] = []
    totals = PlanTotals()
    for op in plan.operations:
        if is_folder_marker(op.path):
            continue
        if isinstance(op, Upload):
            step = PlannedStep(action="upload", path=op.path, size=op.local.size)
            totals.uploads += 1
            totals.upload_bytes += 0 if op.stored else op.local.size
        elif isinstance(op, Download):
            step = PlannedStep(action="download", path=op.path, size=op.remote.size)
            totals.downloads += 1
            totals.download_bytes += op.remote.size
        elif isinstance(op, DeleteRemote):
            step = PlannedStep(action="delete_remote", path=op.path, size=synced[op.path].size)
            totals.delete_remote += 1
        elif isinstance(op, DeleteLocal):
            step = PlannedStep(action="delete_local", path=op.path, size=synced[op.path].size)
            totals.delete_local += 1
        elif isinstance(op, MoveRemote):
            step = PlannedStep(
                action="move", path=op.path, from_path=op.from_path, size=op.local.size
            )
            totals.moves += 1
        elif isinstance(op, ResolveConflict):
            step = PlannedStep(action="conflict", path=op.path, size=op.remote.size)
            totals.conflicts += 1
            totals.download_bytes += op.remote.size
            totals.upload_bytes += op.local.size
        else:
            continue
        steps.append(step)
    guard = plan.guard
    return SyncPlan(
        project_id=project_id,
        steps=steps,
        totals=totals,
        guard=None
        if guard is None
        else DeleteGuardModel(
            side=guard.side,  # type: ignore[arg-type]
            deletes=guard.deletes,
            total=guard.total,
            message=guard.message,
            reason=guard.reason,  # type: ignore[arg-type]
            confirmable=guard.confirmable,
        ),
    )


def document_bytes(content: str | dict[str, Any], fmt: str | None) -> bytes:
    """The file bytes of a document as Jupyter's contents API carries it: a notebook
    (``json``, written as Jupyter writes notebooks), ``text`` or ``base64``."""
    if fmt == "json" and isinstance(content, dict):
        import nbformat  # only here: the CLI never needs it

        # The shape, not the schema: a buffer that fails strict validation is still the
        # user's work (Jupyter saves such notebooks too, with a warning).
        if not isinstance(content.get("cells"), list) or not isinstance(
            content.get("nbformat"), int
        ):
            raise ServiceError(
                400, "invalid_notebook", "a notebook needs a 'cells' list and an 'nbformat' number"
            )
        try:
            text = nbformat.writes(nbformat.from_dict(content), version=nbformat.NO_CONVERT)
        except Exception as exc:  # nbformat raises many kinds for a malformed notebook
            raise ServiceError(400, "invalid_notebook", f"not a notebook: {exc}") from None
        return (text if text.endswith("\n") else text + "\n").encode("utf-8")
    if fmt == "text" and isinstance(content, str):
        return content.encode("utf-8")
    if fmt == "base64" and isinstance(content, str):
        try:
            return base64.b64decode(content, validate=True)
        except binascii.Error as exc:
            raise ServiceError(400, "invalid_body", f"content is not base64: {exc}") from None
    raise ServiceError(
        400,
        "invalid_body",
        "content needs a format: 'json' with a notebook object, 'text' or 'base64' with a string",
    )


def _replace_with(source: Path, target: Path) -> None:
    """Atomically put ``source``'s bytes at ``target`` and remove ``source``."""
    with AtomicDownload(target) as download, open(source, "rb") as handle:
        shutil.copyfileobj(handle, download)  # type: ignore[misc]
        download.commit(expect_sha256=None, check=False)
    source.unlink()


def _local_username() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = os.environ.get("USER", "")
    name = re.sub(r"[^A-Za-z0-9._@-]", "", name)[:64]
    return name if name and name[0].isalnum() else "local"

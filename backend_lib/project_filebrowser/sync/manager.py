"""The sync manager: every linked project, one job queue, the watcher and the change stream.

* Jobs run from a priority queue (:mod:`.jobs`): what a user asked for before background
  work. At most one job per project runs at a time (and a cross-process lock keeps the CLI
  and the server from syncing one project together); requests for a project that already
  has a queued job join it.
* File transfers across all jobs share ``max_concurrent_transfers``.
* Every job reports progress on the event bus and can be cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from sqlalchemy import select

from .. import settings as defaults
from ..cloud.stream import ChangeStream
from ..events import EventBus
from ..memory import release_free_memory
from ..remotes import Remote, RemoteError
from ..schemas import (
    CloudProjectsEvent,
    JobModel,
    LocalProject,
)
from ..store import Store
from ..store.models import Job, LocalProjectRow, utcnow
from . import failures
from .jobs import JobHandle, JobQueue
from .lock import ProjectLock
from .news import ProjectNews
from .project import ProjectSync
from .steps import CycleResult, pending_states
from .watcher import ProjectWatcher

log = logging.getLogger(__name__)


class SyncManager:
    def __init__(
        self,
        *,
        store: Store,
        client: Remote,
        root_dir: Path,
        lock_dir: Path,
        bus: EventBus,
        max_concurrent_transfers: int = defaults.MAX_CONCURRENT_TRANSFERS,
        max_delete_fraction: float = defaults.MAX_DELETE_FRACTION,
        merge_notebooks: bool = defaults.MERGE_NOTEBOOKS,
        merge_text: bool = defaults.MERGE_TEXT,
        debounce_seconds: float = defaults.DEBOUNCE_SECONDS,
        full_rescan_seconds: float = defaults.FULL_RESCAN_SECONDS,
        stream: Callable[..., ChangeStream] | None = None,
        watch: bool = True,
        on_stream_state: Callable[[bool], None] = lambda _connected: None,
    ) -> None:
        self.store = store
        self.client = client
        self.root_dir = root_dir
        self.lock_dir = lock_dir
        self.bus = bus
        self.max_delete_fraction = max_delete_fraction
        self.merge_notebooks, self.merge_text = merge_notebooks, merge_text
        self.full_rescan_seconds = full_rescan_seconds
        self.transfers = asyncio.Semaphore(max_concurrent_transfers)
        self.watcher = (
            ProjectWatcher(self._on_local_change, debounce_seconds=debounce_seconds)
            if watch
            else None
        )
        self._stream_factory = stream
        self._on_stream_state_hook = on_stream_state
        self._cloud_list: asyncio.Task[None] | None = None
        self._cloud_list_again = False
        self.stream: ChangeStream | None = None
        self.news = ProjectNews(store=store, bus=bus, root_dir=root_dir)
        self.queue = JobQueue(store=store, bus=bus, run=self._run, on_idle=release_free_memory)
        self._tasks: list[asyncio.Task[None]] = []
        self._retries: dict[str, asyncio.TimerHandle] = {}  # project -> retry of failed paths

    # -- life cycle -------------------------------------------------------------------------

    async def start(self, *, background: bool = True) -> None:
        """Start the workers; with ``background`` also the watcher, the change stream, the
        periodic rescan and a first sync of every linked project."""
        self._fail_interrupted_jobs()
        self.queue.start()
        if not background:
            return
        if self.watcher is not None:
            self.watcher.start()
            for project_id, folder in self._linked_folders().items():
                self.watcher.watch(project_id, folder)
        if self.full_rescan_seconds > 0:
            self._tasks.append(asyncio.create_task(self._rescan_loop()))
        if self._stream_factory is not None:
            self.stream = self._stream_factory(
                projects=lambda: list(self._linked_folders()),
                on_change=self._on_remote_change,
                on_state=self._on_stream_state,
                on_projects=self.publish_cloud_projects,
            )
            self.stream.start()
        for project_id in self._linked_folders():
            self.request_sync(project_id, user=False)

    async def stop(self) -> None:
        if self.stream is not None:
            await self.stream.stop()
        if self.watcher is not None:
            self.watcher.stop()
        for timer in self._retries.values():
            timer.cancel()
        self._retries.clear()
        # let cancelled jobs record their end before the store goes away
        await self.queue.stop()
        others = [*self._tasks, *([self._cloud_list] if self._cloud_list is not None else [])]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        self._tasks = []

    def _fail_interrupted_jobs(self) -> None:
        """Jobs a dead process left behind: failed, unless their project's lock is held (then
        another live process is still working on them)."""
        with self.store.write() as session:
            for job in session.scalars(select(Job).where(Job.state.in_(["queued", "running"]))):
                lock = ProjectLock(self.lock_dir, job.project_id)
                if not lock.try_acquire():
                    continue
                lock.release()
                job.state = "failed"
                job.error = "interrupted by a restart; the next sync picks up where it stopped"
                job.finished_at = utcnow()

    def _linked_folders(self) -> dict[str, Path]:
        with self.store.read() as session:
            rows = session.execute(select(LocalProjectRow.id, LocalProjectRow.local_path)).all()
        return {pid: self.root_dir / path for pid, path in rows}

    # -- hooks ------------------------------------------------------------------------------

    def _on_remote_change(self, project_id: str) -> None:
        try:
            self.request_sync(project_id, user=False)
        except KeyError:  # unlinked while the cloud announced a change of it: nothing to do
            log.debug("project-filebrowser: change of unlinked project %s ignored", project_id)

    async def _on_local_change(self, project_id: str) -> None:
        self.request_sync(project_id, user=False)

    def _on_stream_state(self, connected: bool) -> None:
        log.info("project-filebrowser: cloud change stream %s", "up" if connected else "down")
        self._on_stream_state_hook(connected)

    def publish_cloud_projects(self) -> None:
        """Fetch the cloud user's projects and announce them (``cloud_projects``); calls
        that come while a fetch runs make one more fetch after it."""
        if self._cloud_list is not None and not self._cloud_list.done():
            self._cloud_list_again = True
            return
        self._cloud_list = asyncio.get_running_loop().create_task(self._fetch_cloud_projects())

    async def _fetch_cloud_projects(self) -> None:
        while True:
            self._cloud_list_again = False
            try:
                items = await self.client.projects()
            except RemoteError as exc:  # the stream's own reconnect will ask again
                log.info("project-filebrowser: cannot list the cloud's projects: %s", exc)
            else:
                self.bus.publish(CloudProjectsEvent(items=items))
            if not self._cloud_list_again:
                return

    async def _rescan_loop(self) -> None:
        while True:
            await asyncio.sleep(self.full_rescan_seconds)
            for project_id in self._linked_folders():
                self.request_sync(project_id, user=False)

    def watch_project(self, project_id: str) -> None:
        folder = self._linked_folders().get(project_id)
        if self.watcher is not None and self.watcher.running and folder is not None:
            self.watcher.watch(project_id, folder)
        if self.stream is not None:
            asyncio.get_running_loop().create_task(self.stream.resubscribe())

    def unwatch_project(self, project_id: str) -> None:
        if self.watcher is not None:
            self.watcher.unwatch(project_id)
        for job_id in self.queue.of_project(project_id):
            self.cancel(job_id)
        if self.stream is not None:
            asyncio.get_running_loop().create_task(self.stream.resubscribe())

    # -- the queue --------------------------------------------------------------------------

    def request_sync(
        self,
        project_id: str,
        *,
        user: bool = True,
        allow_mass_delete: bool = False,
        restore_deletes: bool = False,
        max_delete_fraction: float | None = None,
        max_deletes: int | None = None,
    ) -> JobModel:
        """Queue a sync of a project, or join the one already queued for it (what this
        request asks for is added to it)."""
        return self.queue.request(
            project_id,
            user=user,
            allow_mass_delete=allow_mass_delete,
            restore_deletes=restore_deletes,
            max_delete_fraction=max_delete_fraction,
            max_deletes=max_deletes,
        )

    def jobs(self) -> list[JobModel]:
        return self.queue.jobs()

    def job(self, job_id: str) -> JobHandle | None:
        return self.queue.job(job_id)

    def cancel(self, job_id: str) -> bool:
        return self.queue.cancel(job_id)

    async def wait(self, job_id: str) -> JobModel:
        return await self.queue.wait(job_id)

    @contextlib.asynccontextmanager
    async def project_lock(self, project_id: str) -> AsyncIterator[None]:
        """Hold the project's lock (the one every sync of it holds, in this process or
        another) for a change to its files outside a sync: a conflict resolution."""
        lock = ProjectLock(self.lock_dir, project_id)
        await lock.acquire(
            on_wait=lambda holder: log.info(
                "project-filebrowser: waiting for the sync of %s (%s) to finish",
                project_id,
                holder,
            )
        )
        try:
            yield
        finally:
            lock.release()

    async def _run(self, handle: JobHandle) -> tuple[str, str | None]:
        """A job of the queue: the project's cycle under its lock."""
        project_id = handle.model.project_id
        lock = ProjectLock(self.lock_dir, project_id)
        state, error = "done", None
        try:
            await lock.acquire(
                on_wait=lambda holder: log.warning(
                    "project-filebrowser: project %s is being synced by another process (%s); "
                    "waiting for it to finish",
                    project_id,
                    holder,
                )
            )
            try:
                self.queue.set_running(handle)
                result = await self._cycle(handle)
                if result.guard is not None:
                    state, error = "failed", result.guard.message
            finally:
                lock.release()
        except asyncio.CancelledError:
            state = "cancelled"
            self.news.set_project(project_id, status="idle")
        except RemoteError as exc:
            state, error = "failed", str(exc)
            offline = exc.code == "unreachable"
            self.news.set_project(project_id, status="offline" if offline else "error", error=error)
        except Exception as exc:
            log.exception("project-filebrowser: sync of %s failed", project_id)
            state, error = "failed", f"{type(exc).__name__}: {exc}"
            self.news.set_project(project_id, status="error", error=error)
        return state, error

    async def _cycle(self, handle: JobHandle) -> CycleResult:
        project_id = handle.model.project_id
        folder = self._linked_folders().get(project_id)
        if folder is None:
            raise KeyError(f"project {project_id} is not linked")
        syncer = ProjectSync(
            project_id=project_id,
            root=folder,
            client=self.client,
            store=self.store,
            transfers=self.transfers,
            max_delete_fraction=(
                self.max_delete_fraction
                if handle.max_delete_fraction is None
                else handle.max_delete_fraction
            ),
            max_deletes=handle.max_deletes,
            merge_notebooks=self.merge_notebooks,
            merge_text=self.merge_text,
            on_progress=lambda progress: self.queue.progress(handle, progress),
            on_file=lambda path, state, size, news: self.news.file(
                project_id, path, state, size, news
            ),
            on_merged=lambda path, revision, by: self._merged(handle, path, revision, by),
        )
        try:
            if self.news.status(project_id) == "offline":
                await syncer.refresh_remote()  # "syncing" only once the cloud answers again
            self.news.set_project(project_id, status="syncing")
            result = await syncer.run(
                allow_mass_delete=handle.allow_mass_delete,
                restore_deletes=handle.restore_deletes,
                retry_failed=handle.retry_failed,
            )
        except RemoteError as exc:
            if exc.code == "unreachable":
                await self._plan_offline(syncer)
            raise
        self.news.pending[project_id] = result.pending
        if result.guard is not None:
            self.news.set_project(
                project_id, status="paused", error=None, paused_reason=result.guard.message
            )
        elif result.failures:  # the rest is synced; these paths say why not and wait
            self.news.set_project(
                project_id,
                status="error",
                error=failures.describe(result.failures),
                paused_reason=None,
                synced=True,
            )
        else:
            self.news.set_project(
                project_id, status="idle", error=None, paused_reason=None, synced=True
            )
        self._schedule_retry(project_id, result.failures)
        for conflict_id in result.conflicts:
            self.news.conflict(conflict_id)
        for by, paths in result.confirmed_applied.items():
            self.news.deletes_applied(project_id, by, paths)
        return result

    def _merged(self, handle: JobHandle, path: str, revision: str, by: str | None) -> None:
        """A path changed on both sides merged cleanly and was pushed: count it in the job
        and say so (before the path's file_status, so an open document knows why)."""
        handle.model.merged += 1
        self.news.merged(handle.model.project_id, path, revision, by)

    def _schedule_retry(self, project_id: str, failed: list[failures.Failure]) -> None:
        """A background sync when the first failed path's backoff is over."""
        timer = self._retries.pop(project_id, None)
        if timer is not None:
            timer.cancel()
        if not failed:
            return
        delay = min(f.next_attempt_at for f in failed) - utcnow()
        self._retries[project_id] = asyncio.get_running_loop().call_later(
            max(delay.total_seconds(), 0.0) + 0.1,
            lambda: self._retry(project_id),
        )

    def _retry(self, project_id: str) -> None:
        self._retries.pop(project_id, None)
        if project_id in self._linked_folders():
            self.request_sync(project_id, user=False)

    async def _plan_offline(self, syncer: ProjectSync) -> None:
        """The cloud cannot be reached: plan against the last known remote tree, so every
        local change still shows as pending (with its size) and the project counts them."""
        try:
            offline, _scanned = await syncer.plan()
        except Exception:  # the sync's own error is the one to report
            log.exception("project-filebrowser: cannot plan %s offline", syncer.project_id)
            return
        self.news.pending[syncer.project_id] = len(offline.operations)
        for path, state, size in pending_states(offline.operations):
            self.news.file(syncer.project_id, path, state, size)

    def describe(self, project_id: str) -> LocalProject | None:
        """The linked project as the UI and the CLI show it (None: not linked)."""
        return self.news.describe(project_id)

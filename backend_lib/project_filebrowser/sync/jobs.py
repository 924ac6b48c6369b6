"""The job queue: sync jobs of linked projects, in priority order, one at a time per project.

What a user asked for runs before background work; a request for a project that already has
a queued job joins it (what it asks for is added to the job); a request that comes while the
project's job runs waits for it (deferred). Each job is a row in the state DB (so a restart
can say which were interrupted), reports progress on the event bus and can be cancelled.
What a job *does* is the caller's: ``run(handle)`` (the sync manager's cycle).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..events import EventBus
from ..schemas import JobFinishedEvent, JobModel, JobProgressEvent
from ..store import Store
from ..store.models import Job, LocalProjectRow, utcnow
from .steps import Progress

PRIORITY_USER = 0
PRIORITY_BACKGROUND = 10
WORKERS = 2
PROGRESS_INTERVAL = 0.1  # seconds between job_progress events of one job
FINISHED_KEPT = 100


@dataclass
class JobHandle:
    model: JobModel
    priority: int
    allow_mass_delete: bool = False
    restore_deletes: bool = False
    max_delete_fraction: float | None = None  # for this job, instead of the setting
    max_deletes: int | None = None  # for this job: a count instead of a share
    retry_failed: bool = False  # a person asked: failed paths are tried now, backoff or not
    task: asyncio.Task[None] | None = None
    last_progress: float = 0.0
    done: asyncio.Event = field(default_factory=asyncio.Event)


JobRunner = Callable[[JobHandle], Awaitable[tuple[str, str | None]]]
"""Runs a job; returns its final state (``done``, ``failed``, ``cancelled``) and error."""


class JobQueue:
    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        run: JobRunner,
        on_idle: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.bus = bus
        self._run = run
        self._on_idle = on_idle  # no job runs any more
        self._queue: asyncio.PriorityQueue[tuple[int, int, str]] = asyncio.PriorityQueue()
        self._order = itertools.count()
        self._jobs: dict[str, JobHandle] = {}
        self._queued: dict[str, str] = {}  # project id -> queued job id
        self._running: dict[str, str] = {}  # project id -> running job id
        self._deferred: dict[str, str] = {}  # project id -> job waiting for the running one
        self._finished: list[str] = []
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._worker()) for _ in range(WORKERS)]

    async def stop(self) -> None:
        """Cancel the running jobs and the workers; cancelled jobs record their end."""
        running = [h.task for h in self._jobs.values() if h.task is not None and not h.task.done()]
        for task in [*running, *self._workers]:
            task.cancel()
        await asyncio.gather(*running, *self._workers, return_exceptions=True)
        self._workers = []

    def request(
        self,
        project_id: str,
        *,
        user: bool,
        allow_mass_delete: bool = False,
        restore_deletes: bool = False,
        max_delete_fraction: float | None = None,
        max_deletes: int | None = None,
    ) -> JobModel:
        """Queue a job for a project, or join the one already waiting for it. KeyError: the
        project is not linked."""
        priority = PRIORITY_USER if user else PRIORITY_BACKGROUND
        for job_id in (self._queued.get(project_id), self._deferred.get(project_id)):
            handle = self._jobs.get(job_id or "")
            if handle is not None:
                handle.allow_mass_delete |= allow_mass_delete
                handle.restore_deletes |= restore_deletes
                handle.retry_failed |= user
                if max_delete_fraction is not None or max_deletes is not None:
                    handle.max_delete_fraction = max_delete_fraction
                    handle.max_deletes = max_deletes
                if priority < handle.priority:
                    handle.priority = priority
                    if job_id == self._queued.get(project_id):
                        self._queue.put_nowait((priority, next(self._order), handle.model.id))
                return handle.model
        model = JobModel(id=str(uuid.uuid4()), project_id=project_id, kind="sync", state="queued")
        handle = JobHandle(
            model,
            priority,
            allow_mass_delete,
            restore_deletes,
            max_delete_fraction,
            max_deletes,
            retry_failed=user,
        )
        with self.store.write() as session:
            if session.get(LocalProjectRow, project_id) is None:
                raise KeyError(project_id)
            session.add(Job(id=model.id, project_id=project_id, kind="sync", priority=priority))
        self._jobs[model.id] = handle
        self._queued[project_id] = model.id
        self._queue.put_nowait((priority, next(self._order), model.id))
        self.bus.publish(JobProgressEvent(job=model.model_copy()))
        return model

    def jobs(self) -> list[JobModel]:
        return [handle.model for handle in self._jobs.values()]

    def job(self, job_id: str) -> JobHandle | None:
        return self._jobs.get(job_id)

    def of_project(self, project_id: str) -> list[str]:
        """The ids of the project's queued and running jobs."""
        return [j for j in (self._queued.get(project_id), self._running.get(project_id)) if j]

    def cancel(self, job_id: str) -> bool:
        handle = self._jobs.get(job_id)
        if handle is None or handle.model.state not in ("queued", "running"):
            return False
        if handle.task is not None:
            handle.task.cancel()
            return True
        project_id = handle.model.project_id
        for table in (self._queued, self._deferred):
            if table.get(project_id) == job_id:
                del table[project_id]
        self.finish(handle, "cancelled", None)
        return True

    async def wait(self, job_id: str) -> JobModel:
        handle = self._jobs[job_id]
        await handle.done.wait()
        return handle.model

    # -- a job's life -----------------------------------------------------------------------

    def set_running(self, handle: JobHandle) -> None:
        handle.model.state = "running"
        with self.store.write() as session:
            job = session.get(Job, handle.model.id)
            if job is not None:
                job.state, job.started_at = "running", utcnow()
        self.bus.publish(JobProgressEvent(job=handle.model.model_copy()))

    def progress(self, handle: JobHandle, progress: Progress) -> None:
        model = handle.model
        model.files_total, model.files_done = progress.files_total, progress.files_done
        model.bytes_total, model.bytes_done = progress.bytes_total, progress.bytes_done
        now = asyncio.get_running_loop().time()
        if now - handle.last_progress >= PROGRESS_INTERVAL or (
            progress.files_done == progress.files_total
        ):
            handle.last_progress = now
            self.bus.publish(JobProgressEvent(job=model.model_copy()))

    def finish(self, handle: JobHandle, state: str, error: str | None) -> None:
        model = handle.model
        model.state, model.error = state, error  # type: ignore[assignment]
        with self.store.write() as session:
            job = session.get(Job, model.id)
            if job is not None:
                job.state, job.error, job.finished_at = state, error, utcnow()
                job.files_done, job.files_total = model.files_done, model.files_total
                job.bytes_done, job.bytes_total = model.bytes_done, model.bytes_total
                job.merged = model.merged
        handle.done.set()
        self.bus.publish(JobFinishedEvent(job=model.model_copy()))
        self._finished.append(model.id)
        while len(self._finished) > FINISHED_KEPT:
            self._jobs.pop(self._finished.pop(0), None)

    async def _worker(self) -> None:
        while True:
            _priority, _order, job_id = await self._queue.get()
            handle = self._jobs.get(job_id)
            if handle is None or handle.model.state != "queued" or handle.task is not None:
                continue  # cancelled, or a stale entry left by a priority bump
            project_id = handle.model.project_id
            if self._queued.get(project_id) != job_id:
                continue
            del self._queued[project_id]
            if project_id in self._running:
                self._deferred[project_id] = job_id
                continue
            self._running[project_id] = job_id
            handle.task = asyncio.create_task(self._execute(handle))
            # wait() neither raises the job's own cancellation nor swallows this worker's
            await asyncio.wait({handle.task})

    async def _execute(self, handle: JobHandle) -> None:
        project_id = handle.model.project_id
        state, error = "failed", "the job ended before it could say how"
        try:
            state, error = await self._run(handle)
        finally:
            self.finish(handle, state, error)
            self._running.pop(project_id, None)
            if not self._running:
                self._on_idle()
            deferred = self._deferred.pop(project_id, None)
            if deferred is not None:
                self._queued[project_id] = deferred
                deferred_handle = self._jobs[deferred]
                self._queue.put_nowait((deferred_handle.priority, next(self._order), deferred))

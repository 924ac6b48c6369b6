"""The service's runtime: its settings, state DB, remote and sync manager, from start to
stop, and the status of each; the other parts of the service (:mod:`.projects`,
:mod:`.files`, :mod:`.conflicts`) build on it.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import re
from pathlib import Path
from typing import Any

from project_cloud.errors import ServiceError  # one error vocabulary for both servers

from .._version import __version__
from ..cloud.stream import ChangeStream
from ..events import EventBus
from ..memory import limit_heap_growth
from ..remotes import Remote, RemoteError, open_remote
from ..schemas import (
    CloudStatus,
    DbStatus,
    JobModel,
    LocalProject,
    Status,
    WatcherStatus,
)
from ..settings import Settings
from ..store import Store
from ..store.engine import redact_url, sqlite_path
from ..store.location import default_cloud_dir
from ..store.migrate import DatabaseTooNewError, MigrationError, head_revision, upgrade
from ..sync.lock import lock_dir_for
from ..sync.manager import SyncManager
from ..sync.project import ProjectSync


def not_found(what: str) -> ServiceError:
    return ServiceError(404, "not_found", f"{what} does not exist")


def from_cloud(exc: RemoteError) -> ServiceError:
    if exc.code == "unreachable":
        return ServiceError(503, "cloud_unreachable", exc.message)
    status = exc.status if 400 <= exc.status < 500 else 502
    return ServiceError(status, exc.code, exc.message)


class Runtime:
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
            merge_notebooks=self.settings.merge_notebooks,
            merge_text=self.settings.merge_text,
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
        # lazy: the cloud's stack, for a server that embeds it
        from project_cloud.server import CloudServer, default_db_url, default_storage_url

        folder = default_cloud_dir()  # the extension's folder for it (CONTRACT.md)
        server = CloudServer(default_db_url(folder), default_storage_url(folder))
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

    def _local_project(self, project_id: str) -> LocalProject:
        manager, _ = self.require_manager()
        project = manager.describe(project_id)
        if project is None:
            raise not_found(f"linked project {project_id!r}")
        return project

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
            raise not_found(f"job {job_id!r}")
        if not manager.cancel(job_id):
            raise ServiceError(409, "job_finished", f"job {job_id} has already finished")


def _local_username() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = os.environ.get("USER", "")
    name = re.sub(r"[^A-Za-z0-9._@-]", "", name)[:64]
    return name if name and name[0].isalnum() else "local"

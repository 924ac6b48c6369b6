"""Running the Projects service: :class:`CloudServer` (standalone or embedded).

Embedded in the Jupyter extension (``cloud_url`` empty), in a data folder ``d`` of the
host's choosing (the service's own default is :func:`default_data_dir`)::

    from project_cloud.server import CloudServer, default_db_url, default_storage_url

    server = CloudServer(default_db_url(d), default_storage_url(d))
    port = await server.start("127.0.0.1", 0)          # on the Jupyter server's loop
    token = await server.ensure_user(local_username, token_file=d / "local-token")
    cloud_url = f"http://127.0.0.1:{port}"
    ...
    await server.stop()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_core.paths import jupyter_data_dir
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .blobs import TEMP_MAX_AGE, BlobStore
from .core import DEFAULT_MAX_FILE_SIZE
from .db import create_db_engine, upgrade
from .gc import DEFAULT_GRACE, GcReport, collect
from .handlers import NotFoundHandler, routes
from .notify import Notifier, make_notifier
from .retention import DEFAULT_KEEP_DAYS
from .service import CloudService
from .web import DRAIN_LIMIT, MAX_JSON_BODY, AppContext, redacting_log_function

log = logging.getLogger(__name__)

WEBSOCKET_MAX_MESSAGE = 64 * 1024
STOP_DRAIN_SECONDS = 10.0  # how long a stop lets requests being answered finish
TEMP_SWEEP_SECONDS = 5 * 60  # how often stale partial uploads are looked for
GC_INTERVAL_SECONDS = 24 * 3600  # how often retention and garbage collection run
GC_FIRST_DELAY_SECONDS = 5 * 60  # the first run, after start (not at once: start-up is busy)


def default_data_dir() -> Path:
    """The service's own default data folder, ``<jupyter data dir>/project_cloud/``: its
    metadata DB ``cloud.db`` and its blob store ``blobs/``. A host that embeds or mounts the
    service passes its own folder instead (the ``project-filebrowser`` extension keeps its
    embedded cloud, and the ``project-filebrowser cloud`` commands their data, under its
    own data folder)."""
    return Path(jupyter_data_dir()) / "project_cloud"


def default_db_url(folder: Path | None = None) -> str:
    """``sqlite:///<folder>/cloud.db`` (default folder: :func:`default_data_dir`)."""
    return f"sqlite:///{(folder or default_data_dir()) / 'cloud.db'}"


def default_storage_url(folder: Path | None = None) -> str:
    """``<folder>/blobs`` (default folder: :func:`default_data_dir`)."""
    return str((folder or default_data_dir()) / "blobs")


def make_app(
    service: CloudService,
    *,
    executor: ThreadPoolExecutor | None = None,
    max_json_body: int = MAX_JSON_BODY,
    **settings: Any,
) -> tornado.web.Application:
    """The Tornado application serving ``service`` under ``/api/v1``."""
    ctx = AppContext(service=service, executor=executor, max_json_body=max_json_body)
    app = tornado.web.Application(
        routes(ctx),  # type: ignore[arg-type]
        default_handler_class=NotFoundHandler,
        default_handler_args={"ctx": ctx},
        log_function=redacting_log_function,
        websocket_max_message_size=WEBSOCKET_MAX_MESSAGE,
        websocket_ping_interval=30,
        compress_response=False,
        **settings,
    )
    app.settings["project_cloud_context"] = ctx
    return app


class CloudServer:
    """The Projects service on one host/port, on the running asyncio/tornado loop.

    ``db_url``: SQLAlchemy URL of the metadata DB (migrated at start): SQLite, or
    PostgreSQL (``postgresql+psycopg://user:pw@host/db``) for several replicas.
    ``storage_url``: fsspec URL (or a local folder) of the blob store, e.g.
    ``s3://bucket/prefix?endpoint_url=...`` (see :func:`project_cloud.blobs.parse_storage_url`).
    ``max_file_size``: larger uploads get 413. Blocking work (DB, blob IO) runs in a thread
    pool of ``workers`` threads. ``notifier``: default :func:`make_notifier` - PostgreSQL
    ``LISTEN/NOTIFY`` for a PostgreSQL URL (replicas notify each other's ``/stream``
    subscribers), in-process otherwise. Partial uploads (``tmp/*.part``) that no upload
    of this process uses and that are untouched for ``temp_max_age`` seconds are removed
    at start and every ``temp_sweep_seconds``. :meth:`stop` lets requests being answered
    finish for up to ``drain_seconds`` and answers new ones 503 ``shutting_down``.

    Retention and garbage collection (:func:`project_cloud.gc.collect`) run in the thread
    pool ``gc_first_delay`` seconds after start, then every ``gc_interval`` seconds (None:
    never), keeping ``keep_days`` of full history (0: everything, forever) and collecting
    blobs unreferenced for ``gc_grace``; each run's report is logged and kept in
    :attr:`last_gc`.
    """

    def __init__(
        self,
        db_url: str,
        storage_url: str,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        *,
        notifier: Notifier | None = None,
        workers: int = 8,
        max_json_body: int = MAX_JSON_BODY,
        temp_max_age: float = TEMP_MAX_AGE,
        temp_sweep_seconds: float = TEMP_SWEEP_SECONDS,
        drain_seconds: float = STOP_DRAIN_SECONDS,
        keep_days: int = DEFAULT_KEEP_DAYS,
        gc_interval: float | None = GC_INTERVAL_SECONDS,
        gc_first_delay: float = GC_FIRST_DELAY_SECONDS,
        gc_grace: dt.timedelta = DEFAULT_GRACE,
    ) -> None:
        self.db_url = db_url
        self.storage_url = storage_url
        self.max_file_size = max_file_size
        self.max_json_body = max_json_body
        self.workers = workers
        self.temp_max_age = temp_max_age
        self.temp_sweep_seconds = temp_sweep_seconds
        self.drain_seconds = drain_seconds
        self._sweeper: asyncio.Task[None] | None = None
        self.keep_days = keep_days
        self.gc_interval = gc_interval
        self.gc_first_delay = gc_first_delay
        self.gc_grace = gc_grace
        self.last_gc: GcReport | None = None
        self._collector: asyncio.Task[None] | None = None
        self.engine = create_db_engine(db_url)
        self.blobs = BlobStore(storage_url)
        self.notifier: Notifier = notifier if notifier is not None else make_notifier(db_url)
        self.service = CloudService(self.engine, self.blobs, self.notifier, max_file_size)
        self.port: int | None = None
        self.host: str | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._http: HTTPServer | None = None
        self._app: tornado.web.Application | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        if self.port is None or self.host is None:
            raise RuntimeError("the server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Migrate the DB, bind ``host:port`` (0 = a free port) and serve. Returns the port."""
        if self._http is not None:
            raise RuntimeError("the server is already started")
        loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="project-cloud")
        await self._run(upgrade, self.engine)
        await self._sweep_temp()
        self.notifier.bind_loop(loop)
        try:
            await self.notifier.start()
        except BaseException:
            self.notifier.bind_loop(None)
            raise
        self._app = make_app(
            self.service, executor=self._executor, max_json_body=self.max_json_body
        )
        self._http = HTTPServer(
            self._app,
            # Our handlers enforce the real limits (with JSON errors); this is the backstop.
            max_body_size=max(self.max_file_size, self.max_json_body) + DRAIN_LIMIT + 1,
            idle_connection_timeout=300,
        )
        sockets = bind_sockets(port, address=host)
        self._http.add_sockets(sockets)
        self.host = host
        self.port = int(sockets[0].getsockname()[1])
        self._sweeper = loop.create_task(self._sweep_periodically())
        if self.gc_interval is not None:
            self._collector = loop.create_task(self._collect_periodically(self.gc_interval))
        log.info("Projects service listening on %s", self.url)
        return self.port

    async def _sweep_temp(self) -> None:
        removed = await self._run(self.blobs.cleanup_temp, self.temp_max_age)
        if removed:
            log.info("removed %d stale partial uploads", removed)

    async def _sweep_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.temp_sweep_seconds)
            try:
                await self._sweep_temp()
            except Exception:  # a storage hiccup: try again next time
                log.warning("could not clean up partial uploads", exc_info=True)

    def collect_garbage(self, now: dt.datetime | None = None) -> GcReport:
        """One retention and garbage collection run (blocking: call it in a thread)."""
        report = collect(self.service.core, now=now, keep_days=self.keep_days, grace=self.gc_grace)
        self.last_gc = report
        return report

    async def _collect_periodically(self, interval: float) -> None:
        await asyncio.sleep(self.gc_first_delay)
        while True:
            try:
                await self._run(self.collect_garbage)
            except Exception:  # a storage or DB hiccup: try again next time
                log.warning("retention and garbage collection failed", exc_info=True)
            await asyncio.sleep(interval)

    async def ensure_user(self, username: str, token_file: Path | None = None) -> str:
        """Create ``username`` if needed and return a token (see
        :meth:`CloudService.ensure_user`)."""
        return await self._run(self.service.ensure_user, username, token_file)  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """Stop listening, close websockets, let the requests being answered finish (new
        ones on open connections get 503 ``shutting_down``), close the connections, and
        dispose of the DB engine."""
        for task in (self._sweeper, self._collector):
            if task is not None:
                task.cancel()
        self._sweeper = self._collector = None
        http, self._http = self._http, None
        if http is not None:
            http.stop()
            ctx: AppContext | None = (
                self._app.settings.get("project_cloud_context") if self._app else None
            )
            if ctx is not None:
                ctx.stopping = True
            for conn in list(ctx.connections if ctx else ()):
                conn.close(1001, "server shutting down")
            if ctx is not None and not await ctx.drain(self.drain_seconds):
                log.warning("%d requests were still being answered at stop", len(ctx.in_flight))
            try:
                await asyncio.wait_for(http.close_all_connections(), timeout=10)
            except asyncio.TimeoutError:
                log.warning("some connections did not close in time")
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown, True)
        await self.notifier.close()
        self.notifier.bind_loop(None)
        self.engine.dispose()

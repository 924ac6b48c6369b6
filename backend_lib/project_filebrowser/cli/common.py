"""What the commands that use the sync service share: open it on ``--db``/``--root`` with the
stored login, find a project by id or name, show a sync's progress."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from project_cloud.errors import ServiceError

from .. import credentials
from ..settings import Settings
from ..store.location import resolve_db_url
from .app import T, db_option, root_option

if TYPE_CHECKING:
    from ..service import ProjectFileBrowserService


def run(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio  # lazy: a command that needs no event loop (a no-op sync) does without

    return asyncio.run(coro)


def service_command(func: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Open the service on --db/--root with the stored login, run ``func(service, ...)``,
    close it; every failure becomes one clear line and exit status 1."""

    @db_option
    @root_option
    @wraps(func)
    def wrapper(db_url: str | None, root: Path | None, **kwargs: Any) -> None:

        async def go() -> None:
            service = open_service(db_url, root)
            try:
                await service.start(background=bool(kwargs.get("watch")))
                await func(service, **kwargs)
            finally:
                await service.stop()

        try:
            run(go())
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None

    return wrapper


def open_service(db_url: str | None, root: Path | None) -> ProjectFileBrowserService:
    from ..service import ProjectFileBrowserService  # lazy: the whole sync stack

    login = credentials.load()
    if login is None:
        raise ServiceError(
            401, "not_logged_in", "not logged in: run `project-filebrowser login URL --token T`"
        )
    settings = Settings(
        db_url=resolve_db_url(db_url),
        root_dir=str((root or Path.cwd()).resolve()),
        cloud_url=login.url,
        cloud_token=login.token,
    )
    service = ProjectFileBrowserService(settings)
    service.open_store()
    service.require_store()
    return service


async def find_project(service: ProjectFileBrowserService, ref: str, *, cloud: bool = False) -> str:
    """A project id from an id or a name (linked projects first, then the cloud's)."""

    scopes = ("local", "cloud") if cloud else ("local",)
    for scope in scopes:
        for project in await service.list_projects(scope):
            if ref in (project.id, project.name):
                return str(project.id)
    where = "in the cloud" if cloud else "linked here"
    raise ServiceError(404, "not_found", f"no project {ref!r} {where}")


async def sync_with_progress(
    service: ProjectFileBrowserService, project_ids: list[str], **options: Any
) -> bool:
    """Queue a sync of each project (``options`` go to the service's ``sync``) and show a
    progress bar until all finish."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn  # lazy: rich

    from ..schemas import DeletesAppliedEvent, JobProgressEvent  # lazy: pydantic

    manager = service.manager
    jobs = {pid: service.sync(pid, **options) for pid in project_ids}
    names = {pid: service.get_project(pid).name for pid in project_ids}
    ok = True
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(),
        transient=False,
    ) as bar:
        tasks = {
            job.id: bar.add_task(names[pid], total=None, files="") for pid, job in jobs.items()
        }

        def on_event(event: object) -> None:
            if isinstance(event, JobProgressEvent) and event.job.id in tasks:
                job = event.job
                bar.update(
                    tasks[job.id],
                    total=job.bytes_total or None,
                    completed=job.bytes_done,
                    files=f"{job.files_done}/{job.files_total} files",
                )
            elif isinstance(event, DeletesAppliedEvent) and event.project_id in names:
                bar.console.print(f"{names[event.project_id]}: {event.message}")

        unsubscribe = service.bus.subscribe(on_event)
        try:
            for pid, job in jobs.items():
                finished = await manager.wait(job.id)
                bar.update(tasks[job.id], completed=finished.bytes_done, total=finished.bytes_total)
                if finished.state != "done":
                    ok = False
                    bar.console.print(f"[red]{names[pid]}: {finished.error or finished.state}")
        finally:
            unsubscribe()
    return ok


def printable(path: str) -> str:
    """A path on one line of a terminal: control characters as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in path)

"""What the commands that use the sync service share: open it on ``--db``/``--root`` with the
stored login, find a project by id or name, show a sync's progress."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
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
    close it; every failure becomes one clear line and exit status 1. A command's
    ``no_merge`` option (``--no-merge``) turns merging off for this run."""

    @db_option
    @root_option
    @wraps(func)
    def wrapper(db_url: str | None, root: Path | None, **kwargs: Any) -> None:

        async def go() -> None:
            service = open_service(db_url, root, no_merge=kwargs.pop("no_merge", False))
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


def open_service(
    db_url: str | None, root: Path | None, *, no_merge: bool = False
) -> ProjectFileBrowserService:
    """The sync service on the stored login, with the settings of Jupyter's config files
    (:func:`config_settings`); ``no_merge``: no three-way merges in this run."""
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
        **config_settings(),
    )
    if no_merge:
        settings = replace(settings, merge_notebooks=False, merge_text=False)
    service = ProjectFileBrowserService(settings)
    service.open_store()
    service.require_store()
    return service


# The settings of the server extension that the command line honours too, read from the
# same config files (how a sync behaves; not where the DB or the cloud is: --db and login).
CLI_SETTINGS = ("max_concurrent_transfers", "max_delete_fraction", "merge_notebooks", "merge_text")


def config_settings() -> dict[str, Any]:
    """The :data:`CLI_SETTINGS` set for ``ProjectFileBrowser`` in Jupyter's config files
    (``jupyter_server_config.d/*.json``, ``jupyter_server_config.json`` and ``.py`` in each
    folder of ``jupyter --paths``' config path, later ones winning, as the server reads them)."""
    from jupyter_core.paths import jupyter_config_path  # lazy: only for the sync service
    from traitlets.config.loader import (
        Config,
        ConfigFileNotFound,
        JSONFileConfigLoader,
        PyFileConfigLoader,
    )

    merged = Config()
    for folder in reversed(jupyter_config_path()):  # lowest priority first
        loaders: list[JSONFileConfigLoader | PyFileConfigLoader] = [
            JSONFileConfigLoader(conf.name, str(conf.parent))
            for conf in sorted(Path(folder, "jupyter_server_config.d").glob("*.json"))
        ]
        loaders.append(JSONFileConfigLoader("jupyter_server_config.json", folder))
        loaders.append(PyFileConfigLoader("jupyter_server_config.py", folder))
        for loader in loaders:
            try:
                merged.merge(loader.load_config())
            except ConfigFileNotFound:
                continue
            except Exception as exc:  # the server would refuse it too: say which file
                raise ServiceError(
                    400, "invalid_config", f"cannot read {loader.full_filename}: {exc}"
                ) from exc
    section = merged.get("ProjectFileBrowser", {})
    return {name: section[name] for name in CLI_SETTINGS if name in section}


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

    from ..schemas import DeletesAppliedEvent, FileMergedEvent, JobProgressEvent  # lazy

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
            elif isinstance(event, FileMergedEvent) and event.project_id in names:
                by = f" (with {event.merged_with}'s version)" if event.merged_with else ""
                bar.console.print(
                    f"{names[event.project_id]}: merged the edits to {printable(event.path)}{by}",
                    markup=False,
                )

        unsubscribe = service.bus.subscribe(on_event)
        try:
            for pid, job in jobs.items():
                finished = await manager.wait(job.id)
                bar.update(tasks[job.id], completed=finished.bytes_done, total=finished.bytes_total)
                if finished.merged:
                    files = "1 file" if finished.merged == 1 else f"{finished.merged} files"
                    bar.console.print(f"{names[pid]}: merged {files}", markup=False)
                if finished.state != "done":
                    ok = False
                    bar.console.print(f"[red]{names[pid]}: {finished.error or finished.state}")
        finally:
            unsubscribe()
    return ok


def printable(path: str) -> str:
    """A path on one line of a terminal: control characters as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in path)

"""The ``project-filebrowser`` command.

Exit status: 0 on success, 1 on a failure explained in one line, 2 on bad usage. Options
follow the command: ``project-filebrowser sync demo --db URL --root DIR``.

Start-up is kept fast (a no-op ``sync`` answers in a tenth of a second): this module imports
at its top only what costs a few milliseconds. The heavy modules are imported where a
command first needs them, each import marked ``# lazy:`` - the sync service (SQLAlchemy,
httpx, pydantic, Tornado), asyncio, rich, alembic and the cloud's own commands - and the
types of those modules come in under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from project_cloud.errors import ServiceError

from . import credentials
from ._version import __version__
from .settings import Settings
from .store.location import default_cloud_dir, resolve_db_url

if TYPE_CHECKING:
    from .schemas import SyncPlan
    from .service import ProjectFileBrowserService

T = TypeVar("T")

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="State DB URL (default: the extension's db_url, so the CLI and JupyterLab share state).",
)
root_option = click.option(
    "--root",
    "root",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder projects live under, in DIR/projects/ (default: the current folder).",
)


class _Main(click.Group):
    """The top-level group; the ``cloud`` commands are imported only when used, so that the
    everyday commands start fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "cloud"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "cloud":
            from project_cloud.cli import DATA_DIR_KEY, cloud  # lazy: the service's own stack

            ctx.meta[DATA_DIR_KEY] = default_cloud_dir()  # the contract's default data folder
            return cloud
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="project-filebrowser")
def main() -> None:
    """Keep Jupyter project folders in two-way sync with a Projects cloud."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")


# -- db -------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The local state DB: migrate it, show its revision."""


@db.command("upgrade")
@db_option
@click.option("--no-backup", is_flag=True, help="Do not copy the SQLite file aside first.")
def db_upgrade(db_url: str | None, no_backup: bool) -> None:
    """Migrate the local state DB to the newest schema."""
    from .store.engine import redact_url  # lazy: SQLAlchemy
    from .store.migrate import MigrationError, upgrade  # lazy: alembic

    url = resolve_db_url(db_url)
    try:
        result = upgrade(url, backup=not no_backup)
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    if result.from_revision == result.to_revision:
        click.echo(f"{redact_url(url)} is already at {result.to_revision} (head)")
        return
    click.echo(
        f"{redact_url(url)}: upgraded {result.from_revision or 'empty'} -> {result.to_revision}"
    )
    if result.backup_path:
        click.echo(f"backup: {result.backup_path}")


@db.command("current")
@db_option
def db_current(db_url: str | None) -> None:
    """Show the local state DB's revision."""
    from .store.engine import redact_url  # lazy: SQLAlchemy
    from .store.migrate import current_revision, head_revision  # lazy: alembic

    url = resolve_db_url(db_url)
    try:
        revision = current_revision(url)
    except Exception as exc:  # any driver error: say it in one line
        raise click.ClickException(f"cannot read {redact_url(url)}: {exc}") from exc
    head = head_revision()
    marker = " (head)" if revision == head else f" (head is {head})"
    click.echo(f"{revision or 'none'}{marker}")


# -- the sync commands ----------------------------------------------------------------------


def _run(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio  # lazy: a command that needs no event loop (a no-op sync) does without

    return asyncio.run(coro)


def _service_command(func: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Open the service on --db/--root with the stored login, run ``func(service, ...)``,
    close it; every failure becomes one clear line and exit status 1."""

    @db_option
    @root_option
    @wraps(func)
    def wrapper(db_url: str | None, root: Path | None, **kwargs: Any) -> None:

        async def go() -> None:
            service = _open_service(db_url, root)
            try:
                await service.start(background=bool(kwargs.get("watch")))
                await func(service, **kwargs)
            finally:
                await service.stop()

        try:
            _run(go())
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None

    return wrapper


def _open_service(db_url: str | None, root: Path | None) -> ProjectFileBrowserService:
    from .service import ProjectFileBrowserService  # lazy: the whole sync stack

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


async def _find_project(
    service: ProjectFileBrowserService, ref: str, *, cloud: bool = False
) -> str:
    """A project id from an id or a name (linked projects first, then the cloud's)."""

    scopes = ("local", "cloud") if cloud else ("local",)
    for scope in scopes:
        for project in await service.list_projects(scope):
            if ref in (project.id, project.name):
                return str(project.id)
    where = "in the cloud" if cloud else "linked here"
    raise ServiceError(404, "not_found", f"no project {ref!r} {where}")


async def _sync_with_progress(
    service: ProjectFileBrowserService, project_ids: list[str], **options: Any
) -> bool:
    """Queue a sync of each project (``options`` go to the service's ``sync``) and show a
    progress bar until all finish."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn  # lazy: rich

    from .schemas import DeletesAppliedEvent, JobProgressEvent  # lazy: pydantic

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


@main.command()
@click.argument("url")
@click.option("--token", default=None, help="An API token of the cloud.")
@click.option("--username", default=None)
@click.option("--password", default=None)
def login(url: str, token: str | None, username: str | None, password: str | None) -> None:
    """Store credentials for a cloud (readable by you alone)."""
    from .remotes import RemoteError, open_remote  # lazy: httpx

    if bool(token) == bool(username and password):
        raise click.UsageError("give either --token, or --username and --password")
    if not url.startswith(("http://", "https://")):
        raise click.UsageError(f"{url!r} is not an http(s) URL")

    async def check() -> tuple[str, str]:
        async with open_remote(url, token or "", max_retries=1) as client:
            final = token or await client.login(str(username), str(password))
        async with open_remote(url, final, max_retries=1) as client:
            return final, await client.user()

    try:
        final, user = _run(check())
    except RemoteError as exc:
        raise click.ClickException(f"login to {url} failed: {exc}") from exc
    path = credentials.save(
        credentials.Credentials(url=url.rstrip("/"), token=final, username=user)
    )
    click.echo(f"logged in to {url} as {user} (credentials in {path})")


@main.command()
@click.option("--cloud", "cloud", is_flag=True, help="List every project in the cloud.")
@_service_command
async def projects(service: ProjectFileBrowserService, cloud: bool) -> None:
    """List projects (linked here, or all in the cloud)."""
    import shutil  # lazy: used by this command alone

    from rich.console import Console as RichConsole  # lazy: rich
    from rich.table import Table  # lazy: rich

    items = await service.list_projects("cloud" if cloud else "local")
    table = Table(box=None)
    Console = partial(RichConsole, width=max(120, shutil.get_terminal_size().columns))
    if cloud:
        linked = {p.id for p in await service.list_projects("local")}
        for column in ("name", "id", "owner", "files", "linked"):
            table.add_column(column)
        for p in items:
            table.add_row(p.name, p.id, p.owner, str(p.file_count), "yes" if p.id in linked else "")
    else:
        for column in ("name", "id", "folder", "status", "pending", "conflicts"):
            table.add_column(column)
        for p in items:
            table.add_row(p.name, p.id, p.local_path, p.status, str(p.pending), str(p.conflicts))
    if not items:
        click.echo("no projects" + (" in the cloud" if cloud else " linked here"))
        return
    Console().print(table)


@main.command()
@click.argument("name")
@click.option(
    "--adopt",
    is_flag=True,
    help="If projects/NAME already holds files, upload them into the new project.",
)
@_service_command
async def create(service: ProjectFileBrowserService, name: str, adopt: bool) -> None:
    """Create a cloud project and link it at projects/NAME."""

    try:
        project = await service.create_project(name, adopt=adopt)
    except ServiceError as exc:
        if exc.code == "folder_not_empty":
            raise ServiceError(
                exc.status,
                exc.code,
                f"{exc.details['folder']} already holds {exc.details['files']} file(s); "
                "run again with --adopt to upload them into the new project",
            ) from exc
        raise
    await _sync_with_progress(service, [project.id])
    click.echo(f"created {project.name} ({project.id}) at {project.local_path}")


@main.command()
@click.argument("project")
@click.argument("path", required=False)
@_service_command
async def link(service: ProjectFileBrowserService, project: str, path: str | None) -> None:
    """Link an existing cloud project (id or name) into a folder and pull it."""
    project_id = await _find_project(service, project, cloud=True)
    linked = await service.link(project_id, path)
    ok = await _sync_with_progress(service, [linked.id])
    click.echo(f"linked {linked.name} ({linked.id}) at {linked.local_path}")
    if not ok:
        raise click.ClickException(f"the first sync of {linked.name} did not finish")


@main.command()
@click.argument("project")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_service_command
async def delete(service: ProjectFileBrowserService, project: str, yes: bool) -> None:
    """Delete a project from the cloud, for everyone (owner only); local files stay."""
    project_id = await _find_project(service, project, cloud=True)
    cloud = next(p for p in await service.list_projects("cloud") if p.id == project_id)
    files = f"{cloud.file_count} file{'s' if cloud.file_count != 1 else ''}"
    question = f"Delete project {cloud.name} and its {files} from the cloud for everyone?"
    if not yes and not click.confirm(question, default=False):
        raise click.ClickException("nothing deleted")
    await service.delete_project(project_id)
    click.echo(f"deleted {cloud.name} ({project_id}) and its {files} from the cloud")


@main.command()
@click.argument("project")
@_service_command
async def unlink(service: ProjectFileBrowserService, project: str) -> None:
    """Stop syncing a project; its files stay."""
    project_id = await _find_project(service, project)
    described = service.get_project(project_id)
    service.unlink(project_id)
    click.echo(f"unlinked {described.name}; its files stay in {described.local_path}")


class MaxDelete(click.ParamType):
    """``--max-delete``: a share of the project (``30%``) or a number of files (``20``)."""

    name = "N|N%"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[float | None, int | None]:
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        try:
            if text.endswith("%"):
                percent = float(text[:-1])
                if 0 <= percent <= 100:
                    return percent / 100, None
            elif int(text) >= 0:
                return None, int(text)
        except ValueError:
            pass
        self.fail(f"{value!r} is neither a percentage (0%-100%) nor a count of files", param, ctx)


@main.command()
@click.argument("project", required=False)
@click.option("--watch", is_flag=True, help="Keep syncing as files change, until Ctrl-C.")
@click.option(
    "--dry-run", is_flag=True, help="Show what a sync would upload, download, delete, move."
)
@click.option(
    "--confirm-deletes",
    is_flag=True,
    help="Apply the deletes the delete guard paused (see them first with --dry-run).",
)
@click.option(
    "--max-delete",
    type=MaxDelete(),
    default=None,
    help="This run's delete guard: pause if it would delete more than N files, or more "
    "than N% of the project, on either side (default: the max_delete_fraction setting).",
)
@db_option
@root_option
def sync(
    project: str | None,
    watch: bool,
    dry_run: bool,
    confirm_deletes: bool,
    max_delete: tuple[float | None, int | None] | None,
    db_url: str | None,
    root: Path | None,
) -> None:
    """Sync once (or keep syncing), with a progress bar."""
    if dry_run and (watch or confirm_deletes):
        raise click.UsageError(
            "--dry-run changes nothing: it goes with neither --watch nor --confirm-deletes"
        )
    fraction, count = max_delete or (None, None)
    if not (watch or dry_run or confirm_deletes or max_delete):
        from .sync.quick import up_to_date  # lazy: sqlite3 and the fast path's client

        try:
            login = credentials.load()
        except ValueError:
            login = None  # the full sync says what is wrong with it
        names = login and up_to_date(
            resolve_db_url(db_url), (root or Path.cwd()).resolve(), login.url, login.token, project
        )
        if names:  # nothing to do, known without starting the sync service
            for name in names:
                click.echo(f"{name}: up to date")
            return
    _sync(
        db_url=db_url,
        root=root,
        project=project,
        watch=watch,
        dry_run=dry_run,
        confirm_deletes=confirm_deletes,
        limits={"max_delete_fraction": fraction, "max_deletes": count},
    )


@_service_command
async def _sync(
    service: ProjectFileBrowserService,
    project: str | None,
    watch: bool,
    dry_run: bool,
    confirm_deletes: bool,
    limits: dict[str, Any],
) -> None:
    if project:
        ids = [await _find_project(service, project)]
    else:
        ids = [p.id for p in await service.list_projects("local")]
        if not ids:
            raise click.ClickException("no projects linked here; see `project-filebrowser link`")
    if dry_run:
        for pid in ids:
            _print_plan(service.get_project(pid).name, await service.preview(pid, **limits))
        return
    ok = await _sync_with_progress(service, ids, confirm_deletes=confirm_deletes, **limits)
    if watch:
        import asyncio  # lazy: see _run

        click.echo("watching for changes; Ctrl-C stops")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        return
    for pid in ids:
        described = service.get_project(pid)
        if described.status in ("paused", "error"):  # held, or some paths failed
            ok = False
            click.echo(f"{described.name}: {described.error}", err=True)
    if not ok:
        raise click.ClickException("sync did not finish for every project (see above)")


_ACTIONS = {  # a plan step as the dry run prints it
    "upload": "upload",
    "download": "download",
    "delete_local": "delete here",
    "delete_remote": "delete in cloud",
    "move": "move in cloud",
    "conflict": "conflict",
}


def _print_plan(name: str, plan: SyncPlan) -> None:
    """A dry run's plan: one line a step (action, size, path), then the totals."""
    from rich.filesize import decimal  # lazy: rich

    totals = plan.totals
    if not plan.steps:
        click.echo(f"{name}: nothing to do")
    else:
        click.echo(f"{name}: a sync would")
    for step in plan.steps:
        where = f"{step.from_path} -> {step.path}" if step.from_path else step.path
        click.echo(f"  {_ACTIONS[step.action]:<16} {decimal(step.size):>10}  {where}")
    if plan.steps:
        click.echo(
            f"  total: {totals.uploads} uploads ({decimal(totals.upload_bytes)}), "
            f"{totals.downloads} downloads ({decimal(totals.download_bytes)}), "
            f"{totals.delete_local} deletes here, {totals.delete_remote} deletes in the cloud, "
            f"{totals.moves} moves, {totals.conflicts} conflicts"
        )
    if plan.guard is not None:
        click.echo(f"  {plan.guard.message}")
    click.echo("  (dry run: nothing was changed)")


@main.command()
@click.argument("project", required=False)
@_service_command
async def conflicts(service: ProjectFileBrowserService, project: str | None) -> None:
    """List open conflicts (of one project, or of every linked one)."""
    project_id = await _find_project(service, project) if project else None
    names = {p.id: p.name for p in await service.list_projects("local")}
    items = [c for c in service.conflicts(project_id) if not c.resolved]
    if not items:
        click.echo("no conflicts")
        return
    for c in items:
        click.echo(
            f"{names.get(c.project_id, c.project_id)}: {c.path} (the cloud's version) and "
            f"{c.conflict_path} (yours), since {c.detected_at:%Y-%m-%d %H:%M}"
        )
    click.echo("resolve one with `project-filebrowser resolve PATH --keep local|remote|both`")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--keep",
    type=click.Choice(["local", "remote", "both"]),
    required=True,
    help="local: your version (the conflict copy) takes the path; remote: the cloud's "
    "version stays and the copy goes; both: keep the two files.",
)
@_service_command
async def resolve(service: ProjectFileBrowserService, path: Path, keep: str) -> None:
    """Resolve the conflict of PATH (the file, or its conflict copy, on disk)."""

    project_id, rel = await _project_path(service, path)
    match = [
        c
        for c in service.conflicts(project_id)
        if not c.resolved and rel in (c.path, c.conflict_path)
    ]
    if not match:
        raise ServiceError(404, "not_found", f"{path} has no open conflict")
    conflict = await service.resolve_conflict(match[0].id, keep)
    await _sync_with_progress(service, [project_id])
    kept = {"local": "your version", "remote": "the cloud's version", "both": "both versions"}
    click.echo(f"resolved {conflict.path}: kept {kept[keep]}")


async def _project_path(service: ProjectFileBrowserService, path: Path) -> tuple[str, str]:
    """The linked project holding a file on disk, and the file's path inside it."""

    target = path.expanduser().absolute()
    root = Path(service.settings.root_dir)
    for project in await service.list_projects("local"):
        folder = (root / project.local_path).absolute()
        if folder in target.parents:
            return str(project.id), target.relative_to(folder).as_posix()
    raise ServiceError(404, "not_found", f"{path} is not inside a linked project")


@main.command()
@click.argument("project")
@click.option(
    "--conflicts",
    "policy",
    type=click.Choice(["keep-both", "newer", "local", "remote"]),
    default=None,
    help="What a conflict becomes: keep-both (a conflict copy, the default), or the newer, "
    "the local or the remote version wins (the other stays in the cloud's history).",
)
@_service_command
async def policy(service: ProjectFileBrowserService, project: str, policy: str | None) -> None:
    """Show or set a project's conflict policy."""
    project_id = await _find_project(service, project)
    described = (
        service.set_conflict_policy(project_id, policy)
        if policy
        else service.get_project(project_id)
    )
    click.echo(f"{described.name}: conflicts {described.conflict_policy}")


@main.command()
@_service_command
async def status(service: ProjectFileBrowserService) -> None:
    """What is pending, conflicted, failing, and which files are skipped (and why)."""
    items = await service.list_projects("local")
    if not items:
        click.echo("no projects linked here")
        return
    conflicts = service.conflicts()
    for p in items:
        files = await service.files(p.id)
        pending = [f for f in files if f.state in ("pending_push", "pending_pull")]
        line = f"{p.name}: {p.status}, {len(pending)} pending, {p.conflicts} conflicts"
        if p.error:
            line += f" - {p.error}"
        click.echo(line)
        for f in pending[:20]:
            click.echo(f"  {f.state:<13} {_printable(f.path)}")
        for c in conflicts:
            if c.project_id == p.id and not c.resolved:
                click.echo(f"  conflict      {c.path} (theirs kept; yours in {c.conflict_path})")
        for f in files:
            if f.state in ("skipped", "failed"):  # the rest syncs
                click.echo(f"  {f.state:<13} {_printable(f.path)}: {f.reason}")


def _printable(path: str) -> str:
    """A path on one line of a terminal: control characters as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in path)


if __name__ == "__main__":
    main()

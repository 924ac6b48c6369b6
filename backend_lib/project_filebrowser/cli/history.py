"""History: a file's revisions, restoring one, and checkpoints of a project."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from project_cloud.errors import ServiceError

from .app import main
from .common import find_project, printable, service_command, sync_with_progress
from .conflicts import _project_path as project_path

if TYPE_CHECKING:
    from ..schemas import FileVersion
    from ..service import ProjectFileBrowserService


def _when(stamp: str | None) -> str:
    if not stamp:
        return "-"
    try:
        return f"{datetime.fromisoformat(stamp):%Y-%m-%d %H:%M:%S}"
    except ValueError:
        return stamp


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@service_command
async def history(service: ProjectFileBrowserService, path: Path) -> None:
    """The revisions of PATH (a file on disk, in a linked project), newest first."""
    from ..services.compare import MAX_PAGE_SIZE  # lazy: the service's stack

    project_id, rel = await project_path(service, path)
    versions: list[FileVersion] = []
    token: str | None = None
    while True:
        page = await service.history(project_id, rel, limit=MAX_PAGE_SIZE, page_token=token)
        versions += page.items
        token = page.next_page_token
        if token is None:
            break
    rows = [("REVISION", "WHEN", "WHO", "SIZE", "DELETED")] + [
        (
            v.revision,
            _when(v.modified_at),
            v.modified_by or "-",
            "-" if v.deleted else str(v.size),
            "deleted" if v.deleted else "",
        )
        for v in versions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--revision",
    metavar="R",
    default=None,
    help="The revision to bring back (default: the newest that is not a deletion).",
)
@service_command
async def restore(service: ProjectFileBrowserService, path: Path, revision: str | None) -> None:
    """Make a revision of PATH its newest one, here and in the cloud (nothing is lost: edits
    not synced yet become a revision first, and the history keeps every one)."""
    project_id, rel = await project_path(service, path)
    head = await service.restore(project_id, rel, revision)
    await sync_with_progress(service, [project_id])
    click.echo(f"restored {printable(rel)}: revision {head.revision} ({head.size} bytes)")


@main.group()
def checkpoint() -> None:
    """Named states of a project: create, list, restore."""


async def _project(service: ProjectFileBrowserService, ref: str | None) -> str:
    """PROJECT (an id or a name); without it, the linked project the current folder is in,
    or the only linked one."""
    if ref:
        return await find_project(service, ref)
    here = Path.cwd().absolute()
    root = Path(service.settings.root_dir)
    linked = await service.list_projects("local")
    for project in linked:
        folder = (root / project.local_path).absolute()
        if folder == here or folder in here.parents:
            return str(project.id)
    if len(linked) == 1:
        return str(linked[0].id)
    raise ServiceError(400, "invalid_usage", "which project? give PROJECT (an id or a name)")


@checkpoint.command("create")
@click.argument("name")
@click.argument("project", required=False)
@service_command
async def checkpoint_create(
    service: ProjectFileBrowserService, name: str, project: str | None
) -> None:
    """A checkpoint NAME of PROJECT, after a sync (so the files here are in it)."""
    project_id = await _project(service, project)
    if not await sync_with_progress(service, [project_id]):
        raise ServiceError(409, "sync_failed", "the sync failed: no checkpoint was made")
    made = await service.create_checkpoint(project_id, name)
    click.echo(f"checkpoint {printable(made.name)}: {made.id}")


@checkpoint.command("list")
@click.argument("project", required=False)
@service_command
async def checkpoint_list(service: ProjectFileBrowserService, project: str | None) -> None:
    """The checkpoints of PROJECT, newest first."""
    items = await service.checkpoints(await _project(service, project))
    if not items:
        click.echo("no checkpoints")
        return
    for item in items:
        click.echo(f"{item.id}  {item.created_at:%Y-%m-%d %H:%M:%S}  {printable(item.name)}")


@checkpoint.command("restore")
@click.argument("checkpoint_id", metavar="ID")
@click.argument("project", required=False)
@service_command
async def checkpoint_restore(
    service: ProjectFileBrowserService, checkpoint_id: str, project: str | None
) -> None:
    """Make PROJECT what it was at checkpoint ID, here and in the cloud; a checkpoint of
    what it was before is made first, to undo it."""
    done = await service.restore_checkpoint(await _project(service, project), checkpoint_id)
    click.echo(f"restored checkpoint {printable(done.checkpoint.name)}")
    click.echo(
        f"undo: project-filebrowser checkpoint restore {done.undo.id}"
        f"  ({printable(done.undo.name)})"
    )

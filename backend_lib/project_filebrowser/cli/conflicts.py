"""Conflicts: list them, resolve one by its path on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from project_cloud.errors import ServiceError

from .app import main
from .common import find_project, service_command, sync_with_progress

if TYPE_CHECKING:
    from ..service import ProjectFileBrowserService


@main.command()
@click.argument("project", required=False)
@service_command
async def conflicts(service: ProjectFileBrowserService, project: str | None) -> None:
    """List open conflicts (of one project, or of every linked one)."""
    project_id = await find_project(service, project) if project else None
    names = {p.id: p.name for p in await service.list_projects("local")}
    items = [c for c in service.conflicts(project_id) if not c.resolved]
    if not items:
        click.echo("no conflicts")
        return
    for c in items:
        why = NOT_MERGED.get(c.reason or "")
        cells = ", ".join(str(cell.index + 1) for cell in c.cells)
        click.echo(
            f"{names.get(c.project_id, c.project_id)}: {c.path} (the cloud's version) and "
            f"{c.conflict_path} (yours), since {c.detected_at:%Y-%m-%d %H:%M}"
            + (f"; not merged: {why}" if why else "")
            + (f" (cells {cells})" if cells else "")
        )
    click.echo("resolve one with `project-filebrowser resolve PATH --keep local|remote|both`")


# Why a conflict's two versions were not merged (``Conflict.reason``), in words.
NOT_MERGED = {
    "overlap": "the same lines were changed differently on both sides",
    "delete_edit": "a cell was deleted on one side and edited on the other",
    "binary": "the file is not text",
    "unparsable": "one version is not a valid notebook",
    "too_large": "the file is too large to merge",
}


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--keep",
    type=click.Choice(["local", "remote", "both"]),
    required=True,
    help="local: your version (the conflict copy) takes the path; remote: the cloud's "
    "version stays and the copy goes; both: keep the two files.",
)
@service_command
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
    await sync_with_progress(service, [project_id])
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

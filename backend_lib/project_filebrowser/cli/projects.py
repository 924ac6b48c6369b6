"""Projects: log in, list, create, link, delete, unlink, their conflict policy and status."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import click

from project_cloud.errors import ServiceError

from .. import credentials
from .app import main
from .common import find_project, printable, run, service_command, sync_with_progress

if TYPE_CHECKING:
    from ..service import ProjectFileBrowserService


@main.command()
@click.argument("url")
@click.option("--token", default=None, help="An API token of the cloud.")
@click.option("--username", default=None)
@click.option("--password", default=None)
def login(url: str, token: str | None, username: str | None, password: str | None) -> None:
    """Store credentials for a cloud (readable by you alone)."""
    from ..remotes import RemoteError, open_remote  # lazy: httpx

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
        final, user = run(check())
    except RemoteError as exc:
        raise click.ClickException(f"login to {url} failed: {exc}") from exc
    path = credentials.save(
        credentials.Credentials(url=url.rstrip("/"), token=final, username=user)
    )
    click.echo(f"logged in to {url} as {user} (credentials in {path})")


@main.command()
@click.option("--cloud", "cloud", is_flag=True, help="List every project in the cloud.")
@service_command
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
@service_command
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
    await sync_with_progress(service, [project.id])
    click.echo(f"created {project.name} ({project.id}) at {project.local_path}")


@main.command()
@click.argument("project")
@click.argument("path", required=False)
@service_command
async def link(service: ProjectFileBrowserService, project: str, path: str | None) -> None:
    """Link an existing cloud project (id or name) into a folder and pull it."""
    project_id = await find_project(service, project, cloud=True)
    linked = await service.link(project_id, path)
    ok = await sync_with_progress(service, [linked.id])
    click.echo(f"linked {linked.name} ({linked.id}) at {linked.local_path}")
    if not ok:
        raise click.ClickException(f"the first sync of {linked.name} did not finish")


@main.command()
@click.argument("project")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@service_command
async def delete(service: ProjectFileBrowserService, project: str, yes: bool) -> None:
    """Delete a project from the cloud, for everyone (owner only); local files stay."""
    project_id = await find_project(service, project, cloud=True)
    cloud = next(p for p in await service.list_projects("cloud") if p.id == project_id)
    files = f"{cloud.file_count} file{'s' if cloud.file_count != 1 else ''}"
    question = f"Delete project {cloud.name} and its {files} from the cloud for everyone?"
    if not yes and not click.confirm(question, default=False):
        raise click.ClickException("nothing deleted")
    await service.delete_project(project_id)
    click.echo(f"deleted {cloud.name} ({project_id}) and its {files} from the cloud")


@main.command()
@click.argument("project")
@service_command
async def unlink(service: ProjectFileBrowserService, project: str) -> None:
    """Stop syncing a project; its files stay."""
    project_id = await find_project(service, project)
    described = service.get_project(project_id)
    service.unlink(project_id)
    click.echo(f"unlinked {described.name}; its files stay in {described.local_path}")


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
@service_command
async def policy(service: ProjectFileBrowserService, project: str, policy: str | None) -> None:
    """Show or set a project's conflict policy."""
    project_id = await find_project(service, project)
    described = (
        service.set_conflict_policy(project_id, policy)
        if policy
        else service.get_project(project_id)
    )
    click.echo(f"{described.name}: conflicts {described.conflict_policy}")


@main.command()
@service_command
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
            click.echo(f"  {f.state:<13} {printable(f.path)}")
        for c in conflicts:
            if c.project_id == p.id and not c.resolved:
                click.echo(f"  conflict      {c.path} (theirs kept; yours in {c.conflict_path})")
        for f in files:
            if f.state in ("skipped", "failed"):  # the rest syncs
                click.echo(f"  {f.state:<13} {printable(f.path)}: {f.reason}")

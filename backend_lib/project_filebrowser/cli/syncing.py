"""``project-filebrowser sync``: once, watching, a dry run; the no-op fast path first."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import credentials
from ..store.location import resolve_db_url
from .app import db_option, main, root_option
from .common import find_project, service_command, sync_with_progress

if TYPE_CHECKING:
    from ..schemas import SyncPlan
    from ..service import ProjectFileBrowserService


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
@click.option(
    "--no-merge",
    is_flag=True,
    help="Do not merge edits made on both sides in this run: keep both versions as a "
    "conflict copy (default: the merge_notebooks and merge_text settings).",
)
@db_option
@root_option
def sync(
    project: str | None,
    watch: bool,
    dry_run: bool,
    confirm_deletes: bool,
    max_delete: tuple[float | None, int | None] | None,
    no_merge: bool,
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
        from ..sync.quick import up_to_date  # lazy: sqlite3 and the fast path's client

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
        no_merge=no_merge,
    )


@service_command
async def _sync(
    service: ProjectFileBrowserService,
    project: str | None,
    watch: bool,
    dry_run: bool,
    confirm_deletes: bool,
    limits: dict[str, Any],
) -> None:
    if project:
        ids = [await find_project(service, project)]
    else:
        ids = [p.id for p in await service.list_projects("local")]
        if not ids:
            raise click.ClickException("no projects linked here; see `project-filebrowser link`")
    if dry_run:
        for pid in ids:
            _print_plan(service.get_project(pid).name, await service.preview(pid, **limits))
        return
    ok = await sync_with_progress(service, ids, confirm_deletes=confirm_deletes, **limits)
    if watch:
        import asyncio  # lazy: see run

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

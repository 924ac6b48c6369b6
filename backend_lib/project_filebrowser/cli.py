"""The ``project-filebrowser`` command.

Exit status: 0 on success, 1 on a failure explained in one line, 2 on bad usage.
"""

from __future__ import annotations

import click

from ._version import __version__
from .store.engine import redact_url, resolve_db_url
from .store.migrate import MigrationError, current_revision, head_revision, upgrade

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="State DB URL (default: the extension's db_url, so the CLI and JupyterLab share state).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="project-filebrowser")
def main() -> None:
    """Keep Jupyter project folders in two-way sync with a Projects cloud."""


@main.group()
def db() -> None:
    """The local state DB: migrate it, show its revision."""


@db.command("upgrade")
@db_option
@click.option("--no-backup", is_flag=True, help="Do not copy the SQLite file aside first.")
def db_upgrade(db_url: str | None, no_backup: bool) -> None:
    """Migrate the local state DB to the newest schema."""
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
    url = resolve_db_url(db_url)
    try:
        revision = current_revision(url)
    except Exception as exc:  # any driver error: say it in one line
        raise click.ClickException(f"cannot read {redact_url(url)}: {exc}") from exc
    head = head_revision()
    marker = " (head)" if revision == head else f" (head is {head})"
    click.echo(f"{revision or 'none'}{marker}")


def _attach_cloud() -> None:
    try:
        from project_cloud.cli import cloud
    except ImportError:  # the cloud service is optional at import time during development
        return
    main.add_command(cloud)


_attach_cloud()


if __name__ == "__main__":
    main()

"""``project-filebrowser db``: migrate the local state DB, show its revision."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..store.location import resolve_db_url
from .app import db_option, main

if TYPE_CHECKING:
    pass


@main.group()
def db() -> None:
    """The local state DB: migrate it, show its revision."""


@db.command("upgrade")
@db_option
@click.option("--no-backup", is_flag=True, help="Do not copy the SQLite file aside first.")
def db_upgrade(db_url: str | None, no_backup: bool) -> None:
    """Migrate the local state DB to the newest schema."""
    from ..store.engine import redact_url  # lazy: SQLAlchemy
    from ..store.migrate import MigrationError, upgrade  # lazy: alembic

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
    from ..store.engine import redact_url  # lazy: SQLAlchemy
    from ..store.migrate import current_revision, head_revision  # lazy: alembic

    url = resolve_db_url(db_url)
    try:
        revision = current_revision(url)
    except Exception as exc:  # any driver error: say it in one line
        raise click.ClickException(f"cannot read {redact_url(url)}: {exc}") from exc
    head = head_revision()
    marker = " (head)" if revision == head else f" (head is {head})"
    click.echo(f"{revision or 'none'}{marker}")

"""The ``project-filebrowser`` group, its shared options, and the ``cloud`` commands loaded
only when used."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from .._version import __version__
from ..store.location import default_cloud_dir

if TYPE_CHECKING:
    pass


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
